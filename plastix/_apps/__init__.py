"""The applications."""
