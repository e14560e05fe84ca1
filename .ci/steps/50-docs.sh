#!/usr/bin/env bash
# The documentation, built by the README's docs command (warnings as errors; MathJax comes
# from the docs extra, so the equations render offline), its doctests, and, where Chromium is
# installed, the pages as a browser lays them out (equations typeset, nothing wider than its
# column, no request leaving the machine).
set -euo pipefail
docs_cmd=$(awk '/<!-- docs-command -->/{getline; getline; print; exit}' README.md)
[ -n "$docs_cmd" ] || { echo "README.md has no docs command"; exit 1; }
echo "\$ $docs_cmd"
mkdir -p docs/_build
bash -c "$docs_cmd" > docs/_build/build.log 2>&1 || { cat docs/_build/build.log; exit 1; }
tail -n 2 docs/_build/build.log
python -m sphinx -q -W --keep-going -b doctest docs docs/_build/doctest
python docs/check_pages.py docs/_build/html > docs/_build/check_pages.log \
  || { cat docs/_build/check_pages.log; exit 1; }
tail -n 1 docs/_build/check_pages.log
