#!/usr/bin/env bash
# The data-parallel example under torchrun: 2 processes over loopback, a short run, bounded.
set -euo pipefail
export GLOO_SOCKET_IFNAME=lo
timeout 300 torchrun --standalone --nproc_per_node=2 examples/distributed_digits.py --quick
timeout 300 torchrun --standalone --nproc_per_node=2 benchmarks/distributed_allreduce.py --quick
