"""Figures of chapter 04_deep_linear (Sec. 3.4, Saxe et al. 2014).

Each draws what :mod:`rayint_lib.chapters.deep_linear` ran and measured (its
:class:`~rayint_lib.chapters.deep_linear.ChapterRuns` and the numbers of ``summarize``).
"""
from __future__ import annotations

import numpy as np

from ..book.plotting import SETTING_COLORS, new_figure
from ..model import deep_linear as dl
from .deep_linear import ChapterRuns, detected


def _colors(n):
    return [f"C{i}" for i in range(n)]


def plot_closed_form(runs: ChapterRuns, res: dict):
    """Figure 3.4a: closed form against the simulation; error against step size."""
    cfg, s = runs.cfg, runs.task.s
    fig, ax = new_figure(2, width=5.2)
    tr = runs.closed_form[cfg.eta_closed_form]
    for i, c in enumerate(_colors(s.size)):
        ax[0, 0].plot(tr.t, tr.strength[0, :, i], color=c, lw=2.5, alpha=0.5,
                      label=f"simulation, $s_{i + 1}$ = {s[i]:g}")
        ax[0, 0].plot(tr.t, dl.saxe_mode(tr.t, s[i], cfg.aligned_strength), "k--", lw=1)
    ax[0, 0].plot([], [], "k--", lw=1, label="closed form")
    ax[0, 0].set(xlabel="time $t = \\eta \\cdot$ step", ylabel="mode strength $a_i(t)$")
    ax[0, 0].legend()
    e = np.array(sorted(res["closed_form_errors"].items()))
    ax[0, 1].loglog(e[:, 0], e[:, 1], "o-", label="max $|a - a_{closed}| / s$")
    ax[0, 1].loglog(e[:, 0], e[-1, 1] * e[:, 0] / e[-1, 0], "k:", label="slope 1")
    ax[0, 1].set(xlabel="step size $\\eta$", ylabel="largest deviation")
    ax[0, 1].legend()
    return fig


def plot_stages(runs: ChapterRuns):
    """Figure 3.4b: mean mode performance (run 0's plateaus shaded) and each mode's stage."""
    cfg, rand, s = runs.cfg, runs.random, runs.task.s
    fig, ax = new_figure(2, width=5.2)
    t = rand.t[1:]
    ax[0, 0].plot(t, rand.progress[:, 1:].T, color="C7", lw=0.8, alpha=0.6)
    for i, c in enumerate(_colors(s.size)):
        ax[0, 1].plot(t, rand.performance[:, 1:, i].T, color=c, lw=0.8, alpha=0.5)
        ax[0, 1].plot([], [], color=c, label=f"mode {i + 1}, $s$ = {s[i]:g}")
    for a, b, _ in detected(rand.t, rand.progress[:1], cfg)[0]:
        ax[0, 0].axvspan(a, b, color="C1", alpha=0.15)
    ax[0, 0].plot(t, rand.progress[0, 1:], color="k", lw=1.5,
                  label="run 0 (shaded: its plateaus)")
    ax[0, 0].set(xscale="log", xlabel="time $t$", ylabel="mean mode performance",
                 ylim=(-0.02, 1.02))
    ax[0, 0].legend(loc="upper left")
    ax[0, 1].set(xscale="log", xlabel="time $t$", ylabel="mode performance $p_i = a_i / s_i$",
                 ylim=(-0.05, 1.05))
    ax[0, 1].legend(loc="upper left")
    return fig


def plot_plateau_lengths(runs: ChapterRuns):
    """Figure 3.4c: half times against 1/s_i, plateau durations against s."""
    cfg, rand, s = runs.cfg, runs.random, runs.task.s
    N, R = s.size, rand.modes.shape[0]
    th = dl.half_times(rand)
    fig, ax = new_figure(2, width=5.2)
    for i, c in enumerate(_colors(N)):
        ax[0, 0].scatter(np.full(R, 1 / s[i]), th[:, i], color=c, s=14, alpha=0.6)
    ss = np.geomspace(s.min(), s.max(), 50)
    a0 = np.median(np.abs(rand.strength[:, 0]))
    ax[0, 0].plot(1 / ss, dl.saxe_half_time(ss, a0), "k--", lw=1,
                  label=f"closed form, $a_0$ = {a0:.1e}")
    ax[0, 0].set(xscale="log", yscale="log", xlabel="$1 / s_i$", ylabel="half time of mode $i$")
    ax[0, 0].legend()
    pl = detected(rand.t, rand.progress, cfg)
    full = [p for p in pl if len(p) == N - 1]
    for k in range(N - 1):
        d = [p[k][1] - p[k][0] for p in full]
        ax[0, 1].scatter(np.full(len(d), s[k + 1]), d, color=f"C{k + 1}", s=14, alpha=0.6)
    ax[0, 1].set(xscale="log", yscale="log", ylabel="plateau duration (time)",
                 xlabel="singular value of the mode learned after the plateau")
    return fig


def plot_cosines(runs: ChapterRuns):
    """Figure 3.4d: cosines and norms of the per-mode gradients (split by input direction)."""
    rand, N = runs.random, runs.task.s.size
    t = rand.t[1:]
    fig, ax = new_figure(2, width=5.2)
    pairs = [(i, j) for i in range(N) for j in range(i + 1, N)]
    for k, (i, j) in enumerate(pairs):
        ax[0, 0].plot(t, rand.grad_cos[:, 1:, i, j].T, color=f"C{k + 3}", lw=0.6, alpha=0.5)
        ax[0, 0].plot([], [], color=f"C{k + 3}", label=f"modes {i + 1}, {j + 1}")
    ax[0, 0].axhline(0, color="k", lw=0.8)
    off = ~np.eye(N, dtype=bool)
    lim = max(0.005, 1.2 * np.nanmax(np.abs(rand.grad_cos[:, 1:][:, :, off]))) if N > 1 else 1
    ax[0, 0].set(xscale="log", xlabel="time $t$", ylabel="cosine of per-mode gradients",
                 ylim=(-lim, lim))
    ax[0, 0].legend()
    for i, c in enumerate(_colors(N)):
        ax[0, 1].plot(t, rand.grad_norm[:, 1:, i].T, color=c, lw=0.6, alpha=0.5)
        ax[0, 1].plot([], [], color=c, label=f"mode {i + 1}")
    ax[0, 1].set(xscale="log", yscale="log", xlabel="time $t$",
                 ylabel="norm of per-mode gradient")
    ax[0, 1].legend()
    return fig


def plot_coupling(runs: ChapterRuns):
    """Figure 3.4e: learning speed of each mode against its own performance (Fig. 6's f)."""
    s = runs.task.s
    pp = np.geomspace(1e-4, 0.999, 200)
    fig, ax = new_figure(2, width=5.2)
    p_sim, dp_sim = dl.rates(runs.random)
    for i, c in enumerate(_colors(s.size)):
        m = p_sim[..., i] > 1e-4
        ax[0, 0].scatter(p_sim[..., i][m][::7], dp_sim[..., i][m][::7], s=2, color=c, alpha=0.3)
        ax[0, 0].plot(pp, dl.deep_rate(pp, s[i]), "--", color=c, lw=1,
                      label=f"deep, $s$ = {s[i]:g}")
    ax[0, 0].plot(pp, dl.shallow_rate(pp, 1.0), "k:", lw=1.5, label="shallow, any $s$")
    ax[0, 0].set(xscale="log", yscale="log", xlabel="mode performance $p$",
                 ylabel="learning speed $dp/dt$", ylim=(1e-5, 5))
    ax[0, 0].legend(loc="lower right")
    ax[0, 1].plot(pp, pp * (1 - pp) / 0.25, color=SETTING_COLORS["on_policy"],
                  label="deep: $p(1-p)$ (= on-policy $u(1-u)$)")
    ax[0, 1].plot(pp, 1 - pp, color=SETTING_COLORS["supervised"],
                  label="shallow: $1-p$ (= supervised $1-u$)")
    ax[0, 1].set(xlabel="mode performance $p$", ylabel="speed, normalised to its maximum")
    ax[0, 1].legend()
    return fig


STARTS = {"random": "small random", "decoupled": "decoupled, small",
          "orthogonal": "norm-preserving", "shallow": "shallow"}


def plot_remedy(runs: ChapterRuns):
    """Figure 3.4f: learning curves of every run from the four starts."""
    fig, ax = new_figure(4, width=3.3, height=3.2, sharey=True)
    for k, (name, title) in enumerate(STARTS.items()):
        tr = getattr(runs, name)
        ax[0, k].plot(tr.t[1:], tr.progress[:, 1:].T, lw=0.8, alpha=0.5,
                      color="C3" if name != "shallow" else "C8")
        ax[0, k].set(xscale="log", xlabel="time $t$", title=title)
    ax[0, 0].set_ylabel("mean mode performance")
    return fig
