"""Song, Miller and Abbott (2000): additive STDP makes the weights bimodal, multiplicative
STDP keeps them unimodal.

One integrate-and-fire neuron with conductance-based excitatory synapses is driven by 1000
independent Poisson inputs through plastic weights in [0, wmax]. Additive STDP (the classic
all-to-all rule, ``song_abbott_stdp``) with slightly stronger depression than potentiation
makes the synapses compete: at the end most weights sit near 0 or near wmax. With weight
dependent updates (norse's ``multiplicative_pow``, mu = 1: potentiation scaled by
wmax - w, depression by w, as van Rossum et al. 2000) the weights gather around one value.

The neuron and inputs are those of Brian2's example ``synapses/STDP.py`` (adapted from the
paper): taum 10 ms, El -74 mV, Ee 0 mV, vt -54 mV, vr -60 mV, taue 5 ms, 15 Hz inputs,
Apre = 0.01 gmax, taupre = taupost = 20 ms, integrated with exact exponential steps of
dt = 1 ms rather than Euler steps of 0.1 ms. Two changes follow from the coarser step:

* with dt = 1 ms a same-step pair counts as causal, so the discrete window sums to
  Apre / (1 - l) on the causal side and |Apost| l / (1 - l) on the other (l = exp(-dt/tau));
  |Apost| = 1.05 Apre / l keeps the paper's 5 % excess of depression (Brian2's 1.05 Apre
  would cancel it);
* gmax = 0.02 instead of 0.01: each input then matters more to the output, so the weights
  separate within minutes of simulated time (with 0.01 they still do, more slowly).

The rules come from the registry by name. ``song_abbott_stdp`` and ``norse_stdp`` are built in
plastix's catalogue; where a name (or one of its hyperparameters) is missing in the installed
plastix, the example registers a local rule with ``px.register`` and says so: ``local_additive``
(Brian2's update: pre-pathway depression before the post trace's increment, potentiation with
the pre trace including this step's spike) and ``local_multiplicative`` (the same traces, each
change scaled by its distance to the bound).

Bimodality: the fraction of weights in the outer fifths of [0, wmax] (near 1 when bimodal,
about 0.4 for a flat distribution, small for one central bump).

    python examples/song_abbott_2000.py [--seconds 100] [--out song_abbott_2000.png] [--quick]

Default 300 s of simulated time; ``--quick`` (or ``PLASTIX_QUICK=1``) runs 150 s, enough
for the qualitative result.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

import plastix as px

GMAX = 0.02
TAUM, EL, EE, VT, VR, TAUE = 10.0, -74.0, 0.0, -54.0, -60.0, 5.0
RATE_HZ, N_INPUTS, DT = 15.0, 1000, 1.0
#: |Apost| / Apre: the paper's 1.05, corrected for same-step pairs at dt = 1 ms (docstring)
RATIO = 1.05 * math.exp(DT / 20.0)


class _LocalTraces(px.Rule):
    """Brian2's exact-decay all-to-all traces (shared by the two local rules)."""

    @dataclass(frozen=True)
    class Params:
        Apre: float = px.param(0.01 * GMAX, unit="weight", doc="pre trace jump (potentiation)")
        Apost: float = px.param(-0.01 * RATIO * GMAX, unit="weight",
                                doc="post trace jump (negative: depression)")
        taupre: float = px.param(20.0, unit="ms", low=0, open_low=True)
        taupost: float = px.param(20.0, unit="ms", low=0, open_low=True)
        wmax: float = px.param(GMAX, unit="weight", low=0, open_low=True)

    def terms(self, g: Any) -> tuple[Any, Any]:
        p = self.p
        g.variable_to_backend("apre", g.pre_shape)
        g.variable_to_backend("apost", g.post_shape)
        g.op_to_backend("apre", "mul", ["apre", math.exp(-g.dt / p.taupre)])
        g.op_to_backend("jump", "mul", ["Apre", "pre"])
        g.op_to_backend("apre", "add", ["apre", "jump"])
        g.op_to_backend("apost", "mul", ["apost", math.exp(-g.dt / p.taupost)])
        ltd = g.op_to_backend("ltd", "mat_mult_pre", ["apost", "pre"])  # Apost < 0
        ltp = g.op_to_backend("ltp", "mat_mult_pre", ["post", "apre"])
        g.op_to_backend("jump_post", "mul", ["Apost", "post"])
        g.op_to_backend("apost", "add", ["apost", "jump_post"])
        return ltp, ltd

    def finish(self, g: Any, dw: Any) -> None:
        g.weight_change(dw.name)
        g.op_to_backend("weight", "add", ["weight", dw.name])
        g.op_to_backend("weight", "clamp", ["weight", 0.0, "wmax"])


class LocalAdditive(_LocalTraces):
    """All-to-all additive STDP as Brian2's example computes it (fallback)."""

    def build(self, g: Any) -> None:
        ltp, ltd = self.terms(g)
        self.finish(g, g.op_to_backend("dw", "add", [ltp, ltd]))


class LocalMultiplicative(_LocalTraces):
    """The same traces; potentiation scaled by (wmax - w)/wmax, depression by w/wmax."""

    def build(self, g: Any) -> None:
        ltp, ltd = self.terms(g)
        room = g.op_to_backend("room", "sub", ["wmax", "weight"])
        room = g.op_to_backend("room", "div", [room, "wmax"])
        held = g.op_to_backend("held", "div", ["weight", "wmax"])
        ltp = g.op_to_backend("ltp", "mul", [ltp, room])
        ltd = g.op_to_backend("ltd", "mul", [ltd, held])
        self.finish(g, g.op_to_backend("dw", "add", [ltp, ltd]))


def additive_learner() -> px.Learner:
    """``song_abbott_stdp`` with Brian2's values, or the local fallback."""
    a = 0.01 * GMAX
    try:
        params = px.find_rule("song_abbott_stdp").Params()
        sign = -1.0 if getattr(params, "Apost", -1.0) < 0 else 1.0
        return px.Learner("song_abbott_stdp", Apre=a, Apost=sign * RATIO * a, taupre=20.0,
                          taupost=20.0, wmax=GMAX)
    except px.PlastixError as exc:
        print(f"(song_abbott_stdp unavailable: {str(exc).splitlines()[0]}; using local_additive)")
    if "local_additive" not in px.rules():
        px.register("local_additive")(LocalAdditive)
    return px.Learner("local_additive", Apre=a, Apost=-RATIO * a)


def multiplicative_learner() -> px.Learner:
    """norse's ``multiplicative_pow`` (mu = 1) with matched step sizes, or the fallback.

    norse's trace jumps by dt/tau per spike (0.05 here), so ``eta`` = 0.01 / 0.05 = 0.2 gives
    a change of 1 % of wmax per pair at the far bound, as the additive rule's ``Apre``."""
    eta = 0.2
    try:
        return px.Learner("norse_stdp", stdp_algorithm="multiplicative_pow", mu=1.0,
                          eta_plus=eta, eta_minus=RATIO * eta, w_min=0.0, w_max=GMAX,
                          tau_pre_inv=50.0, tau_post_inv=50.0, a_pre=1.0, a_post=1.0)
    except px.PlastixError as exc:
        print(f"(norse_stdp unavailable: {str(exc).splitlines()[0]}; "
              "using local_multiplicative)")
    if "local_multiplicative" not in px.rules():
        px.register("local_multiplicative")(LocalMultiplicative)
    a = 0.01 * GMAX
    return px.Learner("local_multiplicative", Apre=a, Apost=-RATIO * a)


def simulate(learner: px.Learner, seconds: float, seed: int = 0) -> np.ndarray:
    """Weights (in units of wmax) after ``seconds`` of 15 Hz input."""
    rng = np.random.default_rng(seed)
    syn = learner.bind(rng.uniform(0, GMAX, (1, N_INPUTS)), dt=DT)
    v, ge = VR, 0.0
    decay_e = math.exp(-DT / TAUE)
    steps, chunk = int(seconds * 1000 / DT), 1000
    for start in range(0, steps, chunk):
        pre = (rng.random((chunk, N_INPUTS)) < RATE_HZ * DT / 1000).astype(np.float32)
        for t in range(min(chunk, steps - start)):
            # exponential step of dv/dt = (ge (Ee - v) + El - v) / taum at fixed ge
            v_inf = (ge * EE + EL) / (1.0 + ge)
            v = v_inf + (v - v_inf) * math.exp(-DT * (1.0 + ge) / TAUM)
            spike = v > VT
            if spike:
                v = VR
            ge = ge * decay_e + float(pre[t] @ syn.weight[0])
            syn.step(pre[t][None], np.array([[float(spike)]]))
    return np.asarray(syn.weight, dtype=np.float64)[0] / GMAX


def outer_fifths(w: np.ndarray) -> float:
    """Fraction of weights (in units of wmax) below 0.2 or above 0.8."""
    return float(np.mean((w < 0.2) | (w > 0.8)))


def plot(results: dict[str, np.ndarray], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.8), sharey=True)
    for ax, (title, w) in zip(axes, results.items(), strict=True):
        ax.hist(w, bins=np.linspace(0, 1, 41), color="tab:blue")
        ax.set_title(f"{title}: outer fifths {outer_fifths(w):.0%}")
        ax.set_xlabel("w / wmax")
    axes[0].set_ylabel("synapses")
    fig.suptitle("Song, Miller & Abbott (2000): 1000 Poisson inputs, one LIF neuron")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, np.ndarray]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=None, help="simulated time")
    parser.add_argument("--out", default=None, help="figure (default song_abbott_2000.png)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("PLASTIX_QUICK", "") not in ("", "0")
    seconds = args.seconds or (150.0 if quick else 300.0)
    results = {}
    for title, make in (("additive", additive_learner),
                        ("multiplicative", multiplicative_learner)):
        learner = make()
        w = simulate(learner, seconds)
        results[title] = w
        print(f"{title:<15} rule {learner.name:<22} outer fifths {outer_fifths(w):.2f}  "
              f"mean {w.mean():.2f}  std {w.std():.2f}")
    out = args.out or (None if quick else "song_abbott_2000.png")
    if out:
        try:
            plot(results, out)
            print(f"figure: {out}")
        except ImportError:
            print("figure: not written (needs matplotlib: pip install 'plastix[plot]')")
    return results


if __name__ == "__main__":
    main()
