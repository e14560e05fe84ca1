"""Sphinx configuration for the plastix documentation.

The site builds with warnings as errors (``-W``) from a checkout with ``pip install -e
".[docs]"``, offline: MathJax comes from the ``sphinx-mathjax-offline`` package (a copy is
put into the site, so pages render their equations without a network), and without PyTorch
the :mod:`plastix.torch` reference is read with torch mocked and its examples are skipped
(CI builds with the CPU build of torch, so there every example runs).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

project = "plastix"
author = "the plastix developers"
copyright = "2026, the plastix developers"
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
# a text column of about 100 characters of code (see _static/plastix.css)
html_theme_options = {"page_width": "1180px", "sidebar_width": "230px", "body_max_width": "900px"}
html_static_path = ["_static"]
html_css_files = ["plastix.css"]
nitpicky = False
suppress_warnings = ["myst.header"]


def _local_mathjax() -> tuple[str, str | None]:
    """MathJax's script path in the site and the folder to copy there (None: nothing to
    copy). ``PLASTIX_MATHJAX`` may name another copy (a path or URL of ``tex-chtml.js``)."""
    if os.environ.get("PLASTIX_MATHJAX"):
        return os.environ["PLASTIX_MATHJAX"], None
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("the documentation typesets its equations with a local MathJax: "
                           "python -m pip install -e \".[docs]\" installs it "
                           "(sphinx-mathjax-offline)")
    return "mathjax/tex-chtml.js", str(Path(spec.origin).parent / "static")


mathjax_path, _mathjax_folder = _local_mathjax()
if _mathjax_folder is not None:
    html_static_path.append(_mathjax_folder)

HAVE_TORCH = importlib.util.find_spec("torch") is not None
if not HAVE_TORCH:  # the plastix.torch page documents the module from its source
    autodoc_mock_imports = ["torch"]
    # and the docstrings' examples (plastix.torch's need torch) are not run as doctests;
    # the ``.. doctest::`` blocks still are, those of the torch page skip themselves
    doctest_test_doctest_blocks = ""
doctest_global_setup = ("import importlib.util\n"
                        "HAVE_TORCH = importlib.util.find_spec('torch') is not None")
