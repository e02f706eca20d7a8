"""Chapter 08_detect_and_remedy: detect ray interference, what makes it worse, and the
remedies ranked on one benchmark (Sec. 4, "How to detect it?", "What makes it worse?",
"What makes it better?").

The benchmark is the shared-bias bandit of Sec. 2 at K = n = 2 and K = n = 8 from
``J(theta0) = K/10``, the App. A protocol (one sample per context per update, stop at
``J >= K - 0.1`` or after ``max_samples`` samples), the same starts and sampler seeds for
every method (:mod:`rayint_lib.model.remedies`). Each method is scored by the fraction of
runs with a plateau flatter than ``eps`` (the library's flatness: the expected progress at the
visited parameters, normalised by the step size), the median number of samples to reach
``J >= K - 0.1``, the fraction solved within the budget and the final performance, each with
its 95% interval.

On the deep-RL corridor task (:mod:`rayint_lib.model.deep.agent`, at the deep-RL chapter's
default shapes so that its compiled trainers come from JAX's persistent cache) the chapter
runs the remedies in their neural form, each with its step size tuned on other seeds, and the
baseline with a bootstrapped TD(0) critic (Sec. 4, "What makes it worse?"):
:mod:`.deep_rl_remedies`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..book.claims import Claim, Finding, registry
from ..model import remedies as rm
from ..model import stats
from ..model.config import (
    BanditConfig,
    check_choice,
    check_float,
    check_int,
    check_list,
    check_memory,
    check_time,
)
from . import deep_rl_remedies

NOTEBOOK = "08_detect_and_remedy"

REMEDIES = ("reinforce", "mixture", "importance", "separate", "pcgrad", "gradnorm", "natural",
            "escort", "entropy", "adam", "rmsprop", "rebalanced")
KNOWN = REMEDIES + ("tabular", "curriculum")
BASELINE = "REINFORCE (baseline)"

EFFECTS = ("removes plateaus", "fewer plateaus", "only shortens", "no clear effect", "worse")
EFFECT_COLORS = {"removes plateaus": "#1a9850", "fewer plateaus": "#91cf60",
                 "only shortens": "#fee08b", "no clear effect": "#bdbdbd", "worse": "#d73027"}


@dataclass(frozen=True)
class Settings:
    """The chapter's validated parameters."""

    K_list: tuple
    n_list: tuple
    J0: float | None
    max_samples: int
    n_runs: int
    seed: int
    methods: tuple
    mix_fractions: tuple
    iw_fraction: float
    entropy_tau: float
    adaptive_etas: tuple
    tune_runs: int
    eta: float
    eps: float
    detect_runs: int
    deep_rl_runs: int = 0
    deep_rl_env_steps: int = 96_000
    extra: tuple = field(default=("curriculum",))

    def J0_for(self, K):
        return K / 10 if self.J0 is None else self.J0


def validate(K_list=(2, 8), n_list=(2, 8), J0=None, max_samples=100_000, n_runs=200, seed=0,
             methods=REMEDIES, mix_fractions=(0.01, 0.1, 0.3, 1.0), iw_fraction=0.1,
             entropy_tau=0.01, adaptive_etas=(0.001, 0.01, 0.1), tune_runs=50, eta=0.1,
             eps=1e-5, detect_runs=40, deep_rl_runs=64, deep_rl_env_steps=96_000):
    """Parameters of ``08_detect_and_remedy`` -> :class:`Settings`; ``ValueError`` naming
    the parameter (unknown method names are rejected with the list of known ones)."""
    K_list = check_list("K_list", K_list, check_int, low=2, high=64)
    n_list = check_list("n_list", n_list, check_int, low=2, high=64)
    if len(n_list) != len(K_list):
        raise ValueError(f"n_list must have one entry per K in K_list; got K_list={K_list}, "
                         f"n_list={n_list}")
    for K, n in zip(K_list, n_list):
        if n < K:
            raise ValueError(f"n_list entries must be >= the K_list entries (one right arm per "
                             f"context); got K={K}, n={n}")
    if J0 is not None:
        check_float("J0", J0, 0, min(K_list), low_open=True, high_open=True)
    check_int("max_samples", max_samples, max(K_list) * 10, 10**8)
    check_int("n_runs", n_runs, 2, 100_000)
    check_int("seed", seed, 0)
    methods = check_list("methods", methods, check_choice, choices=KNOWN)
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods lists a name twice: {methods}")
    mix_fractions = check_list("mix_fractions", mix_fractions, check_float, low=0, high=1,
                               low_open=True)
    check_float("iw_fraction", iw_fraction, 0, 1, low_open=True)
    check_float("entropy_tau", entropy_tau, 0, None, low_open=True)
    adaptive_etas = check_list("adaptive_etas", adaptive_etas, check_float, low=0, low_open=True)
    check_int("tune_runs", tune_runs, 2, 100_000)
    check_float("eta", eta, 0, None, low_open=True)
    check_float("eps", eps, 0, None, low_open=True)
    check_int("detect_runs", detect_runs, 2, n_runs)
    check_int("deep_rl_runs", deep_rl_runs, 0, 4096)
    if deep_rl_runs == 1:
        raise ValueError("deep_rl_runs must be 0 (not run) or at least 2 (intervals need "
                         "runs); got 1")
    check_int("deep_rl_env_steps", deep_rl_env_steps, 1600, 10**9)
    s = Settings(tuple(K_list), tuple(n_list), J0, max_samples, n_runs, seed, tuple(methods),
                 tuple(mix_fractions), iw_fraction, entropy_tau, tuple(adaptive_etas),
                 tune_runs, eta, eps, detect_runs, deep_rl_runs=deep_rl_runs,
                 deep_rl_env_steps=deep_rl_env_steps)
    if deep_rl_runs:
        from ..model.deep import agent
        check_memory(f"deep_rl_runs={deep_rl_runs}",
                     agent.memory_bytes(deep_rl_config(s).agent_spec(separate=True),
                                        deep_rl_runs),
                     "seeds x (6 x parameters + rollout activations + exact-J tables) x 4 "
                     "bytes")
    n_sets = len(planned_methods(s)) + 1
    n_ck = 200
    per_K = [(n_sets * n_runs + 2 * len(adaptive_etas) * tune_runs) * (n_ck * K + 4 * K + 4) * 8
             + n_runs * K * n * 8 for K, n in zip(K_list, n_list)]
    check_memory(f"n_runs={n_runs}, K_list={list(K_list)}, methods", sum(per_K),
                 "runs x methods x (200 checkpoints x K + 4 K + 4) x 8 bytes, kept for the "
                 "figures and the detector")
    work = sum((n_sets * n_runs + 2 * len(adaptive_etas) * tune_runs) * (max_samples // K) * K
               * n for K, n in zip(K_list, n_list))
    check_time(f"n_runs={n_runs} x max_samples={max_samples}", work * 3e-8,
               "runs x updates x K x n x 30 ns, the remedies kernel on 2 loaded cores")
    return s


def planned_methods(s: Settings) -> list:
    """The :class:`~rayint_lib.model.remedies.Method` objects of the benchmark (Adam and
    RMSProp at their first grid step size until :func:`tune` chooses)."""
    out = []
    for name in s.methods + tuple(x for x in s.extra if x not in s.methods):
        if name == "mixture":
            out += [rm.Method("mixture", eta=s.eta, mix=f) for f in s.mix_fractions]
        elif name == "importance":
            out.append(rm.Method("importance", eta=s.eta, mix=s.iw_fraction))
        elif name == "entropy":
            out.append(rm.Method("entropy", eta=s.eta, tau=s.entropy_tau))
        elif name in ("adam", "rmsprop"):
            out.append(rm.Method(name, eta=s.adaptive_etas[0]))
        else:
            out.append(rm.Method(name, eta=s.eta))
    return out


def _run(s: Settings, method, K, n, n_runs=None, seed=None):
    return rm.run_method(method, K=K, n=n, J0=s.J0_for(K), n_runs=n_runs or s.n_runs,
                         max_samples=s.max_samples, seed=s.seed if seed is None else seed)


def tune(s: Settings, kind, K, n):
    """Step size of Adam or RMSProp from the grid ``adaptive_etas``: ``tune_runs`` runs on a
    separate seed (``seed + 1``), best median samples to solve (unsolved = inf), ties broken
    by the fraction solved. Returns ``(eta, table)``."""
    rows = []
    for eta in s.adaptive_etas:
        r = _run(s, rm.Method(kind, eta=eta), K, n, n_runs=s.tune_runs, seed=s.seed + 1)
        med = float(np.median(np.where(r.solved, r.samples_to_solve, np.inf)))
        rows.append({"optimizer": kind, "K": K, "eta": eta, "median samples": med,
                     "solved": float(r.solved.mean()), "flat": float(r.flat(s.eps).mean())})
    table = pd.DataFrame(rows)
    best = table.sort_values(["median samples", "solved"], ascending=[True, False]).iloc[0]
    return float(best["eta"]), table


@dataclass
class Benchmark:
    """Every method's runs per K, the tuning table and the timing."""

    settings: Settings
    runs: dict            # (K, label) -> RemedyRuns
    labels: list          # method labels in the order they were run (per K may differ)
    tuning: pd.DataFrame
    seconds: float


def benchmark(s: Settings) -> Benchmark:
    """Run every planned method at every ``(K, n)`` with the same seeds and budget."""
    t0 = time.perf_counter()
    runs, tuning, labels = {}, [], []
    for K, n in zip(s.K_list, s.n_list):
        for m in planned_methods(s):
            if m.kind in ("adam", "rmsprop"):
                eta, table = tune(s, m.kind, K, n)
                tuning.append(table)
                m = m.with_(eta=eta)
                label = "Adam (tuned)" if m.kind == "adam" else "RMSProp (tuned)"
                m = rm.Method(**{**m.__dict__, "label": label})
            runs[(K, m.label)] = _run(s, m, K, n)
            if m.label not in labels:
                labels.append(m.label)
    tuning = pd.concat(tuning, ignore_index=True) if tuning else pd.DataFrame()
    return Benchmark(s, runs, labels, tuning, time.perf_counter() - t0)


def summarize(r: rm.RemedyRuns, eps=1e-5) -> dict:
    """One method at one K: each number with its 95% interval."""
    return {"flat": stats.fraction(r.flat(eps)),
            "median_samples": stats.median(r.samples_to_solve),
            "solved": stats.fraction(r.solved),
            "final_J": stats.bootstrap(np.mean, r.final.sum(1))}


def _disjoint_below(a: stats.Estimate, b: stats.Estimate) -> bool:
    """``a``'s interval lies entirely below ``b``'s."""
    return a.high < b.low


def effect(row: dict, base: dict) -> str:
    """How a method compares with the baseline at one K (intervals, not point values):
    *removes plateaus* (flat fraction at most 2%, its interval below the baseline's),
    *fewer plateaus* (flat interval below the baseline's), *only shortens* (flat fraction
    not lower, median samples lower), *worse* (flat fraction or median samples higher),
    *no clear effect* otherwise."""
    f, b = row["flat"], base["flat"]
    if _disjoint_below(f, b):
        return "removes plateaus" if f.value <= 0.02 else "fewer plateaus"
    m, bm = row["median_samples"], base["median_samples"]
    if _disjoint_below(m, bm):
        return "only shortens"
    if _disjoint_below(b, f) or _disjoint_below(bm, m):
        return "worse"
    return "no clear effect"


def summaries(bench: Benchmark) -> dict:
    """``{(K, label): summary dict}`` with the effect against the baseline."""
    out = {key: summarize(r, bench.settings.eps) for key, r in bench.runs.items()}
    for (K, label), row in out.items():
        base = out.get((K, BASELINE))
        row["effect"] = "baseline" if label == BASELINE or base is None else effect(row, base)
    return out


def _fmt(e: stats.Estimate, spec=".2f") -> str:
    if not np.isfinite(e.value):
        return "not reached" if e.value == np.inf else "n/a"
    hi = "inf" if not np.isfinite(e.high) else format(e.high, spec)
    return f"{e.value:{spec}} [{e.low:{spec}}, {hi}]"


def ranking(bench: Benchmark, summ: dict) -> list:
    """Method labels, best first: by the mean over K of the flat fraction, then of the
    log median samples to solve (unsolved counts as twice the budget)."""
    s = bench.settings

    def key(label):
        flats, meds = [], []
        for K in s.K_list:
            row = summ.get((K, label))
            if row is None:
                continue
            flats.append(row["flat"].value)
            m = row["median_samples"].value
            meds.append(np.log10(m if np.isfinite(m) else 2 * s.max_samples))
        return (round(float(np.mean(flats)), 3), float(np.mean(meds)))

    return sorted([lab for lab in bench.labels if lab != rm.default_label(
        rm.Method("curriculum"))], key=key)


def remedy_table(bench: Benchmark, summ: dict) -> pd.DataFrame:
    """The ranked table (glued as ``remedy_table``): per K, the fraction of runs with a
    plateau flatter than eps, the median samples to solve, the fraction solved, the mean
    final J (each with its 95% interval), and the effect against the baseline."""
    s = bench.settings
    rows = []
    for rank, label in enumerate(ranking(bench, summ), start=1):
        row = {"rank": rank, "method": label}
        for K, n in zip(s.K_list, s.n_list):
            r = summ.get((K, label))
            if r is None:
                continue
            tag = f"K=n={K}" if K == n else f"K={K}, n={n}"
            row[f"{tag}: flat <= {s.eps:g}"] = _fmt(r["flat"])
            row[f"{tag}: median samples"] = _fmt(r["median_samples"], ".3g")
            row[f"{tag}: solved"] = _fmt(r["solved"])
            row[f"{tag}: final J"] = _fmt(r["final_J"], ".3g")
            row[f"{tag}: effect"] = r["effect"]
        rows.append(row)
    return pd.DataFrame(rows)


def tuning_table(bench: Benchmark) -> pd.DataFrame:
    t = bench.tuning.copy()
    if t.empty:
        return t
    t["median samples"] = t["median samples"].map(lambda x: "not reached" if not np.isfinite(x)
                                                  else f"{x:.3g}")
    return t


def library_check(bench: Benchmark, K, n):
    """The baseline against the library's on-policy simulator (same config, same starts,
    different sampler): both flat fractions with Wilson intervals and the two-proportion z."""
    s = bench.settings
    cfg = BanditConfig(K=K, n=n, J0=s.J0_for(K), n_runs=s.n_runs, max_samples=s.max_samples,
                       seed=s.seed, eta=s.eta)
    from ..model.simulate import simulate

    lib = simulate(cfg)
    ours = bench.runs[(K, BASELINE)].flat(s.eps)
    theirs = np.nan_to_num(lib.flatness, nan=np.inf) <= s.eps
    p1, p2 = ours.mean(), theirs.mean()
    p = (ours.sum() + theirs.sum()) / (ours.size + theirs.size)
    se = np.sqrt(p * (1 - p) * (1 / ours.size + 1 / theirs.size))
    z = 0.0 if se == 0 else float((p1 - p2) / se)
    return {"ours": stats.fraction(ours), "theirs": stats.fraction(theirs), "z": z,
            "agree": abs(z) < 1.96}


def paired_difference(a_flags, b_flags) -> stats.Estimate:
    """``mean(a) - mean(b)`` over runs paired by their start (same seed), bootstrap interval."""
    a = np.asarray(a_flags, float)
    b = np.asarray(b_flags, float)
    return stats.bootstrap(lambda x, y: np.mean(x) - np.mean(y), a, b)


def reduction(bench: Benchmark, label, K) -> stats.Estimate:
    """Baseline flat fraction minus the method's (paired by start): > 0 means fewer plateaus."""
    eps = bench.settings.eps
    return paired_difference(bench.runs[(K, BASELINE)].flat(eps), bench.runs[(K, label)].flat(eps))


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------

def plot_ranking(bench: Benchmark, summ: dict):
    """Figure 08.1: the ranked remedies, per K: the fraction of runs with a plateau flatter
    than eps and the median samples to solve, with 95% intervals, coloured by effect."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    s = bench.settings
    order = ranking(bench, summ)
    curriculum = rm.default_label(rm.Method("curriculum"))
    if any((K, curriculum) in summ for K in s.K_list):
        order = order + [curriculum]
    fig, axes = plt.subplots(1, 2 * len(s.K_list), figsize=(3.2 * 2 * len(s.K_list), 0.32 *
                                                              len(order) + 1.6), sharey=True)
    y = np.arange(len(order))[::-1]
    for j, K in enumerate(s.K_list):
        axf, axm = axes[2 * j], axes[2 * j + 1]
        for yi, label in zip(y, order):
            row = summ.get((K, label))
            if row is None:
                continue
            c = EFFECT_COLORS.get(row["effect"], "#4d4d4d")
            if label == curriculum:
                c = "#7b3294"
            f = row["flat"]
            axf.barh(yi, f.value, color=c, height=0.7)
            axf.plot([f.low, f.high], [yi, yi], color="k", lw=1)
            m = row["median_samples"]
            top = 2 * s.max_samples
            mv = m.value if np.isfinite(m.value) else top
            axm.barh(yi, mv, color=c, height=0.7, left=0)
            axm.plot([m.low, min(m.high, top)], [yi, yi], color="k", lw=1)
        base = summ[(K, BASELINE)]
        axf.axvline(base["flat"].value, color="k", ls=":", lw=1)
        axm.axvline(base["median_samples"].value, color="k", ls=":", lw=1)
        axm.axvline(s.max_samples, color="grey", ls="--", lw=0.8)
        axf.set_xlim(0, 1)
        axm.set_xscale("log")
        axm.set_xlim(10, 2 * s.max_samples)
        axf.set_title(f"K = n = {K}: runs with a plateau\nflatter than {s.eps:g}", fontsize=9)
        axm.set_title(f"K = n = {K}: median samples\nto reach J >= K - 0.1", fontsize=9)
        axf.set_xlabel("fraction of runs")
        axm.set_xlabel("samples (budget dashed)")
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(order, fontsize=8)
    handles = [Patch(color=EFFECT_COLORS[e], label=e) for e in EFFECTS]
    handles.append(Patch(color="#7b3294", label="curriculum (what makes it worse)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


# ---------------------------------------------------------------------------------------
# detection (rayint_lib.model.detection, helper H7's detector)
# ---------------------------------------------------------------------------------------

def long_format(r: rm.RemedyRuns, n_runs, components=True):
    """The first ``n_runs`` runs' curves as one row per logged point (the detector's input):
    ``steps`` (updates), ``values`` (J_k, or J), ``runs`` and ``components`` labels."""
    R = min(n_runs, r.curves.shape[0])
    steps = r.steps
    keep = steps > 0
    steps = steps[keep]
    curves = r.curves[:R, keep]
    T, K = steps.size, curves.shape[-1]
    if components:
        st = np.broadcast_to(steps[None, :, None], (R, T, K)).ravel()
        runs = np.broadcast_to(np.arange(R)[:, None, None], (R, T, K)).ravel()
        comps = np.broadcast_to(np.arange(K)[None, None, :], (R, T, K)).ravel()
        return st, curves.ravel(), runs, comps
    st = np.broadcast_to(steps[None, :], (R, T)).ravel()
    runs = np.broadcast_to(np.arange(R)[:, None], (R, T)).ravel()
    return st, curves.sum(-1).ravel(), runs, None


def detect_runs(bench: Benchmark, label, K, components=True):
    """H7's detector on the first ``detect_runs`` runs of ``label`` at ``K``."""
    from ..model.detection import detect

    st, values, runs, comps = long_format(bench.runs[(K, label)], bench.settings.detect_runs,
                                          components)
    return detect(st, values, runs=runs, components=comps, eta=bench.settings.eta)


def detection_table(bench: Benchmark, conditions: dict, K) -> tuple[pd.DataFrame, dict]:
    """The protocol of Sec. 4 on the bandit: the detector on the baseline and on the two
    controls. ``conditions``: ``{row name: method label}``. Returns the table and
    ``{row name: Detection}``."""
    rows, found = [], {}
    for name, label in conditions.items():
        d = detect_runs(bench, label, K)
        found[name] = d
        with_plateaus = np.array([bool(r.plateaus) for r in d.runs])
        counts = np.array([len(r.plateaus) for r in d.runs], float)
        rows.append({"condition": name, "method": label,
                     "runs with plateaus": _fmt(stats.fraction(with_plateaus)),
                     "plateaus per run": _fmt(stats.bootstrap(np.mean, counts)),
                     "mean curve plateaus": len(d.mean_plateaus),
                     "averaging hides them": "yes" if d.averaging_hides_plateaus else "no",
                     "runs learning one component at a time":
                         f"{d.sequential_runs} of {sum(r.pairs > 0 for r in d.runs)}",
                     "verdict": d.verdict})
    return pd.DataFrame(rows), found


def plot_detection(det, title, n_show=6):
    """A few runs of one condition with their detected plateaus shaded (log time axis)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n_show, figsize=(2.3 * n_show, 2.4), sharey=True)
    for ax, run in zip(np.atleast_1d(axes), det.runs[:n_show]):
        if run.components is not None:
            for comp in run.components.values():
                ax.plot(run.steps, comp, lw=0.8, alpha=0.8)
        ax.plot(run.steps, run.values, color="k", lw=1.5)
        for p in run.plateaus:
            ax.axvspan(p.start_step, p.end_step, color="#fdae61", alpha=0.4)
        ax.set_xscale("log")
        ax.set_title(f"run {run.run}: {len(run.plateaus)} plateau(s)", fontsize=8)
        ax.set_xlabel("updates")
    np.atleast_1d(axes)[0].set_ylabel(f"J and J_k ({title})")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------
# claims of the paper (Sec. 4) and the book's findings
# ---------------------------------------------------------------------------------------

_WHY_SIGN = ("the paper gives a direction, not a size: any change whose 95% interval "
             "excludes zero in the stated direction")

CLAIMS = registry(
    Claim("sec4-curriculum-amplifies-wta", "Sec. 4, What makes it worse?",
          "curricula based on recent learning progress ... amplif[y] the winner-take-all "
          "dynamics (measured: curriculum minus uniform context sampling, fraction of runs "
          "with a plateau flatter than 1e-5, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-offpolicy-reduces-coupling", "Sec. 4, What makes it better?",
          "coupling can be reduced by introducing elements of off-policy learning that "
          "dilutes the coupled data distribution with exploratory experience (measured: "
          "baseline minus 10% uniform mixture, flat fraction, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-rebalancing-reduces-coupling", "Sec. 4, What makes it better?",
          "rebalancing the data distribution with a suitable form of prioritized replay "
          "(measured: baseline minus contexts sampled ~ 1 - J_k, flat fraction, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-multihead-reduces-interference", "Sec. 4, What makes it better?",
          "modular or multi-head architectures ... avoid negative interference (measured: "
          "baseline minus separate heads, flat fraction, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-gradient-level", "Sec. 4, What makes it better?",
          "methods that prevent the interference directly at the gradient level (measured: "
          "baseline minus PCGrad, flat fraction, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-normalise-loss-scales", "Sec. 4, What makes it better?",
          "[methods that] normalize the scales of the losses (measured: baseline minus "
          "GradNorm-style equal norms, flat fraction, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-natural-gradient", "Sec. 4, What makes it better?",
          "it is plausible that following the natural gradient helps as well (measured: "
          "baseline minus natural gradient, flat fraction, K = n = 2)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-td-bootstrap-coupling", "Sec. 4, What makes it worse?",
          "using temporal-difference methods that bootstrap from value estimates may "
          "introduce a form of coupling where the values improve faster in regions of state "
          "space that already have accurate and consistent bootstrap targets (measured: "
          "final J_k of the weakest room of the corridor task, Monte Carlo returns minus "
          "TD(0) critic, paired by seed)",
          0.0, "at_least", 0.0, why=_WHY_SIGN),
    Claim("sec4-averaging-hides-plateaus", "Sec. 4, How to detect it?",
          "plateaus tend to be averaged out when curves [are] aggregated across many runs",
          rule="holds"),
    Claim("sec4-components-stall", "Sec. 4, How to detect it?",
          "progress stalls on some components while others learn, and then picks up later "
          "(K = n = 8 baseline runs, the detector's stall test)", rule="holds"),
    Claim("sec4-controls-dissipate", "Sec. 4, How to detect it?",
          "if the plateaus dissipate under these control experiments [reduce interference; "
          "reduce coupling], they were likely due to ray interference (measured: both "
          "controls have fewer flat runs than the baseline, intervals disjoint)",
          rule="holds"),
)

FINDINGS = registry(
    Finding("remedy-ranking", "Sec. 4",
            "Which remedies remove the plateaus on the bandit benchmark, and which only "
            "shorten them?"),
    Finding("natural-gradient-reparameterisation", "Sec. 4",
            "What does the natural gradient do to the shared-bias model, a reparameterisation "
            "of the tabular one?"),
    Finding("importance-weighting-restores-coupling", "Sec. 4",
            "Does off-policy data help when it is importance-weighted back to the on-policy "
            "gradient?"),
    Finding("adaptive-optimizers", "Sec. 4, App. A",
            "Do Adam or RMSProp at their best step size remove the plateaus?"),
    Finding("deep-rl-remedies", "Sec. 4, Sec. 3.3",
            "Which remedies, in their neural form and each with its tuned step size, let the "
            "corridor-task agent learn every room?"),
    Finding("td-critic-deep-rl", "Sec. 4, What makes it worse?",
            "Does a bootstrapped TD(0) critic leave the corridor agent's stalled room further "
            "behind than Monte Carlo returns?"),
    Finding("baseline-matches-library", "App. A",
            "Does the remedies kernel's REINFORCE reproduce the library's on-policy flat "
            "fraction?"),
)


# ---------------------------------------------------------------------------------------
# glue and prose helpers
# ---------------------------------------------------------------------------------------

def slug(label: str) -> str:
    """A glue-name part for a method label: ``"mixture 0.1"`` -> ``"mixture_0.1"``."""
    out = "".join(c if c.isalnum() or c == "." else "_" for c in label.lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def glue_values(bench: Benchmark, summ: dict) -> dict:
    """Every number of the table as glue names ``remedy_{flat,median,solved,finalJ}_K{K}_{slug}``
    (Estimates: with ``_ci_low`` / ``_ci_high``), plus the settings and the timing."""
    s = bench.settings
    out = {"remedy_n_runs": s.n_runs, "remedy_max_samples": s.max_samples,
           "remedy_eps": s.eps, "remedy_eta": s.eta, "remedy_seconds": bench.seconds,
           "remedy_n_methods": len(bench.labels) - 1, "remedy_tau": s.entropy_tau,
           "remedy_iw_fraction": s.iw_fraction}
    for (K, label), row in summ.items():
        tag = f"K{K}_{slug(label)}"
        out[f"remedy_flat_{tag}"] = row["flat"]
        out[f"remedy_median_{tag}"] = row["median_samples"]
        out[f"remedy_solved_{tag}"] = row["solved"]
        out[f"remedy_finalJ_{tag}"] = row["final_J"]
    return out


def effect_lists(bench: Benchmark, summ: dict) -> dict:
    """Per effect, the methods with that effect at every K (``"consistent"``) as text, for
    the prose: ``{effect: "a, b and c"}`` (``"none"`` when empty)."""
    s = bench.settings
    out = {}
    for e in EFFECTS:
        names = [lab for lab in ranking(bench, summ)
                 if all(summ[(K, lab)]["effect"] == e for K in s.K_list if (K, lab) in summ)]
        out[e] = _join(names)
    mixed = [lab for lab in ranking(bench, summ)
             if len({summ[(K, lab)]["effect"] for K in s.K_list if (K, lab) in summ}) > 1]
    out["mixed"] = _join([lab + " (" + ", ".join(f"K={K}: {summ[(K, lab)]['effect']}"
                                                for K in s.K_list if (K, lab) in summ) + ")"
                          for lab in mixed])
    return out


def _join(names):
    if not names:
        return "none"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def best_three(bench: Benchmark, summ: dict) -> list:
    return ranking(bench, summ)[:3]


def claims_evidence(bench: Benchmark) -> dict:
    """``{claim id: (measured, evidence, readings)}`` for the benchmark's numeric claims."""
    s = bench.settings
    K = s.K_list[0]
    curriculum = rm.default_label(rm.Method("curriculum"))
    pairs = {"sec4-offpolicy-reduces-coupling": "mixture 0.1",
             "sec4-rebalancing-reduces-coupling": "rebalanced contexts",
             "sec4-multihead-reduces-interference": "separate heads",
             "sec4-gradient-level": "PCGrad",
             "sec4-normalise-loss-scales": "GradNorm-style equal norms",
             "sec4-natural-gradient": "natural gradient"}
    out = {}
    ev = (f"{s.n_runs} runs per method, same starts; paired bootstrap of the difference in "
          f"the fraction of runs with a plateau flatter than {s.eps:g}")
    if all((k, curriculum) in bench.runs for k in s.K_list):
        def amp(k):
            return paired_difference(bench.runs[(k, curriculum)].flat(s.eps),
                                     bench.runs[(k, BASELINE)].flat(s.eps))
        out["sec4-curriculum-amplifies-wta"] = (
            amp(K), ev, {f"K = n = {k}": amp(k) for k in s.K_list})
    for cid, label in pairs.items():
        if not all((k, label) in bench.runs for k in s.K_list):
            continue
        readings = {f"K = n = {k}": reduction(bench, label, k) for k in s.K_list}
        if cid == "sec4-offpolicy-reduces-coupling":
            readings.update({f"mixture {f:g}, K = n = {K}":
                             reduction(bench, f"mixture {f:g}", K) for f in s.mix_fractions
                             if f < 1 and (K, f"mixture {f:g}") in bench.runs})
        out[cid] = (reduction(bench, label, K), ev, readings)
    return out


def controls_dissipate(bench: Benchmark) -> dict:
    """Both controls (separate heads; fixed uniform data) have fewer flat runs than the
    baseline at every K (95% intervals of the paired differences above zero)."""
    s = bench.settings
    parts, ok = [], True
    for K in s.K_list:
        for label in ("separate heads", "fixed uniform data"):
            if (K, label) not in bench.runs:
                return {"holds": False, "text": f"control {label!r} not run"}
            d = reduction(bench, label, K)
            ok &= d.low > 0
            parts.append(f"K={K} {label}: {d:.2f}")
    return {"holds": bool(ok), "text": "baseline minus control, flat fraction: "
            + "; ".join(parts)}


def ranking_answer(bench: Benchmark, summ: dict) -> str:
    e = effect_lists(bench, summ)
    return (f"Remove the plateaus at every K: {e['removes plateaus']}. Fewer plateaus: "
            f"{e['fewer plateaus']}. Only shorten: {e['only shortens']}. No clear effect: "
            f"{e['no clear effect']}. Worse: {e['worse']}. Best three: "
            f"{_join(best_three(bench, summ))}.")


def findings(bench: Benchmark, summ: dict, lib: dict) -> dict:
    """``{finding id: (answer, value, evidence)}`` besides the ranking."""
    s = bench.settings
    K = max(s.K_list)
    out = {}
    nat = summ.get((K, "natural gradient"))
    if nat is not None:
        out["natural-gradient-reparameterisation"] = (
            "It is the tabular natural gradient: the shared-bias model is a linear, onto "
            "reparameterisation of the tabular logits, so the (W, b) natural gradient (Fisher "
            "pseudo-inverse) moves the logits exactly as the tabular one (tested). The "
            "interference through b disappears, and for the softmax the step is e_k in "
            "expectation whatever J_k: the coupling disappears too. Flat fraction at K = n = "
            f"{K}: {nat['flat']:.3f}; median samples {nat['median_samples']:.3g}.",
            nat["flat"], f"{s.n_runs} runs at K = n = {K}")
    iw = [lab for (k, lab) in summ if k == K and lab.startswith("importance")]
    if iw:
        r, b = summ[(K, iw[0])], summ[(K, BASELINE)]
        out["importance-weighting-restores-coupling"] = (
            "Importance weighting makes the off-policy update on-policy in expectation, with "
            "the same coupling f(J) = J: the expected dynamics and their plateaus are "
            f"unchanged. Flat fraction at K = n = {K}: {r['flat']:.3f} against "
            f"{b['flat']:.3f} for the baseline ({r['effect']}).",
            r["flat"], f"{s.n_runs} runs at K = n = {K}")
    ad = [(k, lab) for (k, lab) in summ if lab in ("Adam (tuned)", "RMSProp (tuned)")]
    if ad:
        txt = "; ".join(f"{lab} at K = n = {k}: flat {summ[(k, lab)]['flat']:.2f}, "
                        f"{summ[(k, lab)]['effect']}" for k, lab in ad)
        etas = ", ".join(f"{r.method.label} K={k}: eta = {r.method.eta:g}"
                         for (k, lab), r in bench.runs.items() if (k, lab) in ad)
        removes = all(summ[key]["effect"] == "removes plateaus" for key in ad)
        out["adaptive-optimizers"] = (f"{'Yes' if removes else 'No'}: {txt} (tuned step sizes: "
                                      f"{etas}).",
                                      summ[ad[-1]]["flat"],
                                      f"grid {list(s.adaptive_etas)}, {s.tune_runs} tuning runs")
    agree = all(c["agree"] for c in lib.values())
    out["baseline-matches-library"] = (
        ("Yes" if agree else "No") + ": " + "; ".join(
            f"K = n = {k}: {c['ours']:.3f} here vs {c['theirs']:.3f} library (z = {c['z']:.2f})"
            for k, c in lib.items()),
        bool(agree), f"{s.n_runs} runs each, same starts, independent samplers")
    return out


# ---------------------------------------------------------------------------------------
# the deep-RL rooms task (the deep-RL chapter's trainer, rayint_lib.model.deep.agent)
# ---------------------------------------------------------------------------------------

def deep_rl_config(s: Settings):
    """The deep-RL chapter's configuration at its defaults, with ``deep_rl_runs`` seeds,
    ``deep_rl_env_steps`` environment steps and this chapter's seed: at the defaults the
    same shapes as ``03b_deep_rl``, so its compiled trainers are reused from JAX's cache."""
    from . import deep_rl as drl
    return drl.validate(rl_seeds=max(2, s.deep_rl_runs), env_steps=s.deep_rl_env_steps,
                        seed=s.seed)


def best_mixture(bench: Benchmark, summ: dict) -> float:
    """The best-ranked uniform-action fraction below 1 of the bandit benchmark (0.1, the
    paper's Fig. 6 fraction, when the sweep was not run)."""
    K = max(bench.settings.K_list)
    for label in ranking(bench, summ):
        r = bench.runs.get((K, label))
        if r is not None and r.method.kind == "mixture" and r.method.mix < 1:
            return float(r.method.mix)
    return 0.1


def deep_rl(bench: Benchmark, summ: dict):
    """Every method of :mod:`.deep_rl_remedies` on the corridor task, ``deep_rl_runs`` seeds
    each, at the deep-RL chapter's default agent; ``None`` when ``deep_rl_runs = 0``."""
    s = bench.settings
    if s.deep_rl_runs == 0:
        return None
    from .deep_rl import _enable_compilation_cache

    _enable_compilation_cache()
    return deep_rl_remedies.run(deep_rl_config(s).agent_spec(), best_mixture(bench, summ),
                                s.deep_rl_runs, s.seed)


deep_rl_summary = deep_rl_remedies.summary
deep_rl_glue = deep_rl_remedies.glue
deep_rl_findings = deep_rl_remedies.findings
td_difference = deep_rl_remedies.td_difference


def deep_rl_text(bench: Benchmark, summ: dict, d) -> str:
    """One sentence for the prose: what was run on the corridor task, or why not."""
    return deep_rl_remedies.text(d)


def deep_rl_table(d, summ_rl: dict) -> pd.DataFrame:
    return deep_rl_remedies.table(d, summ_rl)
