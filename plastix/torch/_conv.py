r"""A plastic 2-d convolution: :class:`PlasticConv2d`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from plastix._errors import HyperparameterError, StepInputError
from plastix._runtime.learner import find_rule

from ._module import PlasticModule, as_spikes

GEOMETRY = ("stride", "padding", "dilation")


class PlasticConv2d(PlasticModule):
    r"""A 2-d convolution (as ``torch.nn.Conv2d``, one group) whose kernel is learned by a
    plastix rule with a convolution layout (``norse_stdp_conv2d`` among the built-in ones).

    ``forward`` is the convolution of the input spikes ``(batch, in_channels, H, W)`` with
    the kernel ``weight`` ``(out_channels, in_channels, kh, kw)`` (plus an optional, not
    plastic, bias), and remembers the input; ``learn(post_spikes)`` with the spikes of the
    neurons the output drove, ``(batch, out_channels, H', W')``, runs one step of the rule,
    exactly as ``learner.bind(weight, pre_shape=(in_channels, H, W))`` steps it.
    ``stride``, ``padding`` and ``dilation`` (an int, or a pair of equal ints) are the
    convolution's and the rule's (its hyperparameters of those names). The input size
    ``H, W`` and the batch size are taken from the first ``learn`` after the layer was made
    or :meth:`reset`; between two resets both are fixed. Grad mode, masks aside, and every
    other argument are those of :class:`PlasticLinear`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, *, rule: str = "norse_stdp_conv2d",
                 batch_size: int = 1, bias: bool = False, grad_mode: bool = False,
                 dt: float = 1.0, seed: int = 0, device: Any = None, dtype: Any = None,
                 **hyperparameters: Any) -> None:
        super().__init__()
        rule_cls = find_rule(rule)
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise StepInputError(rule_cls.name, name, "a positive int", repr(value))
        kernel = _pair(rule_cls.name, "kernel_size", kernel_size, low=1, equal=False)
        given = {"stride": stride, "padding": padding, "dilation": dilation}
        geometry: dict[str, int] = {}
        fields = {f.name for f in rule_cls.param_fields()}
        for name, option in given.items():
            v = _pair(rule_cls.name, name, option, low=0 if name == "padding" else 1)[0]
            if name in fields:
                hyperparameters[name] = v
            elif v != (0 if name == "padding" else 1):
                raise HyperparameterError(rule_cls.name, name, f"the rule has no {name}; "
                                          "choose a rule with a convolution layout")
            geometry[name] = v
        learner, torch_dtype = self._setup(rule, batch_size=batch_size, grad_mode=grad_mode,
                                           dt=dt, seed=seed, dtype=dtype,
                                           hyperparameters=hyperparameters)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.stride, self.padding, self.dilation = (geometry[k] for k in GEOMETRY)
        shape = (out_channels, in_channels, *kernel)
        _check_conv_layout(learner, shape, self.dilation)
        self._init_weight(shape, torch_dtype, device, out_channels if bias else None)
        self._core.shape_options = {"pre_shape": probe_size(shape, self.dilation)}
        self._core.binding(self.weight, **self._core.shape_options)  # until the first input

    def _shape_options(self, pre: Any) -> dict[str, Any]:
        return {"pre_shape": tuple(int(n) for n in pre.shape[1:])}

    def forward(self, pre_spikes: torch.Tensor) -> torch.Tensor:
        """The convolution of ``pre_spikes`` ``(batch, in_channels, H, W)`` (or without the
        batch axis), which are kept (detached) for the next :meth:`learn`; a bad input
        raises and the kept one stays."""
        x = self._input(pre_spikes)
        out = nn.functional.conv2d(x.to(self.weight.dtype), self.weight, self.bias,
                                   self.stride, self.padding, self.dilation)
        self._last_pre = x
        return out if pre_spikes.ndim == 4 else out[0]

    def _input(self, x: Any) -> torch.Tensor:
        shape = tuple(getattr(x, "shape", ()))
        if len(shape) not in (3, 4) or shape[-3] != self.in_channels:
            raise StepInputError(self.rule, "pre_spikes", f"shape (batch, {self.in_channels}, "
                                 "H, W) or (in_channels, H, W)", f"shape {shape}")
        return as_spikes(x, self.rule, "pre_spikes", tuple(shape[-3:]))

    def learn(self, post_spikes: torch.Tensor, pre_spikes: torch.Tensor | None = None,
              **signals: Any) -> None:
        """One step of the rule on the last forward's input (or ``pre_spikes``) and
        ``post_spikes`` ``(batch, out_channels, H', W')``; ``signals`` such as ``reward``.
        Updates ``weight`` in place, or in grad mode adds :math:`-\\Delta w` to its grad."""
        pre = self._last_pre if pre_spikes is None else self._input(pre_spikes)
        if pre is None:
            raise StepInputError(self.rule, "pre_spikes", "a forward() before learn() or "
                                 "pre_spikes given", "neither")
        post = post_spikes.detach() if isinstance(post_spikes, torch.Tensor) else post_spikes
        self._learn(pre, post, signals)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"rule={self.rule!r}, bias={self.bias is not None}, grad_mode={self.grad_mode}")


def _pair(rule: str, name: str, value: Any, *, low: int, equal: bool = True) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(pair, tuple | list) and len(pair) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= low for v in pair)
    if not ok or (equal and pair[0] != pair[1]):
        what = "an int" if equal else "an int or a pair of ints"
        extra = " (or a pair of equal ones: the rule takes one value for both axes)" \
            if equal else ""
        raise HyperparameterError(rule, name, f"{what} >= {low}{extra}, got {value!r}")
    return int(pair[0]), int(pair[1])


def probe_size(shape: tuple[int, ...], dilation: int) -> tuple[int, ...]:
    """The smallest input (C_in, H, W) a kernel of ``shape`` fits at any stride and padding."""
    return (shape[1], *(dilation * (k - 1) + 1 for k in shape[2:]))


def conv_layout_problem(learner: Any, shape: tuple[int, ...], dilation: int) -> str | None:
    """Why the rule of ``learner`` cannot learn a kernel of ``shape``, or None."""
    probe = probe_size(shape, dilation)
    try:
        learner.rule_cls.spike_shapes(shape, 1, learner.params, pre_shape=probe)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def _check_conv_layout(learner: Any, shape: tuple[int, ...], dilation: int) -> None:
    problem = conv_layout_problem(learner, shape, dilation)
    if problem is not None:
        raise HyperparameterError(learner.name, "rule", f"a rule with a convolution layout "
                                  f"(such as norse_stdp_conv2d); this one needs {problem}")


def geometry_of(conv: nn.Conv2d) -> dict[str, int]:
    """The stride, padding and dilation of a ``torch.nn.Conv2d`` as a rule's ints."""
    rule = "attach"
    if conv.groups != 1 or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise HyperparameterError(rule, "synapse", "a Conv2d with groups=1 and numeric zero "
                                  f"padding, got groups={conv.groups}, padding="
                                  f"{conv.padding!r}, padding_mode={conv.padding_mode!r}")
    return {name: _pair(rule, name, tuple(getattr(conv, name)),
                        low=0 if name == "padding" else 1)[0] for name in GEOMETRY}


