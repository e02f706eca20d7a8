"""The front page's figure: the paper's headline in one picture (Sec. 3.2, Fig. 4; issue 21).

Individual runs of the (K x n) bandit with a shared bias learn one context at a time, so each
climbs a staircase of plateaus; averaged over many runs the stages fall at different times
and the mean curve rises smoothly, hiding the plateaus (Sec. 4).
"""
from __future__ import annotations

import numpy as np

from ..model.config import make_config
from ..model.simulate import BanditRuns, simulate
from .plotting import SETTING_COLORS, new_figure


def headline_runs(K=8, n_runs=200, eta=0.1, seed=0) -> BanditRuns:
    """``n_runs`` on-policy runs of the K = n bandit at the paper's settings (App. A)."""
    return simulate(make_config(K=K, n=K, eta=eta, n_runs=n_runs, seed=seed))


def shown_runs(runs: BanditRuns, n_shown=4) -> np.ndarray:
    """Indices of ``n_shown`` solved runs spread over the solving times (evenly spaced
    quantiles of the samples to solve), so that early and late runs are both seen."""
    solved = np.flatnonzero(runs.solved)
    order = solved[np.argsort(runs.stop_step[solved], kind="stable")]
    pick = np.linspace(0, len(order) - 1, n_shown + 2)[1:-1].round().astype(int)
    return order[pick]


def plot_headline(runs: BanditRuns, n_shown=4):
    """A few individual J(t)/K (thin, one colour each) and the mean over all runs (black),
    against samples on a log axis."""
    cfg = runs.config
    samples = runs.steps * cfg.K
    share = runs.curves.sum(axis=2) / cfg.K
    fig, axes = new_figure(1, width=7.0, height=3.6)
    ax = axes[0, 0]
    reds = ["#f4a582", "#d6604d", "#b2182b", "#67001f"]
    for j, i in enumerate(shown_runs(runs, n_shown)):
        ax.plot(samples, share[i], lw=1.3, color=reds[j % len(reds)],
                label=f"run {i} (one of {cfg.n_runs})")
    ax.plot(samples, share.mean(axis=0), lw=3, color="black",
            label=f"mean of {cfg.n_runs} runs")
    ax.axhline(cfg.J0 / cfg.K, color=SETTING_COLORS["on_policy"], lw=0.8, ls=":",
               label="start, J(theta0)/K")
    ax.set(xscale="log", xlabel="samples (log scale)", ylabel="J(t) / K (fraction solved)",
           ylim=(0, 1.02), title=f"on-policy REINFORCE, K = n = {cfg.K}, eta = {cfg.eta:g}")
    ax.legend(loc="upper left", fontsize="small")
    return fig
