"""Drawing what the detector found (:mod:`rayint_lib.model.detection`): the raw points of
each run, the trend it searched with its band, the plateaus shaded and the end of the start
stall dotted. Used by ``rayint detect --plot`` and by the real-logs page."""
from __future__ import annotations

import numpy as np


def half_band(r) -> float:
    """Half the plateau band of run ``r`` in the units of its values."""
    return r.unit * r.tolerance / 2


def draw_runs(ax, result, n_show: int = 12, log: bool | None = None):
    """Draw the first ``n_show`` runs of ``result`` on ``ax``; returns the runs drawn."""
    import matplotlib.pyplot as plt

    colours = plt.get_cmap("tab10")
    log = result.thresholds["axis"] == "log" if log is None else log
    shown = result.runs[:n_show]
    for i, r in enumerate(shown):
        c = colours(i % 10)
        keep = r.steps > 0 if log else np.ones(r.steps.size, dtype=bool)
        t = r.steps[keep]
        ax.plot(t, r.values[keep], ".", ms=1.5, color=c, alpha=0.35)
        half = half_band(r)
        ax.plot(t, r.trend[keep], lw=1.2, color=c,
                label=f"{r.run} (trend, w = {r.window})" if i < 5 else None)
        ax.fill_between(t, r.trend[keep] - half, r.trend[keep] + half, color=c, alpha=0.12,
                        lw=0)
        for p in r.plateaus:
            ax.axvspan(p.start_step, p.end_step, color=c, alpha=0.18, lw=0)
        if r.start_stall.get("left_start"):
            ax.axvline(r.start_stall["end_step"], color=c, ls=":", lw=1)
    ax.set_xscale("log" if log else "linear")
    ax.set_xlabel("step" + (" (log scale)" if log else ""))
    return shown
