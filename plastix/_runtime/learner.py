"""The public facade: ``Learner(algorithm=..., backend=..., **hyperparameters)``, and
``load``, which rebuilds a learner and its binding from a saved file."""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

import numpy as np

from plastix._errors import (
    HyperparameterError,
    PlastixError,
    StateDictError,
    StepInputError,
    UnknownRuleError,
)
from plastix._rule import Rule
from plastix.backends import get_backend
from plastix.registry import RULES

from .binding import Binding
from .contract import check_extents, check_seed, parse_dtype
from .io import read


def find_rule(algorithm: str) -> type[Rule]:
    """The rule class registered under ``algorithm`` or one of its aliases (any case; a
    hyphen counts as an underscore)."""
    entry = RULES.get(algorithm) if isinstance(algorithm, str) else None
    if entry is None:
        raise UnknownRuleError(algorithm if isinstance(algorithm, str) else repr(algorithm),
                               *rule_words())
    return entry.obj


def rule_words() -> tuple[dict[str, str], dict[str, list[str]]]:
    """What an unknown rule name is matched against: every name and alias (mapped to its
    rule), and the words that name a set of rules: each rule's family (its module), provider
    and the words of its summary."""
    known: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for e in RULES:
        known.update(dict.fromkeys([e.name, *e.aliases], e.name))
        words = [e.obj.__module__.rpartition(".")[2], e.provider,
                 *re.findall(r"[A-Za-z][\w-]+", e.obj.summary())]
        for word in dict.fromkeys(w.lower() for w in words):
            groups.setdefault(word, []).append(e.name)
    return known, groups


class Learner:
    """A plasticity rule chosen by name, with its hyperparameters and backend.

    >>> import numpy as np, plastix as px
    >>> stdp = px.Learner(algorithm="nearest_online_stdp", Apost=1e-2, Apre=1e-4)
    >>> syn = stdp.bind(np.full((3, 4), 0.5, dtype=np.float32), batch_size=2)
    >>> syn.step(pre=np.zeros((2, 4)), post=np.zeros((2, 3)))
    >>> syn.t
    1

    ``algorithm`` is looked up case-insensitively among names and aliases (a hyphen counts
    as an underscore); ``backend`` is ``"numpy"`` (default), ``"torch"``, ``"torch:cuda"`` or
    ``"cupy"``; ``dtype`` is what the bindings compute in: when it is not given, a binding
    takes its weight's dtype if the rule supports it (a float64 array is learned in float64,
    in place), else the rule's first dtype (float32 for most, :attr:`dtype`); a weight that
    has to be copied into another dtype warns (:class:`plastix.ConversionWarning`), since its
    updates then land in ``syn.weight`` only. ``seed`` seeds the counter-based
    random generator of rules that draw random numbers; ``check_finite`` checks every step of
    its bindings for non-finite results (default: only in debug mode). Every other keyword is
    a hyperparameter of the rule, checked now.
    """

    def __init__(self, algorithm: str, backend: str = "numpy", *, device: str | None = None,
                 dtype: str | None = None, seed: int = 0, check_finite: bool | None = None,
                 **hyperparameters: Any) -> None:
        self.rule_cls = find_rule(algorithm)
        self.name = self.rule_cls.name
        self.params = self.rule_cls.checked_params(hyperparameters)
        #: Whether ``dtype`` was chosen; if not, a binding learns in its weight's own dtype
        #: when the rule supports it, so that the caller's array is updated in place.
        self.dtype_chosen = dtype is not None
        name = parse_dtype(dtype) if dtype is not None else self.rule_cls.dtypes[0]
        if name not in self.rule_cls.dtypes:
            raise HyperparameterError(self.name, "dtype", f"expected one of "
                                      f"{list(self.rule_cls.dtypes)} (a name, a NumPy or a "
                                      f"torch dtype), got {dtype!r}")
        self.dtype = name
        self.rule_cls.check_params(self.params, name)
        if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer):
            raise HyperparameterError(self.name, "seed", f"expected an int, got {seed!r}")
        self.seed = int(seed)
        if check_finite is not None and not isinstance(check_finite, bool):
            raise HyperparameterError(self.name, "check_finite", f"expected True, False or "
                                      f"None, got {check_finite!r}")
        self.check_finite = check_finite
        self.backend = get_backend(backend, device)

    def bind(self, weight: Any, batch_size: int = 1, mask: Any = None, dt: float = 1.0, *,
             seed: int | None = None, pre_shape: tuple[int, ...] | None = None,
             check_finite: bool | None = None, **overrides: Any) -> Binding:
        """Bind the rule to ``weight`` ((n_post, n_pre) for dense rules).

        ``mask``: a fixed 0/1 structure (masked synapses stay 0); ``dt``: the time step in ms;
        ``seed``: this binding's random seed (default: the learner's); ``pre_shape``: the
        pre spikes' shape without the batch axis, for convolutional rules; ``check_finite``:
        check every step for non-finite results and undo such a step (default: the
        learner's setting, else debug mode, see :func:`plastix.debug`). Any other keyword
        overrides a hyperparameter for this binding only.
        """
        params = self.rule_cls.checked_params(overrides, base=self.params) if overrides \
            else self.params
        self.rule_cls.check_params(params, self.dtype)
        if seed is not None:
            seed = check_seed(self.name, seed)
        options = {} if pre_shape is None else \
            {"pre_shape": check_extents(self.name, "pre_shape", pre_shape)}
        return Binding(self, weight, batch_size=batch_size, mask=mask, dt=dt, seed=seed,
                       params=params, shape_options=options,
                       check_finite=self.check_finite if check_finite is None else check_finite)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self.params)

    def describe(self) -> str:
        return self.rule_cls.describe()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"Learner({self.name!r}, backend={self.backend.key!r}, {args})"


def load(path: str | os.PathLike[str], backend: str = "numpy", *, device: str | None = None,
         check_finite: bool | None = None) -> Binding:
    """Rebuild the learner and binding saved in ``path`` on ``backend`` (any backend,
    whichever one saved it); the binding continues exactly where the saved one stopped.

    Everything in the file is checked first (:mod:`plastix._runtime.io`); the binding is made
    at batch size 1 and takes the file's batch size only once the file's arrays fit it, so a
    forged ``batch_size`` is refused before anything is allocated. Any fault of the file is a
    StateDictError."""
    sd = read(path)
    name = os.fspath(path)
    try:
        learner = Learner(sd["rule"], backend, device=device, dtype=sd["dtype"],
                          **sd["params"])
    except TypeError as exc:  # a hyperparameter named like one of Learner's own arguments
        raise StateDictError(f"{name!r}: malformed params ({exc})") from None
    except (UnknownRuleError, HyperparameterError) as exc:
        field = "rule" if isinstance(exc, UnknownRuleError) else f"params.{exc.param}"
        raise StateDictError(f"{name!r}: header field {field!r}: {exc}") from exc
    arrays = sd["arrays"]
    # bound at batch 1: loading switches to the file's batch size once its arrays fit it,
    # so a header's batch size alone never allocates anything
    try:
        b = Binding(learner, arrays["weight"], batch_size=1,
                    mask=arrays.get("mask") if sd["masked"] else None, dt=sd["dt"],
                    seed=sd["seed"], params=learner.params,
                    shape_options=sd["shape_options"],
                    check_finite=learner.check_finite if check_finite is None
                    else check_finite)
    except StepInputError as exc:
        field = {"weight": "arrays.weight", "mask": "arrays.mask"}.get(exc.argument,
                                                                     exc.argument)
        raise StateDictError(f"{name!r}: header field {field!r}: {exc}") from exc
    except PlastixError as exc:  # the rule cannot be built for the file's shapes
        raise StateDictError(f"{name!r}: {exc}") from exc
    b.load_state_dict(sd)
    return b
