"""Learning curves as arrays ``[runs, T, K]`` (or ``[runs, T]``) and as the long table that
the detector (:func:`rayint_lib.model.detection.detect`) and the log readers use: one row per
logged point, with its step, value, run and component (Sec. 4, "How to detect it?")."""
from __future__ import annotations

import numpy as np


def long_format(steps, curves) -> tuple:
    """``curves`` ``[runs, T, K]`` (per component) or ``[runs, T]`` at ``steps`` ``[T]`` ->
    ``(steps, values, runs, components)``, flat arrays with one entry per point, runs and
    components numbered from 0 (``components`` is ``None`` for ``[runs, T]``)."""
    curves = np.asarray(curves)
    shape = curves.shape
    if curves.ndim not in (2, 3) or np.shape(steps) != shape[1:2]:
        raise ValueError(f"curves must be [runs, T] or [runs, T, K] with steps [T]; got "
                         f"curves {shape}, steps {np.shape(steps)}")
    tail = (1,) * (curves.ndim - 2)
    st = np.broadcast_to(np.reshape(steps, (1, shape[1]) + tail), shape).ravel()
    runs = np.broadcast_to(np.arange(shape[0]).reshape((shape[0], 1) + tail), shape).ravel()
    comps = (None if curves.ndim == 2 else
             np.broadcast_to(np.arange(shape[2])[None, None, :], shape).ravel())
    return st, curves.ravel(), runs, comps
