"""Figures of chapter 02_factored_objectives: Fig. 6 (the coupling functions), Fig. 3.1a-c
(flows, learning curves, the neglected grad v_k terms) and Fig. 3.2a (saddle counts)."""
from __future__ import annotations

import numpy as np

from ..book.plotting import SETTING_COLORS, new_figure
from ..model import factored as F
from .factored_objectives import CURVE_LEARNERS, couplings, neglected_map

FLOW_GRID = 161          # cells per side of the flow panels (Fig. 3.1a)
MIX_COLOR = "#ff7f0e"


def figure6(P):
    """Fig. 6: the coupling functions (on-policy red, supervised green, mixture orange)."""
    c = couplings(P)
    u = np.linspace(0, 1, 401)
    fig, axes = new_figure(1, width=6.0, height=3.8)
    ax = axes[0, 0]
    ax.plot(u, c["on_policy"](u), color=SETTING_COLORS["on_policy"], lw=2,
            label=c["on_policy"].label)
    ax.plot(u, c["supervised"](u), color=SETTING_COLORS["tabular"], lw=2,
            label=c["supervised"].label)
    ax.plot(u, c["mixture"](u), color=MIX_COLOR, lw=2, label=c["mixture"].label)
    for name, cf in c.items():
        if name.startswith("power"):
            ax.plot(u, cf(u), color="0.5", lw=1, ls="--", label=cf.label)
    ax.set_xlabel("$u = J_k$ (performance of the component)")
    ax.set_ylabel("$f(u)$")
    ax.legend(loc="upper right")
    ax.set_ylim(0, 1.02)
    return fig


def flow_panel(ax, model, title):
    """Flow of a 2-component model with null clines, WTA regions and inflection lines."""
    g = np.linspace(0.002, 0.998, FLOW_GRID)
    X, Y = np.meshgrid(g, g)
    d1, d2 = model.field(X, Y)
    ax.contourf(X, Y, model.wta(X, Y).astype(float), levels=[0.5, 1.5], colors=["#cfe8cf"])
    ax.streamplot(X, Y, d1, d2, density=0.9, color="0.55", linewidth=0.6, arrowsize=0.6)
    ax.contour(X, Y, d1, levels=[0], colors="green", linewidths=1.2)
    ax.contour(X, Y, d2, levels=[0], colors="green", linewidths=1.2)
    jdd = model.jddot(np.stack([X, Y], -1))
    ax.contour(X, Y, jdd, levels=[0], colors="#1f77b4", linewidths=1.2, linestyles="--")
    ax.set_title(title)
    ax.set_xlabel("$J_1$")
    ax.set_aspect("equal")


def figure_flows(P):
    """Fig. 3.1a: the flow for on-policy, mixture and supervised coupling."""
    c = couplings(P)
    fig, axes = new_figure(3, width=3.6, height=3.8)
    for ax, name in zip(axes[0], ["on_policy", "mixture", "supervised"]):
        flow_panel(ax, F.FactoredModel(c[name], rho=P["rho"]), c[name].label)
    axes[0, 0].set_ylabel("$J_2$")
    return fig


def figure_curves(curves):
    """Fig. 3.1b: ``J`` (solid) and the suppressed ``J_1`` (dotted) for each learner."""
    colors = {"on_policy": SETTING_COLORS["on_policy"], "mixture": MIX_COLOR,
              "supervised": SETTING_COLORS["supervised"]}
    fig, axes = new_figure(1, width=6.4, height=3.6)
    ax = axes[0, 0]
    for key, (t, J) in curves.items():
        ax.plot(t[1:], J[1:].sum(1), color=colors[key], lw=2, label=f"{CURVE_LEARNERS[key]} $J$")
        ax.plot(t[1:], J[1:, 0], color=colors[key], lw=1, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("time (continuous, step size 1)")
    ax.set_ylabel("performance")
    ax.legend(loc="upper left")
    return fig


def figure_neglected(P):
    """Fig. 3.1c: relative size of the neglected terms for the first ``n``, first and last
    skew (:func:`.factored_objectives.neglected_map`)."""
    n_map = P["bandit_actions"][0]
    fig, axes = new_figure(2, width=3.9, height=3.6)
    for ax, s in zip(axes[0], [P["skews"][0], P["skews"][-1]]):
        X, Y, ex, ap, rel = neglected_map(n_map, s)
        im = ax.pcolormesh(X, Y, rel, vmin=0, vmax=1, cmap="magma_r", shading="auto")
        ax.contour(X, Y, ex, levels=[0], colors="#1f77b4", linewidths=1.2)
        ax.contour(X, Y, ap, levels=[0], colors="white", linewidths=1.0, linestyles="--")
        ax.set_title(f"n = {n_map}, skew {s:g}")
        ax.set_xlabel("$J_1$")
        ax.set_aspect("equal")
    axes[0, 0].set_ylabel("$J_2$")
    fig.colorbar(im, ax=axes[0, -1], label="|neglected| / max(|exact|, |C.2 form|)")
    return fig


def figure_saddles(counts):
    """Fig. 3.2a: number of saddles against the number of components with ``f(0) = 0``."""
    allK = counts[counts["K"] == counts["m (f(0)=0)"]]
    fixK = counts[counts["K"] == counts["K"].max()]
    fig, axes = new_figure(1, width=5.2, height=3.6)
    ax = axes[0, 0]
    ax.plot(allK["m (f(0)=0)"], allK["saddles"], "o-", color=SETTING_COLORS["on_policy"],
            label="K = m components, all on-policy")
    ax.plot(fixK["m (f(0)=0)"], fixK["saddles"], "s--", color=MIX_COLOR,
            label=f"K = {int(fixK['K'].iloc[0])}: m on-policy, rest supervised")
    m = np.arange(1, int(counts["K"].max()) + 1)
    ax.plot(m, 2.0**m, color="0.6", lw=1, ls=":", label="$2^m$")
    ax.set_yscale("log")
    ax.set_xlabel("m = components with $f_k(0) = 0$")
    ax.set_ylabel("saddle points")
    ax.legend(loc="upper left")
    return fig
