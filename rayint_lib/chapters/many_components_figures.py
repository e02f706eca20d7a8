"""Figures of chapter 03_many_components (Sec. 3.2, Figs. 4 and 7; App. A).

Each takes what :mod:`rayint_lib.chapters.many_components` computed (its ``Fig4`` record, or
Figure 7's runs) and draws it; nothing is computed here.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..book import plotting
from .many_components import Fig4


def plot_figure4(fig4: Fig4, n_curves=8):
    """Figure 4: individual learning curves J(t) per K = n (log time), detected plateaus as
    thick translucent bars."""
    fig, axes = plotting.new_figure(ncols=len(fig4.runs), width=4.2, height=3.6)
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(n_curves, 1)))
    for ax, (k, r) in zip(axes[0], fig4.runs.items()):
        t = np.maximum(r.steps, 1) * k
        J = r.curves.sum(axis=-1)
        tab = fig4.plateaus[k]
        for i in range(min(n_curves, r.curves.shape[0])):
            stop = np.searchsorted(r.steps, r.stop_step[i], side="right")
            ax.plot(t[:stop], J[i, :stop], color=colors[i], lw=1.2)
            for _, p in tab[tab.run == i].iterrows():
                ax.hlines(p.J_level, p.t_a, p.t_b, color=colors[i], lw=7, alpha=0.35)
        ax.set_xscale("log")
        ax.set_title(f"K = n = {k}")
        ax.set_xlabel("samples")
        ax.set_ylim(0, k)
    axes[0, 0].set_ylabel("performance J")
    plt.close(fig)
    return fig


def plot_stages(fig4: Fig4):
    """Stages of the largest K's runs (box plots over runs): stage length, J_k at the stage
    start relative to J_k(theta0), gradient fraction outside the learned span, surviving
    share of the component's own rate."""
    st = fig4.stages[fig4.K_max]
    fig, axes = plotting.new_figure(ncols=4, width=3.4, height=3.3)
    cols = [("duration", "stage length (samples)", True),
            ("start_ratio", "J_k at stage start / J_k(theta0)", True),
            ("null_fraction", "gradient fraction outside span", False),
            ("progress_ratio", "surviving share of own rate", False)]
    stages_ = sorted(st.stage.unique())
    for ax, (col, label, logy) in zip(axes[0], cols):
        data = [st.loc[st.stage == s, col].dropna().values for s in stages_]
        ax.boxplot(data, positions=stages_, widths=0.6, showfliers=False)
        ax.set_xlabel("stage")
        ax.set_ylabel(label)
        if logy:
            ax.set_yscale("log")
    axes[0, 1].axhline(1, color="grey", ls="--", lw=1)
    plt.close(fig)
    return fig


def plot_figure7(runs7: dict, eps):
    """Figure 7: empirical CDF of the flatness of each run's flattest plateau (blue, solid:
    K = n; warm, dashed: K < n)."""
    fig, axes = plotting.new_figure()
    ax = axes[0, 0]
    Ks = sorted({k for k, _ in runs7})
    cool = plt.cm.Blues(np.linspace(0.45, 0.95, len(Ks)))
    warm = plt.cm.autumn(np.linspace(0.0, 0.75, max(1, sum(k < m for k, m in runs7))))
    iw = 0
    for (k, m), r in runs7.items():
        if k == m:
            color, ls = cool[Ks.index(k)], "-"
        else:
            color, ls = warm[iw], "--"
            iw += 1
        plotting.ecdf(ax, r.flatness, label=f"K={k}, n={m}", color=color, ls=ls)
    ax.axvline(eps, color="grey", lw=1, ls=":")
    ax.set_xlabel("flatness eps of the flattest plateau")
    ax.set_ylabel("fraction of runs")
    ax.legend(ncol=2)
    plt.close(fig)
    return fig
