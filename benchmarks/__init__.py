"""Benchmarks of plastix's compiled steps (``python -m benchmarks``; ``--quick`` for CI).

Never run as tests: timings depend on the machine and its load. See ``docs/benchmarks.md``.
"""
