#!/usr/bin/env bash
# Smoke run of the backend benchmark: NumPy and PyTorch CPU steps of nearest_online_stdp.
set -euo pipefail
python benchmarks/backends_quick.py --quick --threads 1
