"""Data-parallel learning: 2 processes on this machine (gloo over loopback) against one.

The expected weights are those of one binding given the whole batch of 8, computed in the same
worker process; the two ranks step batch 4 each through ``plastix.distributed``. Each launch is
bounded by a timeout, so a hang fails the test instead of stalling CI.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._compiler.sharding import PER_SAMPLE, ShardedSeed, additive_problem, analyse, classify
from tests.conftest import needs_torch

torch = needs_torch()
if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip("this PyTorch has no gloo process groups", allow_module_level=True)

WORKER = Path(__file__).with_name("_dp_worker.py")
LAUNCH_TIMEOUT = 240  # seconds for a whole launch of two processes
#: Rules refused on purpose, with the documented reason (docs/distributed.md); none so far.
REFUSED: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(mode: str, tmp: Path, report: tuple[int, ...] = (0, 1),
           backend: str = "numpy") -> list[dict[str, Any]]:
    """Start 2 workers like torchrun would (loopback only); the JSON results of ``report``."""
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()),
               WORLD_SIZE="2", DP_BACKEND=backend)
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    procs = [subprocess.Popen([sys.executable, str(WORKER), mode, str(tmp)],
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in range(2)]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=LAUNCH_TIMEOUT)[0])
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail(f"the {mode!r} launch did not finish within {LAUNCH_TIMEOUT} s")
    results = []
    for r in report:
        f = tmp / f"rank{r}.json"
        assert f.exists(), f"rank {r} wrote no result; its output:\n{logs[r]}"
        results.append(json.loads(f.read_text()))
    return results


@pytest.fixture(scope="module", params=["numpy", "torch"])
def main_run(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The results of both ranks of one ``main`` launch per installed CPU backend (CuPy
    would need NCCL and a GPU)."""
    from plastix.backends import get_backend

    try:
        get_backend(request.param)
    except px.BackendUnavailableError as exc:
        pytest.skip(str(exc))
    return launch("main", tmp_path_factory.mktemp("dp_main"), backend=request.param)


def _assert_equal_to_one_process(res: dict[str, Any]) -> None:
    assert res["moved"] > 1e-6, "nothing changed: the comparison would be empty"
    for name, diff in res["diffs"].items():
        assert diff <= 1e-12 * max(1.0, res["scale"]), f"{name} differs by {diff}"


def _builtin_rules() -> list[str]:
    """The rules plastix ships (test modules register throw-away rules of their own)."""
    from plastix.registry import RULES

    return [e.name for e in RULES if e.provider == "plastix"]


@pytest.mark.parametrize("rule", _builtin_rules())
def test_two_ranks_of_batch_4_equal_one_process_of_batch_8(main_run: list[dict[str, Any]],
                                                            rule: str) -> None:
    for rank, result in enumerate(main_run):
        res = result["rules"][rule]
        assert "error" not in res, f"rank {rank}, {rule}: {res.get('error')}"
        if "unsupported" in res:
            why = REFUSED.get(rule)
            assert why is not None, f"rank {rank} refused {rule!r}: {res['unsupported']}"
            assert why in res["unsupported"]
            pytest.skip(f"{rule} is refused by design: {res['unsupported']}")
        _assert_equal_to_one_process(res)
        if res["seams"]:
            assert res["reductions"] >= 6  # one all-reduce per seam per step
        else:  # short-term plasticity (tsodyks2) changes no learned value: nothing to reduce
            assert res["reductions"] == 0


def test_a_weight_changed_at_two_seams_per_step(main_run: list[dict[str, Any]]) -> None:
    for result in main_run:  # depression and potentiation clipped one after the other
        res = result["two_seams"]
        assert "error" not in res and "unsupported" not in res, res
        _assert_equal_to_one_process(res)
        assert res["reductions"] == 12


@pytest.mark.parametrize("rule", ["nearest_online_stdp", "postpreintstdp"])
def test_unequal_slices_of_a_summed_change_add_up(main_run: list[dict[str, Any]],
                                                  rule: str) -> None:
    for result in main_run:  # batch 3 and 5; random draws at the global sample indices
        _assert_equal_to_one_process(result["unequal"][rule])


def test_a_mean_over_processes_needs_equal_batches(main_run: list[dict[str, Any]]) -> None:
    for result in main_run:
        msg = result["unequal_mean"]["unsupported"]
        assert "batch size: rank 0 has 3, rank 1 has 5" in msg


@pytest.mark.parametrize("every", ["2", "4"])
def test_accumulating_additive_changes_over_steps_is_exact(main_run: list[dict[str, Any]],
                                                           every: str) -> None:
    for result in main_run:
        res = result["every"][every]
        _assert_equal_to_one_process(res)
        assert res["reductions"] == {"2": 3, "4": 2}[every]  # 6 steps; close() flushes the rest


def test_accumulating_a_normalised_rule_is_refused(main_run: list[dict[str, Any]]) -> None:
    for result in main_run:
        msg = result["every_refused"]["unsupported"]
        assert "every=2 needs a purely additive change" in msg and "nearest_online_stdp" in msg


@pytest.mark.parametrize(("case", "names"), [("params", ["Apost", "0.01", "0.02"]),
                                             ("shape", ["weight shape", "(5, 6)", "(6, 6)"]),
                                             ("rule", ["full_online_stdp"])])
def test_a_mismatch_between_ranks_is_reported_on_every_rank(main_run: list[dict[str, Any]],
                                                            case: str, names: list[str]) -> None:
    for result in main_run:
        msg = result["mismatch"][case]
        assert "the processes disagree" in msg
        for n in names:
            assert n in msg


@pytest.mark.parametrize("mode", ["die", "stall"])
def test_a_rank_that_dies_or_stalls_raises_instead_of_hanging(tmp_path: Path, mode: str) -> None:
    res = launch(mode, tmp_path, report=(0,))[0]  # rank 1 is the one that dies or stalls
    assert "failed: a process died, stopped stepping or exceeded the group's timeout" \
        in res["error"]
    assert res["seconds"] < 15


# -- the static analysis, in this process --------------------------------------------------------

@dataclass(frozen=True)
class _P:
    rate: float = px.param(0.1)


class _BatchMeanState(px.Rule):
    """Keeps a running batch mean of the post spikes as state, outside any seam."""

    Params = _P

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("avg", (g.post_shape[1],), reset=False)
        g.op_to_backend("m", "mean", ["post"], axis=0)
        g.op_to_backend("avg", "add", ["avg", "m"])
        g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
        g.op_to_backend("dw", "mul", ["dw", "rate"])
        g.op_to_backend("weight", "add", ["weight", g.weight_change("dw")])


class _PerSampleMean(_BatchMeanState):
    """A trace normalised by its own row mean (per sample): safe to split."""

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x", g.post_shape)
        g.op_to_backend("m", "mean", ["post"], axis=1, keepdims=True)
        g.op_to_backend("x", "add", ["x", "m"])
        g.op_to_backend("dw", "mat_mult_pre", ["x", "pre"])
        g.op_to_backend("weight", "add", ["weight", g.weight_change("dw")])


def _graph(cls: type[px.Rule], batch: int = 2) -> tuple[px.Graph, Any, Any]:
    from plastix._validate import validate

    g = px.Graph(cls.__name__, pre_shape=(batch, 4), post_shape=(batch, 3),
                 weight_shape=(3, 4), dtype="float64", dt=1.0, params={"rate": 0.1})
    rule = cls(cls.Params())
    rule.build(g)
    g.finish()
    return g, validate(g), rule.build


def test_state_mixing_the_batch_outside_a_seam_is_found() -> None:
    problems = analyse(*_graph(_BatchMeanState)).problems
    assert len(problems) == 1 and "'avg'" in problems[0] and "rank-local" in problems[0]


def test_per_sample_state_and_batch_sums_through_the_seam_are_allowed() -> None:
    g, avals, build = _graph(_PerSampleMean)
    assert analyse(g, avals, build).problems == []
    assert additive_problem(g) is None


def test_the_batch_axis_is_found_even_when_a_weight_dimension_equals_the_batch() -> None:
    g, avals, build = _graph(_PerSampleMean, batch=3)  # n_post = 3 = batch
    from plastix._compiler.sharding import grown

    cls, axis = classify(g, "step", avals, grown(g, build))
    assert axis[px.Value("weight", 0)] is None and axis[px.Value("x", 0)] == 0
    assert cls[g.latest("x")] == PER_SAMPLE


def test_a_sharded_seed_offsets_only_per_sample_streams_and_pickles_as_an_int() -> None:
    import pickle

    from plastix.backends._random import rand_bits

    seed = ShardedSeed(7, first_sample=3, streams={5: 10})
    assert seed == 7 and seed.element_offset(5) == 30 and seed.element_offset(6) == 0
    whole = rand_bits(7, 2, 5, (8, 10), xp=np)
    np.testing.assert_array_equal(rand_bits(seed, 2, 5, (5, 10), xp=np), whole[3:])
    np.testing.assert_array_equal(rand_bits(seed, 2, 6, (8, 10), xp=np),
                                  rand_bits(7, 2, 6, (8, 10), xp=np))
    assert type(pickle.loads(pickle.dumps(seed))) is int


def test_data_parallel_without_a_process_group_says_how_to_start_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    if torch.distributed.is_initialized():
        pytest.skip("a process group already exists in this process")
    for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(k, raising=False)
    syn = px.Learner("nearest_online_stdp").bind(np.full((3, 4), 0.5), batch_size=2)
    with pytest.raises(px.distributed.DistributedError, match="launch with torchrun"):
        px.distributed.data_parallel(syn)
    with pytest.raises(px.distributed.DistributedError, match="positive int"):
        px.distributed.data_parallel(syn, every=0)


# -- the seam's reduction and partial hooks (no process group needed) ----------------------------

def test_a_seam_declares_its_batch_reduction() -> None:
    syn = px.Learner("meta_nearest_online_stdp", dtype="float64").bind(
        np.full((3, 4), 0.5), batch_size=2)
    assert {s.target: s.reduction for s in syn.graph.seams} == {"weight": "sum",
                                                                "w_mean": "mean"}
    g = px.Graph("r", pre_shape=(2, 4), post_shape=(2, 3), weight_shape=(3, 4),
                 dtype="float64", dt=1.0, params={})
    g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
    with pytest.raises(px.RuleValidationError, match="reduction must be 'sum' or 'mean'"):
        g.weight_change("dw", reduction="max")


def test_hooking_one_of_two_seams_leaves_the_other_as_the_rule_computes_it() -> None:
    rng = np.random.default_rng(3)
    pre = (rng.random((5, 2, 4)) < 0.5).astype(float)
    post = (rng.random((5, 2, 3)) < 0.5).astype(float)
    learner = px.Learner("meta_nearest_online_stdp", dtype="float64")
    plain, hooked = (learner.bind(np.full((3, 4), 0.5), batch_size=2) for _ in range(2))
    seen: list[np.ndarray] = []

    def spy(dw: np.ndarray) -> np.ndarray:
        seen.append(dw.copy())
        return dw

    hooked.intercept("weight", spy)
    for t in range(5):
        plain.step(pre[t], post[t])
        hooked.step(pre[t], post[t])
    assert len(seen) == 5
    np.testing.assert_array_equal(hooked.weight, plain.weight)
    np.testing.assert_array_equal(hooked.w_mean, plain.w_mean)


@pytest.mark.parametrize("rule", ["nearest_online_stdp", "postpreintstdp"])
def test_a_new_batch_size_after_reset_keeps_the_one_process_weights(
        main_run: list[dict[str, Any]], rule: str) -> None:
    for result in main_run:  # hint 1, batches 4 + 4, reset, a last batch of 2 + 4
        res = result["rebatch"][rule]
        assert "error" not in res, res
        assert res["moved"] > 0
        assert res["diff"] <= 1e-9 * max(1.0, res["scale"]), res
    assert [r["rebatch"][rule]["batch"] for r in main_run] == [2, 4]


def test_a_mean_over_a_new_batch_needs_equal_batches_again(
        main_run: list[dict[str, Any]]) -> None:
    for result in main_run:
        assert "a change averaged over the batch needs equal batches" in \
            result["rebatch_mean_unequal"]["error"]
        assert "[2, 4]" in result["rebatch_mean_unequal"]["error"]
        res = result["rebatch_mean_equal"]  # 4 + 4, then 3 + 3
        assert "error" not in res, res
        assert res["moved"] > 0 and res["diff"] <= 1e-9 * max(1.0, res["scale"]), res


@pytest.mark.parametrize("not_a_binding", [5, None, "syn", np.zeros((3, 4))])
def test_data_parallel_of_something_else_than_a_binding_is_refused(not_a_binding: Any) -> None:
    with pytest.raises(px.StepInputError, match=r"'binding'.*Binding"):
        px.distributed.data_parallel(not_a_binding)


@pytest.mark.parametrize("timeout", ["30", -1, 0, float("nan"), float("inf"), True, [5],
                                     datetime.timedelta(seconds=-3)])
def test_a_timeout_that_is_no_positive_duration_is_refused_before_anything_starts(
        timeout: Any) -> None:
    syn = px.Learner("nearest_online_stdp").bind(np.full((3, 4), 0.5), batch_size=2)
    with pytest.raises(px.distributed.DistributedError, match="'timeout'"):
        px.distributed.data_parallel(syn, timeout=timeout)
    assert not syn._seam_hooks  # nothing was hooked
