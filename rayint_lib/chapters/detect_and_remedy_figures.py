"""Figures of chapter 08_detect_and_remedy (Sec. 4): the remedies ranked on the bandit
benchmark (Fig. 08.1) and runs as the detector sees them (Fig. 08.2)."""
from __future__ import annotations

import numpy as np

from .detect_and_remedy_bandit import BASELINE, CURRICULUM, EFFECTS, Benchmark, ranking, ranks

EFFECT_COLORS = {"removes plateaus": "#1a9850", "fewer plateaus": "#91cf60",
                 "only shortens": "#fee08b", "no clear effect": "#bdbdbd", "worse": "#d73027"}


def plot_ranking(bench: Benchmark, summ: dict):
    """Figure 08.1: the ranked remedies, per K: the fraction of runs with a plateau flatter
    than eps and the median samples to solve, with 95% intervals, coloured by effect."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    s = bench.settings
    order = ranking(bench)
    if any((K, CURRICULUM) in summ for K in s.K_list):
        order = order + [CURRICULUM]
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
            if label == CURRICULUM:
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
        axf.set_title(f"K = n = {K}: runs with a plateau flatter\nthan {s.eps_per_sample(K):.2g} "
                      "per sample", fontsize=9)
        axm.set_title(f"K = n = {K}: median samples\nto reach J >= K - 0.1", fontsize=9)
        axf.set_xlabel("fraction of runs")
        axm.set_xlabel("samples (budget dashed)")
    rank = ranks(bench)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([f"{label} ({rank[label]})" if label in rank else label
                             for label in order], fontsize=8)
    handles = [Patch(color=EFFECT_COLORS[e], label=e) for e in EFFECTS]
    handles.append(Patch(color="#7b3294", label="curriculum (what makes it worse)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


# ---------------------------------------------------------------------------------------


def plot_detection(det, title, n_show=3):
    """Figure 08.2: a few runs of one condition as the detector sees them, one column per
    run: J with the detected plateaus shaded (top) and the components J_k on their own axis
    (bottom), on a log axis of updates."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, n_show, figsize=(3.3 * n_show, 4.6), sharex="col",
                             sharey="row", squeeze=False)
    for col, run in enumerate(det.runs[:n_show]):
        top, bottom = axes[0, col], axes[1, col]
        top.plot(run.steps, run.values, color="k", lw=1.5)
        for ax in (top, bottom):
            for p in run.plateaus:
                ax.axvspan(p.start_step, p.end_step, color="#fdae61", alpha=0.4, lw=0)
        if run.components is not None:
            for comp in run.components.values():
                bottom.plot(run.steps, comp, lw=1)
        top.set_xscale("log")
        top.set_title(f"run {run.run}: {len(run.plateaus)} plateau(s) detected", fontsize=9)
        bottom.set_xlabel("updates (log scale)")
    axes[0, 0].set_ylabel(f"J ({title})")
    axes[1, 0].set_ylabel(r"components $J_k$")
    fig.tight_layout()
    return fig
