#!/usr/bin/env bash
# Install the example plugin and the deliberately broken test plugins the way a user installs
# a plugin (pip install of its folder), so that tests/test_plugins.py finds them through their
# `plastix` entry points; then run the example plugin's own tests.
set -euo pipefail
flags=(--quiet --no-deps)
# Build with the environment's setuptools when it can build wheels (>= 68, with bdist_wheel);
# otherwise let pip fetch a build backend as it did for plastix itself.
if python - 2>/dev/null <<'PY'
import importlib.util
import setuptools
new_enough = int(setuptools.__version__.split(".")[0]) >= 68
wheels = any(importlib.util.find_spec(m) for m in ("setuptools.command.bdist_wheel", "wheel"))
raise SystemExit(0 if new_enough and wheels else 1)
PY
then
  flags+=(--no-build-isolation)
fi
python -m pip install "${flags[@]}" examples/plastix-plugin-example tests/plugins/*/
plastix plugins
python -m pytest -q -p no:cacheprovider examples/plastix-plugin-example
