"""The in-place contract: the array that is bound is the array that learns, in its own dtype
where the rule computes in it; a copy into another dtype warns and says where the updates go.
The README's tour runs as written."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import plastix as px
from tests.conftest import needs_torch

ROOT = Path(__file__).resolve().parents[1]
PRE, POST = np.array([[1.0, 0.0, 1.0]]), np.array([[1.0, 0.0]])


def _learn(syn: Any) -> None:
    syn.step(pre=PRE, post=0 * POST)
    syn.step(pre=0 * PRE, post=POST)  # a post spike after a pre spike: potentiation


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_weight_in_a_dtype_the_rule_supports_is_learned_in_place(dtype: type) -> None:
    w = np.full((2, 3), 0.5, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", px.ConversionWarning)
        syn = px.Learner("norse_stdp").bind(w)
    assert syn.weight is w and syn.dtype == np.dtype(dtype).name
    _learn(syn)
    assert w[0, 0] > 0.5 and w[1, 1] == 0.5  # the caller's array moved where pairs were


def test_an_integer_rule_keeps_an_int64_weight() -> None:
    w = np.full((2, 3), 50, dtype=np.int64)
    syn = px.Learner("postpreintstdp", nu0=50, nu1=50).bind(w)
    assert syn.weight is w and syn.dtype == "int64"


def test_a_chosen_dtype_copies_and_warns_where_the_updates_go() -> None:
    w = np.full((2, 3), 0.5)  # float64
    with pytest.warns(px.ConversionWarning, match=r"float64 weight was copied to float32.*"
                                                  r"land in syn\.weight"):
        syn = px.Learner("norse_stdp", dtype="float32").bind(w)
    assert syn.weight.dtype == np.float32
    _learn(syn)
    assert np.all(w == 0.5) and syn.weight[0, 0] > 0.5  # the copy learned, w did not


def test_a_weight_the_rule_cannot_compute_in_is_copied_with_a_warning() -> None:
    w = np.zeros((2, 3), dtype=np.int64)
    with pytest.warns(px.ConversionWarning, match="int64 weight was copied to float32"):
        syn = px.Learner("norse_stdp").bind(w)
    assert syn.dtype == "float32"


def test_a_list_is_copied_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", px.ConversionWarning)
        syn = px.Learner("norse_stdp").bind([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])
    assert syn.dtype == "float32"  # the rule's default: a list has no dtype to keep


def test_the_learner_keeps_its_default_dtype_and_a_binding_reports_its_own() -> None:
    learner = px.Learner("norse_stdp")
    syn = learner.bind(np.zeros((2, 3)))
    assert (learner.dtype, syn.dtype) == ("float32", "float64")
    assert learner.bind(np.zeros((2, 3), np.float32)).dtype == "float32"


def test_a_saved_binding_loads_in_its_dtype(tmp_path: Path) -> None:
    syn = px.Learner("norse_stdp").bind(np.full((2, 3), 0.5))
    _learn(syn)
    syn.save(tmp_path / "syn.npz")
    back = px.load(tmp_path / "syn.npz")
    assert back.dtype == "float64"
    np.testing.assert_array_equal(back.weight, syn.weight)


def test_torch_weights_are_learned_in_place() -> None:
    torch = needs_torch()
    t = torch.full((2, 3), 0.5, dtype=torch.float64)
    syn = px.Learner("norse_stdp", backend="torch").bind(t)
    assert syn.dtype == "float64" and syn.weight.data_ptr() == t.data_ptr()
    _learn(syn)
    assert float(t[0, 0]) > 0.5
    w = np.full((2, 3), 0.5)  # a NumPy array on the CPU torch backend shares its memory
    syn = px.Learner("norse_stdp", backend="torch").bind(w)
    _learn(syn)
    assert w[0, 0] > 0.5


def test_the_readme_tour_is_true_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("## A short tour"):]
    code = re.search(r"```python\n(.*?)```", tour, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", px.ConversionWarning)
        exec(compile(code.group(1), "README.md", "exec"), namespace)
    w, syn = namespace["w"], namespace["syn"]
    assert syn.weight is w, "the tour says: True: w was updated in place"
    start = np.random.default_rng(0).uniform(0, 1, (100, 784))
    assert not np.array_equal(w, start)  # it learned
    assert "# plastix step" in capsys.readouterr().out  # print(syn.source)
