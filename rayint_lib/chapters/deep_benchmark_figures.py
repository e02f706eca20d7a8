"""Figures of chapter 03c_deep_benchmark (K DeepSea tasks and PPO, Sec. 3.3).

Colours follow the paper's code (:data:`rayint_lib.book.plotting.SETTING_COLORS`): the shared
network on-policy red, separate networks cyan, fixed uniform-random data blue; the exact
expected-update learners in the same colours, dashed.
"""
from __future__ import annotations

import numpy as np

from ..book.plotting import SETTING_COLORS, new_figure
from ..model import stats

COLORS = {"shared": SETTING_COLORS["on_policy"], "separate": SETTING_COLORS["separate"],
          "uniform": SETTING_COLORS["off_policy"],
          "exact_uniform": SETTING_COLORS["off_policy"],
          "exact_on_policy": SETTING_COLORS["on_policy"]}
TITLES = {"shared": "shared network", "separate": "separate agents",
          "uniform": "shared, uniform data", "exact_uniform": "exact update, uniform data",
          "exact_on_policy": "exact update, on-policy", "heads": "separate heads",
          "mixture": "uniform-action mixture", "pcgrad": "PCGrad",
          "distill": "distilled student"}
STYLES = {"exact_uniform": "--", "exact_on_policy": "--"}      # the rest solid


def steps_axis(runs) -> np.ndarray:
    """Environment steps at the checkpoints (the first, 0, drawn at half an update for the
    log axis)."""
    return np.maximum(runs.env_steps, runs.spec.env_steps_per_update / 2)


def mean_band(x):
    """Mean over seeds and its bootstrap 95% band, per column of ``x`` ``[seeds, T]``."""
    est = [stats.bootstrap(np.mean, col, n_boot=500) for col in x.T]
    return (np.array([e.value for e in est]), np.array([e.low for e in est]),
            np.array([e.high for e in est]))


def _panels(study: dict):
    fig, axes = new_figure(len(study), 1, width=3.6, height=3.2, sharey=True)
    return fig, axes[0]


def plot_curves(study: dict, names=None):
    """Per-task mean ``J_k`` with its 95% band over seeds, one panel per condition (those of
    ``names``, default all)."""
    study = {n: study[n] for n in (names or study)}
    fig, axes = _panels(study)
    for ax, (name, r) in zip(axes, study.items()):
        x = steps_axis(r)
        for k in range(r.curves.shape[-1]):
            m, lo, hi = mean_band(r.curves[:, :, k])
            line, = ax.plot(x, m, label=f"task {k}")
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
        ax.set_xscale("log")
        ax.set_title(TITLES[name])
        ax.set_xlabel("environment steps per seed")
    axes[0].set_ylabel("success probability J_k")
    axes[0].legend(frameon=False)
    return fig


def plot_runs(study: dict, names=None, n_show=8):
    """Individual runs: ``J_k`` of the first ``n_show`` seeds (one line style per task), one
    panel per condition of ``names`` (default all)."""
    study = {n: study[n] for n in (names or study)}
    fig, axes = _panels(study)
    styles = ("-", "--", ":", "-.")
    for ax, (name, r) in zip(axes, study.items()):
        x = steps_axis(r)
        for i in range(min(n_show, len(r.curves))):
            for k in range(r.curves.shape[-1]):
                ax.plot(x, r.curves[i, :, k] + 0.01 * i, styles[k % 4], color=COLORS[name],
                        lw=0.9, alpha=0.8)
        ax.set_xscale("log")
        ax.set_title(f"{TITLES[name]}: {n_show} seeds")
        ax.set_xlabel("environment steps per seed")
    axes[0].set_ylabel("success probability J_k")
    return fig


def plot_cosine(study: dict):
    """The gradient cosine between tasks over training for the conditions with a shared
    network: median and interquartile band over seeds."""
    fig, axes = new_figure(width=5, height=3.2)
    ax = axes[0, 0]
    for name, r in study.items():
        if name == "separate":                         # 0 by construction
            continue
        x = steps_axis(r)
        q25, q50, q75 = np.percentile(r.cosine, [25, 50, 75], axis=0)
        ax.plot(x, q50, STYLES.get(name, "-"), color=COLORS[name], label=TITLES[name])
        ax.fill_between(x, q25, q75, color=COLORS[name], alpha=0.2)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("environment steps per seed")
    ax.set_ylabel("cos(grad R_j, grad R_k)")
    ax.legend(frameon=False)
    return fig


def plot_coupling(study: dict):
    """Coupling of each seed's weaker task (the lower ``J_k`` at the end) over training:
    median and interquartile band over seeds, log scale (the uniform behaviour's is 1)."""
    fig, axes = new_figure(width=5, height=3.4)
    ax = axes[0, 0]
    for name, r in study.items():
        weak = np.argmin(r.curves[:, -1], axis=1)
        c = np.take_along_axis(r.coupling, weak[:, None, None], axis=2)[..., 0]
        q25, q50, q75 = np.nanpercentile(c, [25, 50, 75], axis=0)
        x = steps_axis(r)
        ax.plot(x, q50, STYLES.get(name, "-"), color=COLORS[name], label=TITLES[name])
        ax.fill_between(x, q25, q75, color=COLORS[name], alpha=0.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("environment steps per seed")
    ax.set_ylabel("coupling ratio of the weaker task")
    ax.legend(frameon=False)
    return fig
