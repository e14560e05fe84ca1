"""The applications: the ``plastix`` command line (:mod:`.cli`) and the demo (:mod:`.demo`,
its command :mod:`.demo_cli` and its figure :mod:`.demo_plot`).

May import everything below it: the runtime, the registry, ``plastix.network``. Nothing
imports the applications but the console script.
"""
