"""The applications: the ``plastix`` command line (:mod:`.cli`: its argument types
:mod:`.args`, the listings :mod:`.show` rendered for a terminal by :mod:`.terminal` and
:mod:`.latex`, the ``run`` command :mod:`.run` and its report :mod:`.run_report`) and the
demo (:mod:`.demo`, its command :mod:`.demo_cli` and its figure :mod:`.demo_plot`).

May import everything below it: the runtime, the registry, ``plastix.network``. Nothing
imports the applications but the console script and ``python -m plastix``.
"""
