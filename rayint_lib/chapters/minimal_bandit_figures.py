"""Figures of chapter 01_minimal_bandit (Sec. 2, Figs. 1-3).

Each draws what :mod:`rayint_lib.chapters.minimal_bandit` computed; colours follow the
paper's code (:data:`rayint_lib.book.plotting.SETTING_COLORS`), the mixture in Fig. 6's orange.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize

from ..book import plotting
from ..model import dynamics
from ..model.expected_flow import field_from_updates
from ..model.simulate import BanditRuns
from .minimal_bandit import EPS, FIG1_COLUMNS, performance

MIXTURE_COLOR = "#ff7f0e"       # Fig. 6's orange


def plot_figure1(runs: dict[str, BanditRuns], colour="performance"):
    """Figure 1: flow of the expected dynamics with sample trajectories (top) and their
    learning curves (bottom), coloured by performance (``"performance"``: mean J over the
    horizon, low = warm, as in the paper) or by samples to solve (``"samples"``)."""
    if colour == "performance":
        values = {t: performance(r) for t, r in runs.items()}
        every = np.concatenate(list(values.values()))
        norm = Normalize(every.min(), every.max())
        cmap, label = ("coolwarm_r", "average performance over the run\n"
                                     "(mean of J at log-spaced sample counts)")
    else:
        values = {t: np.where(r.solved, r.samples_to_solve, r.config.max_samples)
                  for t, r in runs.items()}
        every = np.concatenate(list(values.values()))
        norm = LogNorm(max(every.min(), 1), max(every.max(), 2))
        cmap, label = "coolwarm", "samples to solve"
    cm = plt.get_cmap(cmap)
    fig, axes = plotting.new_figure(ncols=3, nrows=2, width=3.6, height=3.4)
    for col, (learner, policy, title) in enumerate(FIG1_COLUMNS):
        r, v = runs[title], values[title]
        _flow_panel(axes[0, col], learner, policy)
        samples = np.maximum(r.steps * r.config.K, 1)
        for i in np.argsort(-v if colour == "performance" else v):
            keep = r.steps <= r.stop_step[i]
            colour_i = cm(norm(v[i]))
            axes[0, col].plot(*r.curves[i, keep].T, color=colour_i, lw=0.8, alpha=0.85)
            axes[1, col].plot(samples[keep], r.curves[i, keep].sum(-1), color=colour_i, lw=0.8,
                              alpha=0.85)
        axes[0, col].set_title(title)
        axes[1, col].set(xscale="log", xlabel="samples", ylabel="$J$", ylim=(0, r.config.K))
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0, :], shrink=0.8,
                 label=label)
    return fig


def _flow_panel(ax, learner, policy, n_grid=25):
    g = np.linspace(0.02, 0.98, n_grid)
    J1, J2 = np.meshgrid(g, g)
    U, V = field_from_updates(learner, policy)(J1, J2)
    ax.streamplot(J1, J2, U, V, color="0.6", density=0.9, linewidth=0.6, arrowsize=0.7)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="$J_1$", ylabel="$J_2$", aspect="equal")


def plot_figure2(basin: dict):
    """Figure 2: null clines, inflection lines (solid where a plateau), the basin of the
    ``eps``-plateau near (0, 1) and the App. B.3 polygon."""
    fig, axes = plotting.new_figure(width=5.2, height=5.2)
    ax = axes[0, 0]
    n = basin["grid"].shape[0]
    g = (np.arange(n) + 0.5) / n
    G1, G2 = np.meshgrid(g, g)
    mask = basin["grid"].astype(float)
    ax.contourf(G1, G2, mask, levels=[0.5, 1.5], colors=["#ffb347"], alpha=0.5)
    ax.contour(G1, G2, mask, levels=[0.5], colors=["darkorange"], linewidths=1.5)
    poly = basin["polygon"]
    ax.fill(poly[:, 0], poly[:, 1], facecolor="none", edgecolor="red", lw=1.5,
            label="B.3 lower bound")
    y = np.linspace(0, 1, 400)
    for branch in ("low", "high"):
        x = dynamics.null_cline_J1(y, branch)
        ax.plot(x, y, color="green", lw=1.2)
        ax.plot(y, x, color="green", lw=1.2)
    ax.contour(G1, G2, dynamics.p6_from_dynamics(G1, G2), levels=[0], colors=["tab:blue"],
               linestyles="--", linewidths=1)
    is_plateau = dynamics.p6_antidiagonal(np.clip(y, 1e-4, 1 - 1e-4)) < 0
    ax.plot(np.where(is_plateau, y, np.nan), 1 - y, color="tab:blue", lw=2.5,
            label=r"plateau ($\ddot J$: - to +)")
    ax.plot(np.where(~is_plateau, y, np.nan), 1 - y, color="tab:blue", lw=1.2, ls="--",
            label="inflection, no plateau")
    ax.plot([], [], color="green", label="null clines")
    ax.plot([], [], color="darkorange", label=rf"basin of $\epsilon = {basin['eps']:g}$ plateau")
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel="$J_1$", ylabel="$J_2$")
    ax.legend(loc="lower right", fontsize="x-small")
    return fig


def plot_figure3(runs: dict[str, BanditRuns], eps=EPS):
    """Figure 3: empirical CDF of the flattest plateau of each run, per setting."""
    fig, axes = plotting.new_figure(width=6.4, height=4.2)
    ax = axes[0, 0]
    labels = {**plotting.SETTING_LABELS, "mixture": "on-policy + 10% uniform (no weights)"}
    colors = {**plotting.SETTING_COLORS, "mixture": MIXTURE_COLOR}
    for name, r in runs.items():
        plotting.ecdf(ax, r.flatness, label=f"{labels[name]} ({r.config.n_runs} runs)",
                      color=colors[name])
    ax.axvline(eps, color="0.5", ls=":", lw=1)
    ax.set(xlabel=r"flatness $\epsilon = \min |\dot J|$ of the flattest plateau"
                  "\n(full units: rate in $(W, b)$, twice the paper's reduced $\\theta$ rate)",
           ylabel=r"fraction of runs with flatness $\leq \epsilon$")
    ax.legend(loc="upper left", fontsize="x-small")
    return fig
