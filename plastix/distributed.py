"""Data-parallel learning over ``torch.distributed``: many processes, one set of weights.

Each process binds the same rule to the same weight and steps it with its own slice of the
batch. :func:`data_parallel` hooks every weight-change seam of the binding (the weight's change
and any other learned value's) so that the change is all-reduced across the process group
before the rule applies it; every process then holds the weights that one process with the
whole (global) batch would hold::

    syn = px.Learner("nearest_online_stdp").bind(w, batch_size=32)
    dp = px.distributed.data_parallel(syn)                   # under torchrun
    for t in range(T):
        syn.step(pre=my_pre[t], post=my_post[t])             # this process's 32 samples

A seam's change is summed across processes when the rule summed it over its batch and
averaged when the rule averaged it (``Graph.weight_change(..., reduction=...)``); per-sample
state (traces) stays with its process. Rules whose state would mix one process's samples
outside a seam are refused with the reason (:mod:`plastix._sharding`); per-sample random draws
are taken at the global sample indices. ``every=k`` accumulates k steps before reducing, for
purely additive rules only. At start the processes' rule, hyperparameters, shapes, dtype,
``dt``, seed and step are compared and rank 0's learned values broadcast; a dead or stalled
process raises :class:`DistributedError` instead of hanging. A new batch size after
``reset()`` (a smaller last batch) needs nothing for rules that sum their change and draw no
random numbers; the others exchange batch sizes at the first step after each ``reset()``, so
every process must reset at the same step, and a mean over unequal batches is refused. A NumPy
binding takes part through torch tensors on the same memory (``torch.from_numpy``), a CuPy
one through DLPack (untested). The user's guide is ``docs/distributed.md``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from plastix._compiler.sharding import ShardedSeed, additive_problem, analyse

from ._errors import PlastixError, StepInputError, install_hint
from ._runtime.binding import Binding
from ._runtime.contract import host_array as _host

#: Timeout of a process group that plastix initialises itself (torchrun's environment).
DEFAULT_TIMEOUT = datetime.timedelta(minutes=5)


class DistributedError(PlastixError, RuntimeError):
    """Data-parallel learning cannot start or cannot go on (mismatch, dead process, timeout)."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(f"rule {rule!r}, data-parallel: {message}")


def _torch() -> tuple[Any, Any]:
    try:
        import torch
        import torch.distributed as dist
    except ImportError:
        raise ImportError(f"plastix.distributed needs PyTorch: {install_hint('torch')}") \
            from None
    return torch, dist


def data_parallel(binding: Binding, group: Any = None, *, every: int = 1,
                  timeout: float | datetime.timedelta | None = None) -> DataParallel:
    """All-reduce ``binding``'s weight changes across ``group`` (default: the world).

    When no process group exists yet, one is initialised from torchrun's environment
    (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) with gloo for CPU arrays and
    NCCL for CUDA ones, and ``timeout`` (seconds; default 5 minutes). Every process must call
    this, then step in lockstep. See the module docstring for what is reduced and checked.
    """
    return DataParallel(binding, group, every=every, timeout=timeout)


class DataParallel:
    """The hooks that make one binding learn data-parallel; made by :func:`data_parallel`."""

    def __init__(self, binding: Binding, group: Any = None, *, every: int = 1,
                 timeout: float | datetime.timedelta | None = None) -> None:
        if not isinstance(binding, Binding):
            raise StepInputError("data_parallel", "binding", "a plastix Binding (made by "
                                 "Learner.bind)", f"{binding!r} ({type(binding).__name__})")
        self.binding = binding
        self.rule = rule = binding.rule_name
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise DistributedError(rule, f"'every' must be a positive int, got {every!r}")
        timeout = _check_timeout(rule, timeout)
        split = analyse(binding.graph, binding._avals, binding.rule.build)
        if split.problems:
            raise DistributedError(rule, "the rule cannot be split over the batch: "
                                   + "; ".join(split.problems))
        if every > 1:
            why = additive_problem(binding.graph)
            if why is not None:
                raise DistributedError(rule, f"every={every} needs a purely additive change "
                                       f"({why}); use every=1")
        self.seams = {s.target: s.reduction for s in binding.graph.seams}
        reductions = {(s.target, s.reduction) for s in binding.graph.seams}
        if len(reductions) != len(self.seams):
            raise DistributedError(rule, "one learned value has changes with different batch "
                                   "reductions")
        # a value changed at several seams per step gets a fresh array at each (no aliasing)
        self._several = {t for t in self.seams
                         if sum(s.target == t for s in binding.graph.seams) > 1}
        if not binding.dtype.startswith("float") and "mean" in self.seams.values():
            raise DistributedError(rule, f"a mean over processes is not exact in "
                                   f"{binding.dtype}")
        self.torch, self.dist = _torch()
        self.group = self._group(group, timeout)
        self.rank = self.dist.get_rank(self.group)
        self.world_size = self.dist.get_world_size(self.group)
        self.every = every
        #: Seconds spent in all-reduces so far, and how many there were (for cost figures).
        self.reduce_seconds = 0.0
        self.reductions = 0
        self._acc: dict[str, Any] = {}
        self._out: dict[str, Any] = {}
        self._count = dict.fromkeys(self.seams, 0)
        batches = self._check_agreement()
        self._broadcast_replicated(split.per_sample)
        self._seed = binding.seed
        self._streams = split.random_streams
        self._place(batches)
        for target in self.seams:
            binding.intercept(target, self._hook(target))
        binding._layout_listeners.append(self._on_new_batch)

    def _place(self, batches: list[int]) -> None:
        """Random draws at this process's samples' places in the global batch."""
        if self._streams:
            self.binding.seed = ShardedSeed(self._seed, sum(batches[:self.rank]),
                                            self._streams)

    def _on_new_batch(self, binding: Binding, layout: Any, arrays: Any) -> None:
        """The first step after ``reset()`` may bring a new batch size. Sums over any slices
        add up, so a rule without random draws or means needs nothing; otherwise the
        processes exchange their batch sizes at that step (a collective, once per reset:
        every process resets at the same step, as a loop over equal shards does)."""
        if not self._streams and "mean" not in self.seams.values():
            return
        everyone: list[Any] = [None] * self.world_size
        self._collective(f"exchanging batch sizes at step {binding.t}", lambda: (
            self.dist.all_gather_object(everyone, layout.batch_size, group=self.group)))
        batches = [int(b) for b in everyone]
        if "mean" in self.seams.values() and len(set(batches)) > 1:
            raise DistributedError(self.rule, f"a change averaged over the batch needs equal "
                                   f"batches on every process, got {batches} by rank")
        self._place(batches)

    # -- setup ------------------------------------------------------------------------------------
    def _group(self, group: Any, timeout: float | datetime.timedelta | None) -> Any:
        """The group to reduce over; None for the default group (initialised if needed)."""
        dist = self.dist
        if group is not None:
            return group
        if not dist.is_available():
            raise DistributedError(self.rule, "this PyTorch build has no torch.distributed")
        if not dist.is_initialized():
            missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
                       if k not in os.environ]
            if missing:
                raise DistributedError(self.rule, "no process group: launch with torchrun or "
                                       "call torch.distributed.init_process_group() first "
                                       f"(environment lacks {', '.join(missing)})")
            if timeout is None:
                timeout = DEFAULT_TIMEOUT
            cuda = self.binding.backend.name == "cupy" or "cuda" in str(
                self.binding.backend.device or "")
            self._collective("joining the process group", lambda: dist.init_process_group(
                "nccl" if cuda else "gloo", timeout=timeout))
        return None  # the default group, not held here: its teardown stays with torch

    def fingerprint(self) -> dict[str, Any]:
        """What every process must agree on: rule, hyperparameters, shapes, dtype, dt, seed."""
        b, g = self.binding, self.binding.graph
        mask = b.S.get("mask")
        fp = {
            "rule": b.rule_name,
            "params": {k: repr(v) for k, v in dataclasses.asdict(b.params).items()},
            "weight shape": tuple(g.weight_shape),
            "spike shapes": (tuple(g.pre_shape[1:]), tuple(g.post_shape[1:])),
            "dtype": b.dtype,
            "dt": b.dt,
            "seed": b.seed,
            "step": b.t,
            "seams": sorted(self.seams.items()),
            "every": self.every,
            "mask": None if mask is None else hashlib.sha1(_host(mask).tobytes()).hexdigest(),
        }
        fp["batch size"] = g.batch_size
        return fp

    def _check_agreement(self) -> list[int]:
        """Compare fingerprints across the group; every process's batch size, by rank."""
        mine = self.fingerprint()
        everyone: list[Any] = [None] * self.world_size
        self._collective("the start-up check", lambda: self.dist.all_gather_object(
            everyone, mine, group=self.group))
        diffs = []
        for r, fp in enumerate(everyone):
            for key in mine:
                if key == "batch size" and "mean" not in self.seams.values():
                    continue  # sums over unequal slices still add up to the global batch's
                if fp.get(key) != everyone[0].get(key):
                    diffs.append(f"{key}: rank 0 has {_show(everyone[0], fp, key)[0]}, rank "
                                 f"{r} has {_show(everyone[0], fp, key)[1]}")
        if diffs:
            raise DistributedError(self.rule, "the processes disagree; " + "; ".join(diffs))
        return [int(fp["batch size"]) for fp in everyone]

    def _broadcast_replicated(self, per_sample: set[str]) -> None:
        """Rank 0's learned values (and other state without a batch axis) for everyone."""
        src = 0 if self.group is None else self.dist.get_global_rank(self.group, 0)
        for name, arr in self.binding.arrays.items():
            if name in per_sample:
                continue
            tensor, back = self._tensor(arr)
            self._collective(f"broadcasting {name!r}", functools.partial(
                self.dist.broadcast, tensor, src=src, group=self.group))
            if back is not None:
                self.binding.backend.assign(arr, back(tensor))

    # -- the hooks --------------------------------------------------------------------------------
    def _tensor(self, arr: Any) -> tuple[Any, Callable[[Any], Any] | None]:
        """A torch tensor on ``arr``'s memory, and how to copy it back when it is not."""
        torch = self.torch
        if torch.is_tensor(arr):
            return arr, None
        if isinstance(arr, np.ndarray):
            if arr.flags.c_contiguous and arr.flags.writeable:
                return torch.from_numpy(arr), None
            return torch.from_numpy(np.ascontiguousarray(arr)), lambda t: t.numpy()
        return torch.from_dlpack(arr), None

    def _native(self, tensor: Any) -> Any:
        """``tensor`` as the binding's array type, on the same memory."""
        name = self.binding.backend.name
        if name == "numpy":
            return tensor.numpy()
        if name == "cupy":
            import cupy

            return cupy.from_dlpack(tensor)
        return tensor

    def _buffers(self, target: str, like: Any) -> None:
        t, _ = self._tensor(like)
        self._acc[target] = self.torch.zeros_like(t)
        self._out[target] = (self._acc[target], self._native(self._acc[target]))
        if self.every > 1:
            out = self.torch.zeros_like(t)
            self._out[target] = (out, self._native(out))

    def _reduce(self, target: str, tensor: Any) -> None:
        t0 = time.perf_counter()
        self._collective(f"the all-reduce of {target!r} at step {self.binding.t}",
                         lambda: self.dist.all_reduce(tensor, group=self.group))
        if self.seams[target] == "mean":
            tensor.div_(self.world_size)
        self.reduce_seconds += time.perf_counter() - t0
        self.reductions += 1

    def _hook(self, target: str) -> Callable[[Any], Any]:
        def hook(change: Any) -> Any:
            if target not in self._acc:
                self._buffers(target, change)
            acc = self._acc[target]
            incoming, _ = self._tensor(change)
            self._count[target] += 1
            if self.every == 1:
                acc.copy_(incoming)
                self._reduce(target, acc)
                if target in self._several:
                    return self._native(acc.clone())
                return self._out[target][1]
            acc.add_(incoming)
            out, native = self._out[target]
            if self._count[target] % self.every:
                out.zero_()
                return native
            self._reduce(target, acc)
            out.copy_(acc)
            acc.zero_()
            return native

        return hook

    def _collective(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RuntimeError as exc:  # torch's DistBackendError and gloo's errors
            raise DistributedError(self.rule, f"{what} failed: a process died, stopped "
                                   f"stepping or exceeded the group's timeout ({exc})") from exc

    # -- the end ----------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Steps whose changes are accumulated but not yet applied (``every`` > 1)."""
        return max(self._count.values(), default=0) % self.every

    def flush(self) -> None:
        """Reduce and apply the changes accumulated since the last reduction (collective)."""
        if self.every == 1:
            return
        be = self.binding.backend
        for target, acc in self._acc.items():
            if self._count[target] % self.every:
                self._reduce(target, acc)
                arr = self.binding.S[target]
                be.assign(arr, arr + self._native(acc))
                acc.zero_()
                self._count[target] = 0

    def close(self) -> None:
        """Apply what is pending and remove the hooks; the binding learns alone again."""
        self.flush()
        for target in self.seams:
            self.binding.intercept(target, None)
        if self._on_new_batch in self.binding._layout_listeners:
            self.binding._layout_listeners.remove(self._on_new_batch)
        self.binding.seed = int(self._seed)

    def __repr__(self) -> str:
        return (f"<DataParallel {self.rule} rank {self.rank}/{self.world_size} "
                f"every={self.every}>")


def _check_timeout(rule: str, timeout: Any) -> datetime.timedelta | None:
    """``timeout`` (seconds or a timedelta) as a positive, finite timedelta, or None."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, bool) or not isinstance(timeout, int | float | np.integer |
                                                     np.floating):
        raise DistributedError(rule, f"'timeout' must be a number of seconds or a "
                               f"datetime.timedelta, got {timeout!r}")
    else:
        seconds = float(timeout)
    if not (seconds > 0 and seconds < 1e9):  # also refuses NaN
        raise DistributedError(rule, f"'timeout' must be positive and finite (seconds), got "
                               f"{timeout!r}")
    return datetime.timedelta(seconds=seconds)


def _show(a: dict[str, Any], b: dict[str, Any], key: str) -> tuple[Any, Any]:
    """The differing part of two fingerprint entries (only the differing hyperparameters)."""
    x, y = a.get(key), b.get(key)
    if isinstance(x, dict) and isinstance(y, dict):
        keys = sorted(k for k in {*x, *y} if x.get(k) != y.get(k))
        return {k: x.get(k) for k in keys}, {k: y.get(k) for k in keys}
    return x, y


__all__ = ["DEFAULT_TIMEOUT", "DataParallel", "DistributedError", "data_parallel"]
