r"""Dense plastic layers: :class:`PlasticLinear` and :class:`PlasticRecurrent`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from plastix._errors import StepInputError

from ._module import PlasticModule, as_spikes

TIMINGS = ("delayed", "simultaneous")


class PlasticLinear(PlasticModule):
    r"""A linear layer (:math:`y = x W^T + b`) whose weight is learned by a plastix rule.

    A time step is two calls::

        current = layer(pre_spikes)    # forward: pre @ W.T (+ bias), remembers pre_spikes
        post_spikes = neurons(current) # any neuron model: norse, snnTorch, SpikingJelly
        layer.learn(post_spikes)       # the rule's step on (the last forward's pre, post)

    ``rule``: a registered rule name or alias operating on a dense ``(out, in)`` weight;
    ``batch_size``: only the first guess: the batch size is taken from the first ``learn``
    after the layer was made or :meth:`reset` (a smaller last batch of a data set just works);
    a batch change in the middle of a sequence is a :class:`plastix.StepInputError` naming
    both sizes. ``bias``: add a (not plastic) bias, initialised to 0; ``mask``: a fixed 0/1
    structure of the weight's shape (masked synapses stay 0; a buffer ``mask``);
    ``grad_mode``: write :math:`-\Delta w` into ``weight.grad`` instead of applying
    :math:`\Delta w` (see below); ``dt``: time step in ms; ``seed``: the rule's random seed;
    ``device``/``dtype``: where the weight lives (default: CPU and the rule's first dtype,
    float32 for most). Every other keyword is a hyperparameter of the rule.

    The weight starts uniform between the rule's bounds (``w_min``/``w_max`` or ``wmax``
    when finite, else between 0 and 1); overwrite ``layer.weight`` in place under
    ``torch.no_grad()`` to start elsewhere.

    **Grad mode.** Each :meth:`learn` accumulates :math:`-\Delta w` into ``weight.grad``
    (as ``backward`` accumulates), and the rule adds a zero change. The rule's ops after its
    weight change still run on the unchanged weight: a clamp is then a no-op while the weight
    is in bounds, but a normalisation (SPAIC's row norm in ``nearest_online_stdp`` and
    ``full_online_stdp``) renormalises the weight every step. Call :meth:`apply_bounds`
    after ``optimizer.step()`` to clamp the weight to the rule's bounds.
    """

    def __init__(self, in_features: int, out_features: int,
                 rule: str = "nearest_online_stdp", *, batch_size: int = 1, bias: bool = False,
                 mask: Any = None, grad_mode: bool = False, dt: float = 1.0, seed: int = 0,
                 device: Any = None, dtype: Any = None, **hyperparameters: Any) -> None:
        super().__init__()
        _, torch_dtype = self._setup(rule, batch_size=batch_size, grad_mode=grad_mode, dt=dt,
                                     seed=seed, dtype=dtype, hyperparameters=hyperparameters)
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            _check_size(self.rule, name, value)
        self.in_features, self.out_features = in_features, out_features
        self._init_weight((out_features, in_features), torch_dtype, device,
                          out_features if bias else None)
        self._core.mask = _mask(self.rule, mask, (out_features, in_features))
        self._core.binding(self.weight)

    def forward(self, pre_spikes: torch.Tensor) -> torch.Tensor:
        """The synaptic current ``pre_spikes @ weight.T (+ bias)`` of a ``(batch,
        in_features)`` (or ``(in_features,)``) input, which is kept (detached) for the next
        :meth:`learn`; a bad input raises and the kept one stays."""
        x = as_spikes(pre_spikes, self.rule, "pre_spikes", (self.in_features,))
        out = nn.functional.linear(x.to(self.weight.dtype), self.weight, self.bias)
        self._last_pre = x
        return out if _batched(pre_spikes) else out[0]

    def learn(self, post_spikes: torch.Tensor, pre_spikes: torch.Tensor | None = None,
              **signals: Any) -> None:
        """One step of the rule on the last forward's input (or ``pre_spikes``) and
        ``post_spikes`` (``(batch, out_features)``); ``signals`` are the rule's extra
        inputs such as ``reward``. Updates ``weight`` in place, or in grad mode adds
        :math:`-\\Delta w` to ``weight.grad``."""
        pre = self._last_pre if pre_spikes is None else \
            as_spikes(pre_spikes, self.rule, "pre_spikes", (self.in_features,))
        if pre is None:
            raise StepInputError(self.rule, "pre_spikes", "a forward() before learn() or "
                                 "pre_spikes given", "neither")
        post = as_spikes(post_spikes, self.rule, "post_spikes", (self.out_features,))
        self._learn(pre, post, signals)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"rule={self.rule!r}, bias={self.bias is not None}, grad_mode={self.grad_mode}")


class PlasticRecurrent(PlasticModule):
    r"""Plastic recurrent or lateral connections of a population of ``n`` neurons to itself.

    The weight :math:`W` is ``(n, n)``, :math:`W_{ij}` the synapse from neuron :math:`j` to
    neuron :math:`i`. A time step :math:`t` is::

        current = rec(z_prev)          # W z(t-1): the spikes of the previous step
        z = neurons(ff_current + current)
        rec.learn(z)                   # the rule's step for this step's spikes z(t)

    with ``z_prev`` zeros at the first step of a sequence. What the rule sees as pre and post
    spikes depends on ``timing``:

    * ``"delayed"`` (default): :math:`pre(t) = z(t-1)`, :math:`post(t) = z(t)`: the spikes
      that travelled the recurrent synapses in step :math:`t` are the previous step's, so a
      spike of :math:`j` at :math:`t-1` followed by one of :math:`i` at :math:`t` is a
      pre-before-post pair for :math:`W_{ij}`. This step's post spikes are the next step's
      pre spikes, as BindsNET's and Brian2's one-step synaptic delay.
    * ``"simultaneous"``: :math:`pre(t) = post(t) = z(t)`: the same spikes are pre and post
      (a lateral connection learned on co-activity, as in Földiák's anti-Hebbian lateral
      weights); the current still comes from :math:`z(t-1)`.

    ``self_connections=False`` (default) masks the diagonal (no synapse of a neuron onto
    itself); ``mask``: a further fixed 0/1 structure ``(n, n)``, combined with it. Masked
    synapses stay 0 (the buffer ``mask``). The other arguments are those of
    :class:`PlasticLinear`.
    """

    def __init__(self, n: int, rule: str = "nearest_online_stdp", *, timing: str = "delayed",
                 self_connections: bool = False, mask: Any = None, batch_size: int = 1,
                 grad_mode: bool = False, dt: float = 1.0, seed: int = 0, device: Any = None,
                 dtype: Any = None, **hyperparameters: Any) -> None:
        super().__init__()
        _, torch_dtype = self._setup(rule, batch_size=batch_size, grad_mode=grad_mode, dt=dt,
                                     seed=seed, dtype=dtype, hyperparameters=hyperparameters)
        _check_size(self.rule, "n", n)
        if timing not in TIMINGS:
            raise StepInputError(self.rule, "timing", f"one of {list(TIMINGS)}", repr(timing))
        self.n, self.timing = n, timing
        self.self_connections = bool(self_connections)
        self._init_weight((n, n), torch_dtype, device, None)
        structure = _mask(self.rule, mask, (n, n))
        if not self.self_connections:
            off_diagonal = 1.0 - torch.eye(n, dtype=torch.float64)
            structure = off_diagonal if structure is None else structure * off_diagonal
        self._core.mask = structure
        self._core.binding(self.weight)

    def forward(self, previous_spikes: torch.Tensor) -> torch.Tensor:
        """The recurrent current :math:`W z(t-1)` of the previous step's spikes ``(batch,
        n)``, which are kept (detached) as the next :meth:`learn`'s pre spikes in delayed
        timing; a bad input raises and the kept one stays."""
        x = as_spikes(previous_spikes, self.rule, "previous_spikes", (self.n,))
        out = nn.functional.linear(x.to(self.weight.dtype), self.weight)
        self._last_pre = x
        return out if _batched(previous_spikes) else out[0]

    def learn(self, spikes: torch.Tensor, **signals: Any) -> None:
        """One step of the rule for this step's ``spikes`` ``(batch, n)`` (see ``timing``)."""
        z = as_spikes(spikes, self.rule, "spikes", (self.n,))
        if self.timing == "simultaneous":
            pre = z
        else:
            pre = self._last_pre
            if pre is None:
                raise StepInputError(self.rule, "previous_spikes", "a forward() with the "
                                     "previous step's spikes before learn() (zeros at the "
                                     "first step)", "none since the last reset")
        self._learn(pre, z, signals)

    def extra_repr(self) -> str:
        return (f"n={self.n}, rule={self.rule!r}, timing={self.timing!r}, "
                f"self_connections={self.self_connections}, grad_mode={self.grad_mode}")


def _batched(x: Any) -> bool:
    """Whether an input that passed :func:`as_spikes` had its batch axis."""
    return len(getattr(x, "shape", None) or np.shape(x)) > 1


def _check_size(rule: str, name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise StepInputError(rule, name, "a positive int", repr(value))


def _mask(rule: str, mask: Any, shape: tuple[int, ...]) -> torch.Tensor | None:
    """A user's 0/1 mask as a float64 tensor of ``shape``, or None."""
    if mask is None:
        return None
    m = torch.as_tensor(mask).detach().to("cpu", torch.float64)
    if tuple(m.shape) != shape or not bool(((m == 0) | (m == 1)).all()):
        raise StepInputError(rule, "mask", f"0/1 values of shape {shape}",
                             f"shape {tuple(m.shape)}")
    return m
