"""A plastix plugin that fails on import, as one with a missing dependency would."""

raise RuntimeError("plastix-broken-import fails on import on purpose")
