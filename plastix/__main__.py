"""``python -m plastix``: the ``plastix`` command (:mod:`plastix._apps.cli`)."""

from __future__ import annotations

import sys

from plastix._apps.cli import main

sys.exit(main())
