r"""A plastix rule on someone else's layer: :func:`attach` and :class:`PlasticityHook`.

SpikingJelly's ``learning.STDPLearner(step_mode, synapse, sn, ...)`` watches a synapse
(``Linear`` or ``Conv2d``) and the spiking neurons after it with forward hooks and turns what
it saw into a weight update when its ``step`` is called. :func:`attach` does the same with
any plastix rule: the synapse's input and the neurons' output spikes are recorded at every
forward call (detached), and :meth:`PlasticityHook.step` runs the rule once per recorded time
step, in order, on the synapse's own weight (in place, or into ``weight.grad`` in grad mode).
The network's code does not change; :meth:`PlasticityHook.detach` removes the hooks.

Differences from SpikingJelly's learner, on purpose: the rule is any registered plastix rule
with its own traces and hyperparameters (not SpikingJelly's trace with ``f_pre``/``f_post``);
in plain mode each recorded step changes the weight before the next one is learned, as the
rule's binding does (SpikingJelly's ``step`` sums every record's change at the fixed weight
and returns it or writes it to the gradient, which is what grad mode here does: each step's
:math:`-\Delta w` at the unchanged weight is added to ``weight.grad``); convolutions with any
dilation are learned when the rule supports it (SpikingJelly: dilation 1 only).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from plastix._errors import HyperparameterError, StepInputError
from plastix._runtime.binding import Binding
from plastix._runtime.learner import find_rule

from ._conv import conv_layout_problem, geometry_of, probe_size
from ._core import PlasticCore, learner_for

STEP_MODES = ("s", "m")


def attach(synapse: nn.Module, neuron: nn.Module, rule: str | None = None, *,
           grad_mode: bool = False, step_mode: str = "s", dt: float = 1.0, seed: int = 0,
           **hyperparameters: Any) -> PlasticityHook:
    """Put ``rule`` on ``synapse`` (a ``torch.nn.Linear`` or ``torch.nn.Conv2d``, or a
    subclass such as SpikingJelly's ``layer.Linear``), learning from its input spikes and
    the output spikes of ``neuron`` (any module: norse's ``LIFCell``, snnTorch's ``Leaky``,
    SpikingJelly's ``LIFNode``; of a tuple output the first item is taken as the spikes).

    ``rule`` defaults to ``norse_stdp`` for a linear synapse and ``norse_stdp_conv2d`` for a
    convolution (whose stride, padding and dilation become the rule's); ``step_mode``:
    ``"s"`` when each forward call is one time step, ``"m"`` when it gets a whole sequence,
    time first (SpikingJelly's multi-step mode); ``grad_mode``: add :math:`-\\Delta w` to
    ``synapse.weight.grad`` instead of changing the weight; every other keyword is a
    hyperparameter of the rule. See :class:`PlasticityHook` for the calls.
    """
    return PlasticityHook(synapse, neuron, rule, grad_mode=grad_mode, step_mode=step_mode,
                          dt=dt, seed=seed, **hyperparameters)


class PlasticityHook:
    """A rule attached to a layer by :func:`attach`.

    >>> import torch
    >>> from plastix.torch import attach
    >>> fc = torch.nn.Linear(3, 2, bias=False)
    >>> neurons = torch.nn.Threshold(0.5, 0.0)   # stands for any spiking neuron module
    >>> hook = attach(fc, neurons, "norse_stdp", eta_plus=0.1, eta_minus=0.0)
    >>> with torch.no_grad():
    ...     _ = fc.weight.fill_(0.5)
    >>> z = neurons(fc(torch.ones(1, 3)) - 0.5)   # one time step: the network's own code
    >>> hook.step()                               # learn from what was recorded
    1
    >>> fc.weight[0]                              # 0.5 + 0.1 * 0.02 (post and pre traces)
    tensor([0.5020, 0.5020, 0.5020], grad_fn=<SelectBackward0>)
    >>> hook.detach()
    """

    def __init__(self, synapse: nn.Module, neuron: nn.Module, rule: str | None = None, *,
                 grad_mode: bool = False, step_mode: str = "s", dt: float = 1.0,
                 seed: int = 0, **hyperparameters: Any) -> None:
        conv = isinstance(synapse, nn.Conv2d)
        if not (conv or isinstance(synapse, nn.Linear)):
            raise StepInputError(rule or "attach", "synapse", "a torch.nn.Linear or "
                                 "torch.nn.Conv2d", type(synapse).__name__)
        if not isinstance(neuron, nn.Module):
            raise StepInputError(rule or "attach", "neuron", "a torch.nn.Module",
                                 type(neuron).__name__)
        rule_cls = find_rule(rule or ("norse_stdp_conv2d" if conv else "norse_stdp"))
        if step_mode not in STEP_MODES:
            raise StepInputError(rule_cls.name, "step_mode", f"one of {list(STEP_MODES)}",
                                 repr(step_mode))
        weight: torch.Tensor = synapse.weight  # type: ignore[assignment]
        if conv:
            fields = {f.name for f in rule_cls.param_fields()}
            for name, value in geometry_of(synapse).items():  # type: ignore[arg-type]
                if name in fields:
                    hyperparameters[name] = value
                elif value != (0 if name == "padding" else 1):
                    raise HyperparameterError(rule_cls.name, name, "the rule has no "
                                              f"{name}; choose a rule with a convolution "
                                              "layout")
        learner = learner_for(rule_cls.name, hyperparameters, seed, weight.dtype,
                              weight.device)
        if conv:
            problem = conv_layout_problem(learner, tuple(weight.shape), 1)
            if problem is not None:
                raise HyperparameterError(learner.name, "rule", "a rule with a convolution "
                                          f"layout (such as norse_stdp_conv2d): {problem}")
        self.rule, self.synapse, self.neuron = learner.name, synapse, neuron
        self.step_mode, self.grad_mode, self._conv = step_mode, bool(grad_mode), conv
        self._core = PlasticCore(self.rule, dataclasses.asdict(learner.params), seed=seed,
                                 dt=dt, grad_mode=grad_mode)
        self._pre: list[torch.Tensor] = []
        self._post: list[torch.Tensor] = []
        self._handles = [synapse.register_forward_hook(self._saw_input),
                         neuron.register_forward_hook(self._saw_output)]
        if conv:  # bound at the smallest input the kernel fits until the first step's size
            self._core.shape_options = {"pre_shape": probe_size(tuple(weight.shape), 1)}
        self._core.binding(weight, **self._core.shape_options)

    # -- recording ------------------------------------------------------------------------------
    def _saw_input(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        self._pre.append(args[0].detach())

    def _saw_output(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        spikes = output[0] if isinstance(output, tuple | list) else output
        self._post.append(spikes.detach())

    @property
    def pending(self) -> int:
        """Forward calls recorded since the last :meth:`step` (synapse, neuron)."""
        return len(self._pre)

    # -- learning -------------------------------------------------------------------------------
    @property
    def binding(self) -> Binding:
        """The :class:`plastix.Binding` on the synapse's weight."""
        return self._core.binding(self._weight, **self._core.shape_options)

    @property
    def _weight(self) -> torch.Tensor:
        return self.synapse.weight  # type: ignore[return-value]

    def step(self, **signals: Any) -> int:
        """Learn from everything recorded since the last call, one rule step per recorded
        time step in order, then forget the records; returns the number of steps. All or
        nothing: when a step fails, weight, state and step counter are as before the call,
        and the records are kept. ``signals`` (``reward=...``) are given either once for
        every step or per step, time first."""
        if len(self._pre) != len(self._post):
            raise StepInputError(self.rule, "records", "as many neuron outputs as synapse "
                                 "inputs (each time step runs the synapse, then the neuron)",
                                 f"{len(self._pre)} inputs and {len(self._post)} outputs")
        if not self._pre:
            return 0
        pre, post = self._pre, self._post
        if self.step_mode == "m":
            pre = [x for seq in pre for x in seq]
            post = [z for seq in post for z in seq]
        weight = self._weight
        options = {"pre_shape": tuple(pre[0].shape[-3:])} if self._conv else {}
        core = self._core
        syn = core.binding(weight, **options)
        core._pending = None
        try:
            syn.run(pre, post, progress=False, final=False, **signals)
        except BaseException:
            core._pending = None
            raise
        finally:
            core.sync()
        core.pending_to_grad(weight)
        self._pre, self._post = [], []
        return len(pre)

    def reset(self) -> None:
        """Clear the rule's traces and the records; the weight stays. The next step may
        bring another batch size."""
        if self._core.syn is not None:
            self._core.syn.reset()
        self._pre, self._post = [], []

    def detach(self) -> None:
        """Remove the hooks (and the records); the layer is as it was, the weight as learned."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._pre, self._post = [], []

    close = detach

    def _attach_monitor(self, monitor: Any) -> None:
        self._core.monitors.append(monitor)
        monitor._follow(self.binding)

    def __repr__(self) -> str:
        state = "attached" if self._handles else "detached"
        return (f"<PlasticityHook {self.rule} on {type(self.synapse).__name__} -> "
                f"{type(self.neuron).__name__}, {state}, {self.pending} pending>")

