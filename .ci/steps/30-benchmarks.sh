#!/usr/bin/env bash
# The benchmarks in quick mode: checks that they run (timings on CI mean nothing).
set -euo pipefail
timeout 120 python -m benchmarks --quick
