"""One visual style for the whole book (seaborn), and the paper's colour code."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns

# The paper's colours (Fig. 3): on-policy red, no interference green, off-policy blue,
# supervised yellow.
SETTING_COLORS = {
    "on_policy": "#d62728",
    "tabular": "#2ca02c",
    "separate": "#17becf",
    "off_policy": "#1f77b4",
    "supervised": "#e6b800",
}
SETTING_LABELS = {
    "on_policy": "on-policy RL, shared bias",
    "tabular": "no interference (tabular)",
    "separate": "no interference (separate networks)",
    "off_policy": "off-policy RL, uniform behaviour",
    "supervised": "supervised learning",
}
PERFORMANCE_CMAP = "coolwarm"


def set_style():
    """Apply the book's style; call once per notebook."""
    sns.set_theme(context="notebook", style="whitegrid", palette="deep")
    mpl.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "figure.figsize": (6.4, 4.0),
                         "axes.titlesize": "medium", "legend.fontsize": "small"})


def ecdf(ax, values, label=None, color=None, **kwargs):
    """Empirical CDF of ``values`` on a log x-axis (Fig. 3, 7, 9). NaN counts as never."""
    import numpy as np

    v = np.sort(np.asarray(values, dtype=float))
    frac = np.arange(1, v.size + 1) / v.size
    finite = np.isfinite(v)
    ax.step(v[finite], frac[finite], where="post", label=label, color=color, **kwargs)
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    return ax


def new_figure(ncols=1, nrows=1, width=6.4, height=4.0, **kwargs):
    """A figure with the book's default sizes."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        constrained_layout=True, **kwargs)


def flow_panel(ax, learner, policy, n_grid=25):
    """Direction field of the expected dynamics in (J1, J2) for the 2x2 bandit (Fig. 1, top)."""
    import numpy as np

    from ..model.bandit import logits_2x2
    from ..model.updates import component_rates

    g = np.linspace(0.02, 0.98, n_grid)
    J1, J2 = np.meshgrid(g, g)
    rates = component_rates(logits_2x2(J1.ravel(), J2.ravel()), learner, policy)
    U, V = rates[:, 0].reshape(J1.shape), rates[:, 1].reshape(J1.shape)
    speed = np.hypot(U, V)
    ax.streamplot(J1, J2, U, V, color="0.6", density=0.9, linewidth=0.6, arrowsize=0.7)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="$J_1$", ylabel="$J_2$", aspect="equal")
    return speed


def cost_norm(all_runs):
    """One log colour scale of samples-to-solve shared by several :class:`BanditRuns` (Fig. 1)."""
    import numpy as np
    from matplotlib.colors import LogNorm

    costs = np.concatenate([_cost(r) for r in all_runs])
    return LogNorm(vmin=max(costs.min(), 1), vmax=max(costs.max(), 2))


def _cost(runs):
    import numpy as np

    return np.where(runs.solved, runs.stop_step * runs.config.K, runs.config.max_samples)


def trajectories_panel(ax, runs, norm, cmap=PERFORMANCE_CMAP):
    """Sample trajectories of a 2x2 :class:`BanditRuns`, coloured by samples to solve (warm = slow)."""
    import numpy as np

    cost = _cost(runs)
    cm = plt.get_cmap(cmap)
    for r in np.argsort(cost):
        keep = runs.steps <= runs.stop_step[r]
        ax.plot(runs.curves[r, keep, 0], runs.curves[r, keep, 1], color=cm(norm(cost[r])), lw=0.8, alpha=0.85)


def learning_curves_panel(ax, runs, norm, cmap=PERFORMANCE_CMAP):
    """Learning curves ``J(t)`` of the same runs, same colours, log time axis (Fig. 1, bottom)."""
    import numpy as np

    cost = _cost(runs)
    cm = plt.get_cmap(cmap)
    samples = np.maximum(runs.steps * runs.config.K, 1)
    for r in np.argsort(cost):
        keep = runs.steps <= runs.stop_step[r]
        ax.plot(samples[keep], runs.curves[r, keep].sum(axis=1), color=cm(norm(cost[r])), lw=0.8, alpha=0.85)
    ax.set(xscale="log", xlabel="samples", ylabel="$J$", ylim=(0, runs.config.K))
