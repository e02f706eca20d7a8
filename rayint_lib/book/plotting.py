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
