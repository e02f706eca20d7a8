"""Figure of chapter 07_appendix_c: the sign of ``Jddot`` near the saddle (0, 1) between the
null clines (App. C.2)."""
from __future__ import annotations

import numpy as np

from ..book.plotting import new_figure
from ..model import factored as F


def plot_null_clines(couplings_, names):
    """Figure C1: sign of ``Jddot`` near the saddle (0, 1) with the two null clines."""
    fig, axes = new_figure(len(names), width=3.9, height=3.7)
    X, Y = np.meshgrid(np.linspace(0.001, 0.6, 200), np.linspace(0.5, 0.999, 200))
    for ax, name in zip(axes[0], names):
        m = F.FactoredModel(couplings_[name])
        jdd = m.jddot(np.stack([X, Y], -1))
        ax.pcolormesh(X, Y, np.sign(jdd), cmap="coolwarm", vmin=-2, vmax=2, shading="auto")
        d1, d2 = m.field(X, Y)
        ax.contour(X, Y, d1, levels=[0], colors="green", linewidths=1.5)
        ax.contour(X, Y, d2, levels=[0], colors="darkgreen", linewidths=1.5, linestyles="--")
        ax.contour(X, Y, jdd, levels=[0], colors="k", linewidths=1)
        ax.set(title=couplings_[name].label, xlabel="$J_1$")
    axes[0, 0].set_ylabel("$J_2$")
    return fig
