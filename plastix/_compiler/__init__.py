"""The compiler (placeholder facade, being restructured)."""

from .lower import CACHE, CompiledStep, compile_phase, lower_phase, update_constants

__all__ = ["CACHE", "CompiledStep", "compile_phase", "lower_phase", "update_constants"]
