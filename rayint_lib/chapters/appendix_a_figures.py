"""Figures of chapter 05_appendix_a: Fig. 8 (the cost of a plateau), Fig. 5 (the plateaus
random starts meet), Fig. 9 (step sizes and optimizers)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..book import plotting
from ..model.config import OPTIMIZERS
from ..model.slowdown import local_exponent, to_steps
from .appendix_a import INITS

OPTIMIZER_COLORS = dict(zip(OPTIMIZERS, plt.get_cmap("tab10")(range(len(OPTIMIZERS)))))


def plot_figure8(setup, f8: dict):
    """Figure 8: updates against the flatness traversed; local exponent of the extra cost."""
    curve, runs, solved = f8["curve"], f8["runs"], f8["solved"]
    eps_red = f8["eps_sim"] / 2
    fig, axes = plotting.new_figure(ncols=2, width=5.2, height=4.0)
    ax = axes[0, 0]
    steps_bal = to_steps(f8["T_bal"], setup.eta, "full")
    sc = ax.scatter(eps_red[solved], runs.stop_step[solved], s=10,
                    c=runs.initial[solved].min(axis=1) / setup.J0,
                    cmap=plotting.PERFORMANCE_CMAP, vmin=0, vmax=0.5,
                    label="simulator runs (expected updates)")
    ax.scatter(eps_red[~solved], runs.stop_step[~solved], s=14, marker="^", color="grey",
               label="not solved within the budget")
    ax.plot(curve["eps"], to_steps(curve["time"], setup.eta, "full"), color="black", lw=1,
            label="ODE, starts on $J_1+J_2=J(\\theta_0)$")
    ax.axhline(steps_bal, ls="--", color="grey", label="balanced (diagonal)")
    ax.axhline(setup.factor * steps_bal, ls=":", color="grey")
    ax.axvline(f8["eps_10x"], ls="--", color="black", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="plateau flatness $\\epsilon$ (reduced units)",
           ylabel=f"updates from $J={setup.J0:g}$ to $J\\geq{setup.J_end:g}$ "
                  f"($\\eta={setup.eta:g}$)", xlim=(1e-12, 1))
    ax.set_ylim(steps_bal / 2, None)
    fig.colorbar(sc, ax=ax, label="$\\min(J_1, J_2)\\,/\\,J(\\theta_0)$ at start")
    ax.legend(loc="upper right", fontsize="x-small")
    ax = axes[0, 1]
    ax.plot(curve["eps"], local_exponent(curve), color="black")
    ax.axhline(1.0, ls=":", color="grey", label="$O(1/\\epsilon)$ (paper's bound)")
    ax.axhline(0.5, ls="--", color="grey", label="$1/2$ (homogeneous saddle)")
    ax.set(xscale="log", xlabel="plateau flatness $\\epsilon$ (reduced units)",
           ylabel="local exponent $-d\\log(T-T_{bal})/d\\log\\epsilon$", ylim=(0, 1.2))
    ax.legend(fontsize="x-small")
    return fig


def plot_figure5(setup, f5: dict, eps_10x: float):
    """Figure 5: ECDF of the plateau flatness met from random starts, per start rule."""
    fig, axes = plotting.new_figure(ncols=3, width=4.0, height=3.6, sharey=True)
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(setup.J0_list)))
    for ax, i in zip(axes[0], INITS):
        for col, j0 in zip(colors, setup.J0_list):
            plotting.ecdf(ax, f5["eps"][(i, j0)], label=f"$J(\\theta_0)={j0:g}$", color=col)
        ax.axvline(eps_10x, ls="--", color="black", lw=1)
        ax.set(title=f"init = {i}", xlabel="plateau flatness $\\epsilon$\n(reduced units: "
                                           "rate in $\\theta$, half the $(W, b)$ rate)",
               xlim=(1e-12, 1))
    axes[0, 0].set_ylabel("P(plateau with flatness $\\leq \\epsilon$)")
    axes[0, 0].legend(loc="upper left", fontsize="x-small")
    return fig


def plot_figure9(setup, f9: dict):
    """Figure 9: SGD step sizes (left); optimizers at the step size chosen on tuning runs
    (solid) and at the shared one (dashed), by own progress (middle); samples the same runs
    needed (right)."""
    fig, axes = plotting.new_figure(ncols=3, width=4.0, height=3.6)
    eta_colors = plt.get_cmap("plasma")(np.linspace(0, 0.85, len(f9["eta"])))
    for col, (e, r) in zip(eta_colors, f9["eta"].items()):
        plotting.ecdf(axes[0, 0], r.runs.flatness, label=f"SGD, $\\eta={e:g}$", color=col)
    for o in setup.optimizers:
        c, eb = OPTIMIZER_COLORS[o], f9["best_eta"][o]
        plotting.ecdf(axes[0, 1], f9["best"][o].runs.flatness, color=c,
                      label=f"{o}, $\\eta={eb:g}$")
        plotting.ecdf(axes[0, 1], f9["shared"][o].runs.flatness, color=c, ls="--", lw=0.8)
        plotting.ecdf(axes[0, 2], f9["best"][o].runs.samples_to_solve, color=c,
                      label=f"{o}, $\\eta={eb:g}$")
        plotting.ecdf(axes[0, 2], f9["shared"][o].runs.samples_to_solve, color=c, ls="--",
                      lw=0.8)
    for ax in axes[0, :2]:
        ax.axvline(setup.bad_eps, ls=":", color="grey")
        ax.set(xlabel="flattest plateau $\\epsilon$ (full units)")
        ax.set_xlim(right=1)
    axes[0, 0].set(ylabel="P(flattest plateau $\\leq \\epsilon$)",
                   title="SGD step sizes (expected rate)")
    axes[0, 1].set(title=f"own progress; dashed: all at $\\eta={setup.eta:g}$")
    axes[0, 2].set(xlabel=f"samples to reach $J \\geq {setup.J_end:g}$",
                   ylabel="fraction of runs", title="cost of the same runs")
    for ax in axes[0]:
        ax.legend(loc="upper left", fontsize="x-small")
    return fig
