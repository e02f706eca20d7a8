"""Figures of chapter 03b_deep_rl: Part 1's Figure 3 per architecture (the MLP bandit), and
Part 2's (the K-room corridor task, Sec. 3.3).

Colours follow the paper's code (:data:`rayint_lib.book.plotting.SETTING_COLORS`): on-policy
red, separate networks cyan, fixed uniform data blue, supervised yellow; the mixture purple.
"""
from __future__ import annotations

import numpy as np

from ..book.plotting import SETTING_COLORS, ecdf, new_figure
from .deep_rl_rooms import SETTING_NAMES, mean_band, ordered_curves

COLORS = {**SETTING_COLORS, "uniform": SETTING_COLORS["off_policy"], "mixture": "#9467bd"}
ROOM_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22"]
ARROWS = ("up", "down", "left", "right")


def arch_label(depth, width):
    return "depth 0 (linear, W s + b)" if depth == 0 else f"depth {depth}, width {width}"


def plot_bandit_cdf(study: dict, reference, eps):
    """Figure 3 per architecture: CDF of the flattest plateau's flatness (the controls at the
    ``reference`` architecture; a line at the threshold ``eps``)."""
    import matplotlib.pyplot as plt

    fig, axes = new_figure(width=7.5, height=4.2)
    ax = axes[0, 0]
    cmap = plt.get_cmap("Reds")
    archs = list(study["mlp"])
    for i, a in enumerate(archs):
        ecdf(ax, study["mlp"][a].flatness, label=arch_label(*a),
             color=cmap(0.35 + 0.65 * i / max(1, len(archs) - 1)))
    ecdf(ax, study["linear"].flatness, label="linear simulator", color="k", ls=":")
    for name in ("separate", "supervised"):
        ecdf(ax, study["controls"][name].flatness, color=SETTING_COLORS[name], ls="--",
             label=f"{arch_label(*reference)}: {name}")
    ax.axvline(eps, color="grey", lw=0.8)
    ax.set_xlabel(r"flatness $\epsilon$ of the flattest plateau ($|\dot J| / \eta$)")
    ax.set_ylabel(r"fraction of runs with flatness $\leq \epsilon$")
    ax.legend(loc="upper left", fontsize="x-small")
    return fig


def plot_rooms(cfg):
    """The task: each room's corridor with the key of every cell; any other action ends the
    episode."""
    from ..model.deep.rooms import RoomsParams, optimal_actions

    env = RoomsParams(K=cfg.K, length=cfg.room_length)
    keys = optimal_actions(env)
    fig, axes = new_figure(width=1.1 * (env.length + 2), height=0.7 * env.K + 0.6)
    ax = axes[0, 0]
    for k in range(env.K):
        y = env.K - 1 - k
        for c in range(env.length):
            ax.add_patch(_cell(c, y, "white"))
            ax.text(c + 0.5, y + 0.5, ARROWS[keys[k, c]], ha="center", va="center",
                    fontsize=8)
        ax.add_patch(_cell(env.length, y, "#2ca02c", alpha=0.6))
        ax.text(env.length + 0.5, y + 0.5, "G", ha="center", va="center")
        ax.text(-0.2, y + 0.5, f"room {k + 1}", ha="right", va="center", fontsize=8)
    ax.set_xlim(-1.4, env.length + 1.1)
    ax.set_ylim(-0.1, env.K + 0.1)
    ax.set_axis_off()
    return fig


def _cell(x, y, color, alpha=1.0):
    from matplotlib.patches import Rectangle
    return Rectangle((x, y + 0.1), 1, 0.8, fc=color, ec="grey", lw=0.6, alpha=alpha)


def plot_rooms_curves(study: dict, n_show=10):
    """Left: individual on-policy runs with one shared network, ``J_k(t)`` per room. Middle:
    mean ``J_k`` of the first-learned and the last-learned room with 95% bands, per setting.
    Right (K = 2): the shared runs in the ``(J_1, J_2)`` plane."""
    main = study["main"]
    r = main["on_policy"]
    K = r.curves.shape[-1]
    fig, axes = new_figure(ncols=3, width=4.0, height=3.6)
    ax = axes[0, 0]
    t = np.maximum(r.env_step_grid, 1)
    for i in range(min(n_show, len(r.curves))):
        for k in range(K):
            ax.plot(t, r.curves[i, :, k], color=ROOM_COLORS[k % 8], alpha=0.5, lw=1)
    _log_axis(ax, "success rate $J_k$ (exact)")
    ax.set_title("shared network, individual runs", fontsize="small")
    ax = axes[0, 1]
    for name, runs in main.items():
        c = ordered_curves(runs)
        for idx, ls in ((0, "-"), (K - 1, "--")):
            m, lo, hi = mean_band(c[:, :, idx])
            ax.plot(t, m, color=COLORS[name], ls=ls,
                    label=SETTING_NAMES[name] if idx == 0 else None)
            ax.fill_between(t, lo, hi, color=COLORS[name], alpha=0.2, lw=0)
    _log_axis(ax, "mean $J_k$: first (solid) and last (dashed) room")
    ax.legend(fontsize="xx-small", loc="center left")
    ax = axes[0, 2]
    if K == 2:
        sep = main["separate"]
        for i in range(min(n_show, len(sep.curves))):
            ax.plot(sep.curves[i, :, 0], sep.curves[i, :, 1], color=COLORS["separate"],
                    alpha=0.6)
        for i in range(min(n_show, len(r.curves))):
            ax.plot(r.curves[i, :, 0], r.curves[i, :, 1], color=COLORS["on_policy"], lw=2.5,
                    alpha=0.7)
            ax.plot(*r.curves[i, 0], "k.", ms=4)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("$J_1$")
        ax.set_ylabel("$J_2$")
        ax.set_title("shared (red) and separate (cyan) runs", fontsize="small")
    else:
        ax.set_axis_off()
    return fig


def _log_axis(ax, ylabel):
    ax.set_xscale("log")
    ax.set_xlim(1e3, None)
    ax.set_xlabel("environment steps per agent (log)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)


def plot_measures(study: dict):
    """Left: the coupling ratio of every room at every checkpoint against its ``J_k``, per
    setting (log-log). Right: the interference cosine over training (median over runs)."""
    main = study["main"]
    fig, axes = new_figure(ncols=2, width=4.6, height=3.8)
    ax = axes[0, 0]
    for name in ("on_policy", "mixture", "supervised", "separate"):
        runs = main[name]
        ax.scatter(runs.curves.ravel(), runs.coupling.ravel(), s=3, alpha=0.3,
                   color=COLORS[name], label=SETTING_NAMES[name])
    ax.axhline(1.0, color=COLORS["uniform"], lw=1.2, label="fixed uniform data (= 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-16, 1.5)
    ax.set_ylim(1e-16, 1e4)
    ax.set_xlabel("$J_k$ (exact; below $10^{-16}$ not shown)")
    ax.set_ylabel(r"coupling ratio $|g_k| / |g_k^{\mathrm{uniform}}|$")
    ax.legend(fontsize="xx-small", markerscale=3)
    ax = axes[0, 1]
    for name, runs in main.items():
        t = np.maximum(runs.env_step_grid, 1)
        ax.plot(t, np.median(runs.cosine, axis=0), color=COLORS[name],
                label=SETTING_NAMES[name])
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("environment steps per agent (log)")
    ax.set_ylabel("interference: cosine of per-room gradients")
    ax.legend(fontsize="xx-small")
    return fig
