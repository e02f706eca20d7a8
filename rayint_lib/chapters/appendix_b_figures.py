"""Figures of chapter 06_appendix_b: P6 on the anti-diagonal (B.2), the measured basin and
the B.3 polygons, the supervised flow of B.5."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..book.plotting import SETTING_COLORS, new_figure
from ..model import dynamics
from ..model.appendix_b_checks import PRINTED
from ..model.derivations import (
    J1,
    J2,
    antidiagonal,
    cell_centres,
    rl_derivation,
    supervised_derivation,
)


def plot_p6(acc):
    """Figure B1: ``P6`` on the anti-diagonal, printed and from our derivation."""
    x = np.linspace(0, 1, 401)
    printed = sp.lambdify(J1, PRINTED["P6_antidiagonal"])(x)
    ours = sp.lambdify(J1, antidiagonal(rl_derivation()["P6"]))(x)
    fig, axes = new_figure(ncols=1, width=6.4, height=3.6)
    ax = axes[0, 0]
    ax.plot(x, printed, color=SETTING_COLORS["on_policy"],
            label=r"printed: $-(J_1-1)^2J_1^2(30J_1^2-30J_1+7)$")
    ax.plot(x, ours, "--", color="k", label=r"$\ddot J/(1-J_1-J_2)$ on the anti-diagonal (ours)")
    for a, b in [(0, acc.low), (acc.high, 1)]:
        ax.axvspan(a, b, color=SETTING_COLORS["on_policy"], alpha=0.1)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(r"$J_1$ on the anti-diagonal $J_2 = 1 - J_1$")
    ax.set_ylabel(r"$P_6(J_1, 1 - J_1)$")
    ax.legend(loc="lower center")
    return fig


def plot_basins(basins):
    """Figure B2: the measured basin, the null cline and the B.3 polygons."""
    n, pts, flat = basins.n_grid, basins.points, basins.flatness
    fig, axes = new_figure(ncols=2, width=5.0, height=4.6)
    ax = axes[0, 0]
    g = np.full((n, n), np.nan)
    idx = np.floor(pts * n).astype(int)
    g[idx[:, 1], idx[:, 0]] = np.log10(np.maximum(flat, 1e-12))
    im = ax.imshow(g, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", vmin=-8,
                   vmax=np.log10(0.125))
    fig.colorbar(im, ax=ax, label=r"$\log_{10}\epsilon$ of the plateau reached")
    jj = np.linspace(0, 1, 400)
    for i, b in enumerate(basins.rows.values()):
        poly = np.vstack([b["polygon"], b["polygon"][:1]])
        ax.plot(poly[:, 0], poly[:, 1], color=SETTING_COLORS["on_policy"], lw=1.2,
                label="B.3 polygons" if i == 0 else None)
    ax.set_title("deterministic orbits")
    ax = axes[0, 1]
    e0 = max(basins.rows)
    b0 = basins.rows[e0]
    inb = flat <= e0
    ax.scatter(pts[inb, 0], pts[inb, 1], s=1, color="orange",
               label=rf"measured basin, $\epsilon = {e0:g}$")
    poly = np.vstack([b0["polygon"], b0["polygon"][:1]])
    ax.plot(poly[:, 0], poly[:, 1], color=SETTING_COLORS["on_policy"], lw=1.5,
            label="printed vertex list")
    four = b0["polygon"][[0, 1, 2, 3, 0]]
    ax.plot(four[:, 0], four[:, 1], "--", color="k", lw=1, label="4 vertices")
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_title(rf"$\epsilon = {e0:g}$: the notch")
    for ax in axes[0]:
        ax.plot(dynamics.null_cline_J1(jj), jj, color=SETTING_COLORS["tabular"], lw=1.5,
                label=r"null cline $\dot J_1 = 0$")
        ax.plot(jj, 1 - jj, color="k", lw=0.8)
        ax.set(xlim=(0, 0.5), ylim=(0, 1), xlabel=r"$J_1$", ylabel=r"$J_2$")
        ax.legend(loc="lower right", fontsize="x-small")
    return fig


def plot_supervised(sup):
    """Figure B3: the supervised flow, where J accelerates, and orbits near the edge."""
    S = supervised_derivation()
    A, B = cell_centres(400)
    fig, axes = new_figure(ncols=2, width=5.0, height=4.2)
    ax = axes[0, 0]
    ax.contourf(A, B, np.sign(sp.lambdify((J1, J2), S["Jddot"])(A, B)), levels=[-1.5, 0, 1.5],
                colors=["#f3f3f3", "#fde9a9"])
    U, V = sp.lambdify((J1, J2), [S["Jdot1"], S["Jdot2"]])(A[::25, ::25], B[::25, ::25])
    ax.quiver(A[::25, ::25], B[::25, ::25], U, V, color="grey", width=0.003)
    for plateau, path, _ in sup.shown:
        ax.plot(path[:, 0], path[:, 1], color=SETTING_COLORS["supervised"] if plateau else "k",
                lw=1)
    ax.plot([0, 0.5], [0.5, 0], "x", color="k", ms=8, mew=2, label="boundary saddles")
    ax.set(xlabel=r"$J_1$", ylabel=r"$J_2$", xlim=(0, 1), ylim=(0, 1),
           title=r"supervised flow; shaded: $\ddot J > 0$")
    ax.legend(loc="lower right", fontsize="x-small")
    ax = axes[0, 1]
    for plateau, path, time in sup.shown:
        ax.plot(time, path.sum(axis=1), color=SETTING_COLORS["supervised"] if plateau else "k",
                lw=1)
    ax.set(xscale="log", xlabel="time (continuous, expected updates)",
           ylabel=r"$J = J_1 + J_2$", title="individual learning curves")
    return fig
