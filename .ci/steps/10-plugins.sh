#!/usr/bin/env bash
# Install the example plugin and the deliberately broken test plugins the way a user installs
# a plugin (pip install of its folder), so that tests/test_plugins.py finds them through their
# `plastix` entry points; then run the example plugin's own tests.
set -euo pipefail
flags=(--quiet --no-deps)
if python -c "import setuptools" 2>/dev/null; then
  flags+=(--no-build-isolation)  # build with the environment's setuptools, no download
fi
python -m pip install "${flags[@]}" examples/plastix-plugin-example tests/plugins/*/
plastix plugins
python -m pytest -q -p no:cacheprovider examples/plastix-plugin-example
