"""Sphinx configuration for the plastix documentation."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

project = "plastix"
author = "the plastix developers"
copyright = "2026, the plastix developers"  # noqa: A001
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "myst_parser",
    "plastix_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath"]
exclude_patterns = ["_build", "README.md"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
html_static_path = ["_static"]
# A local MathJax (for offline viewing) may be given with PLASTIX_MATHJAX=path/to/tex-chtml.js
if os.environ.get("PLASTIX_MATHJAX"):
    mathjax_path = os.environ["PLASTIX_MATHJAX"]
nitpicky = False
suppress_warnings = ["myst.header"]
