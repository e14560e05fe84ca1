#!/usr/bin/env bash
# Build the documentation with warnings as errors and run its doctests.
set -euo pipefail
python -m pip install -q -e ".[docs]"
sphinx-build -q -W --keep-going -b html docs docs/_build/html
sphinx-build -q -W --keep-going -b doctest docs docs/_build/doctest
