"""Detecting ray interference in anyone's learning curves (Sec. 4, "How to detect it?").

The paper's recipe: *where only the overall objective J is known, a first symptom to watch
out for is plateaus in the learning curve of individual runs, as plateaus tend to be
averaged out when curves are aggregated across many runs*; *if the components J_k are
known, monitor whether progress stalls on some components while others learn, and then
picks up later*; then run the two control experiments (reduce interference, reduce
coupling). :func:`detect` does the first two on arrays (one row per logged point) and says
which controls to run; ``rayint detect`` reads the arrays from training logs
(:mod:`rayint_lib.logs`). :func:`agreement` compares what it says from noisy returns with what
it says from exact curves.

Logged returns are noisy, so plateaus are searched in each run's *trend*, the moving average
of ``w`` points (:mod:`rayint_lib.model.trend`: the noise, the window, the band search and the
bootstrap), normalised as the book normalises curves (0 = the run's start, 1 = the best value
reached; Sec. 3.2); every value is first divided by a power of two so that nothing can
overflow, whatever the scale of the logged values. How the thresholds are set (see
:func:`detect`):

- ``tolerance`` (the band a plateau stays in, in normalised units): unless given, from the
  run's noise (``1.4826 MAD(d2) / sqrt(6)`` of the second differences, the upper quartile
  over blocks of the curve; zero for smooth curves) and the window ``w``: ``max(min_tolerance,
  f x noise / sqrt(w))`` with ``f = noise_factor`` (6) for the raw curve and the range of the
  independent values a shortest plateau holds after smoothing otherwise. The floor 0.02 is
  the book's Fig. 4 setting. A run is too noisy when the band reaches 0.25.
- ``min_level = 2 * tolerance``, ``max_level = 1 - 2 * tolerance``: learning has started
  and is not done (on a log time axis every curve is flat at its start and at its end; a
  band's width of margin keeps those out, as ``after`` in
  :func:`rayint_lib.model.plateaus.plateaus`).
- length: on a log time axis (the book's, Fig. 4) a plateau lasts ``t_b / t_a >=
  min_ratio`` (2: as long as everything before it); on a linear axis (training logs
  written every N steps) ``t_b - t_a >= min_fraction`` of the logged span (0.1). ``axis =
  "auto"`` takes the log axis when the logged steps crowd the start (median step below a
  tenth of the last, as on a log grid), the linear one otherwise. At least ``min_points``
  logged points (3) inside each plateau. The stretch's straight-line fit rises by at most
  half the band (or two standard errors), and a stage of learning leaves it
  (:func:`rayint_lib.model.trend.left`), unless it lasts to the last logged step (``open``).
- intervals: start, end and level of each plateau and the start stall (how long the run
  sits at its starting level: with f(0) = 0 the first plateau is at the start), 95%, from a
  block bootstrap over episodes.
- ``flatness``: the least-squares slope of the raw curve across the plateau, ``|dJ/dt| /
  eta`` (App. A: "normalised to factor out the step size"); with steps = updates and
  ``eta`` the step size it is the paper's epsilon (Fig. 3), with ``eta = 1`` it is per step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from . import trend
from .config import check_choice, check_float, check_int
from .plateaus import unit_scale

AXES = ("auto", "log", "linear")
MIN_RUN_POINTS = 8  # the fewest points per run (and per component) the detector accepts


class CurveError(ValueError):
    """Bad input curves. ``index``: position (in the input arrays) of the offending point;
    ``field``: ``"step"``, ``"value"``, ``"run"`` or ``"component"``; ``indices``: every
    point of the offending curve when the whole curve is at fault (too few points)."""

    def __init__(self, message, index=None, field=None, indices=None):
        super().__init__(message)
        self.message, self.index, self.field, self.indices = message, index, field, indices


@dataclass(frozen=True)
class Plateau:
    """One plateau of one curve: from ``start_step`` to ``end_step`` (logged steps), at mean
    value ``level`` (``level_normalised`` in units of the run's progress), with
    ``flatness = |least-squares slope| / eta``, ``length`` (``t_b / t_a`` on a log axis,
    fraction of the logged span on a linear one), ``n_points`` logged points inside, and
    ``open`` when it lasts to the last logged step (not left within the log)."""

    start_step: float
    end_step: float
    level: float
    level_normalised: float
    flatness: float
    length: float
    n_points: int
    open: bool
    start_ci: tuple | None = None     # 95% bootstrap intervals (None without bootstrap)
    end_ci: tuple | None = None
    level_ci: tuple | None = None

    def to_dict(self) -> dict:
        return {k: (_jsonable(v) if not isinstance(v, tuple) else [_jsonable(x) for x in v])
                for k, v in self.__dict__.items()}


@dataclass
class RunDetection:
    """What :func:`detect` found in one run."""

    run: str
    steps: np.ndarray
    values: np.ndarray              # J (the sum of the components when there are some)
    low: float                      # J at normalised 0 (the trend's start, unless given)
    unit: float                     # J per normalised unit (the progress; 0 if none)
    noise: float
    tolerance: float
    plateaus: list
    plateau_time_fraction: float
    components: dict | None = None  # label -> J_k values (same steps)
    learned_at: dict | None = None  # label -> step at which J_k reaches half its progress
    stalls: list = field(default_factory=list)
    pairs: int = 0                  # consecutive pairs (in learning order) that could stall
    trend: np.ndarray | None = None  # the moving average the plateaus are found in (J units)
    window: int = 1                 # its number of points
    min_plateau_points: int = 0     # points in the shortest plateau looked for (median)
    smallest_plateau_points: int = 0  # the fewest points a plateau needs at this noise
    start_stall: dict = field(default_factory=dict)

    @property
    def normalised(self) -> np.ndarray:
        """The run's J in units of its progress (0 = its start, 1 = the best of any run)."""
        if self.unit <= 0:
            return np.zeros_like(self.values)
        return (self.values - self.low) / self.unit

    @property
    def too_noisy(self) -> bool:
        """The band a plateau would need (``tolerance >= 0.25``) leaves no room between
        ``min_level`` and ``max_level``: nothing can be detected in this run."""
        return self.tolerance >= 0.25

    @property
    def sequential(self) -> bool:
        """Components learned one at a time: at least half the pairs stalled (and one)."""
        return self.pairs > 0 and len(self.stalls) >= 1 and 2 * len(self.stalls) >= self.pairs

    def to_dict(self) -> dict:
        out = {"run": self.run, "n_points": int(self.steps.size),
               "first_step": _jsonable(self.steps[0]), "last_step": _jsonable(self.steps[-1]),
               "noise": _jsonable(self.noise), "tolerance": _jsonable(self.tolerance),
               "too_noisy": self.too_noisy,
               "plateaus": [p.to_dict() for p in self.plateaus],
               "plateau_time_fraction": _jsonable(self.plateau_time_fraction),
               "window": self.window,
               "smallest_detectable_plateau": {
                   "points": self.smallest_plateau_points,
                   "fraction_of_points": _jsonable(self.smallest_plateau_points
                                                   / self.steps.size),
                   "shortest_plateau_looked_for_points": self.min_plateau_points},
               "start_stall": {k: (list(v) if isinstance(v, tuple) else v)
                               for k, v in self.start_stall.items()}}
        if self.components is not None:
            out["components"] = {k: {"learned_at": _jsonable(self.learned_at[k]),
                                     "start": _jsonable(v[0]), "final": _jsonable(v[-1])}
                                 for k, v in self.components.items()}
            out["stalls"] = self.stalls
            out["sequential"] = self.sequential
        return out


@dataclass
class Detection:
    """The result of :func:`detect`; :meth:`to_dict` is what ``rayint detect --json`` prints."""

    runs: list
    mean_steps: np.ndarray
    mean_values: np.ndarray
    mean_plateaus: list
    mean_plateau_time_fraction: float
    thresholds: dict
    has_components: bool

    @property
    def plateaus_per_run(self) -> float:
        return float(np.mean([len(r.plateaus) for r in self.runs]))

    @property
    def runs_with_plateaus(self) -> int:
        return sum(bool(r.plateaus) for r in self.runs)

    @property
    def runs_plateau_time_fraction(self) -> float:
        """Share of the time axis the average run spends on plateaus."""
        return float(np.mean([r.plateau_time_fraction for r in self.runs]))

    @property
    def hidden_fraction(self) -> float:
        """Share of the runs' plateau time that the mean curve does not show:
        ``1 - (mean curve's plateau time) / (average run's plateau time)``, clipped at 0
        (NaN when no run has a plateau)."""
        runs = self.runs_plateau_time_fraction
        if runs <= 0:
            return float("nan")
        return max(0.0, 1 - self.mean_plateau_time_fraction / runs)

    @property
    def averaging_hides_plateaus(self) -> bool:
        """Several runs with plateaus, and a mean curve that shows less than half of their
        plateau time (``hidden_fraction >= 0.5``; Sec. 4: plateaus tend to be averaged out)."""
        return bool(len(self.runs) > 1 and self.hidden_fraction >= 0.5)

    @property
    def sequential_runs(self) -> int:
        return sum(r.sequential for r in self.runs)

    @property
    def components_one_at_a_time(self) -> bool | None:
        """With components: at least half the runs that could show it learn them in turn."""
        if not self.has_components:
            return None
        eligible = sum(r.pairs > 0 for r in self.runs)
        return eligible > 0 and 2 * self.sequential_runs >= eligible

    @property
    def consistent_with_ray_interference(self) -> bool:
        """Sec. 4: with components known, they are learned one at a time; without them,
        individual runs have plateaus. Plateaus while the components learn together are not
        the pattern of ray interference."""
        if self.components_one_at_a_time:
            return True
        together = self.has_components and any(r.pairs > 0 for r in self.runs)
        return self.runs_with_plateaus > 0 and not together

    @property
    def start_stall_fraction(self) -> float:
        """Median share of the time axis the runs spend before leaving their start level
        (runs too noisy to tell left out; NaN when all are)."""
        known = [r.start_stall["fraction"] for r in self.runs
                 if r.start_stall.get("fraction") is not None]
        return float(np.median(known)) if known else float("nan")

    @property
    def verdict(self) -> str:
        """A short verdict in the paper's terms (Sec. 4), consistent with what was found."""
        n, m = len(self.runs), self.runs_with_plateaus
        parts = []
        noisy = [r for r in self.runs if r.too_noisy]
        if noisy:
            need = int(np.median([r.smallest_plateau_points for r in noisy]))
            have = int(np.median([r.min_plateau_points for r in noisy]))
            parts.append(f"{len(noisy)} of {n} runs too noisy to tell a plateau from noise "
                         f"(at their noise a plateau needs about {need} logged points; the "
                         f"shortest plateau looked for spans about {have}: log more often, "
                         "or give a tolerance)")
        if m == 0:
            parts.append(f"no plateaus in {'the run' if n == 1 else f'any of {n} runs'} "
                         "after the start")
        else:
            text = (f"plateaus in {m} of {n} individual runs "
                    f"({self.plateaus_per_run:.2g} per run)" if n > 1
                    else f"{len(self.runs[0].plateaus)} plateau(s) in the one run")
            shown = f"{1 - self.hidden_fraction:.0%}"
            if n > 1 and self.averaging_hides_plateaus:
                text += (f", hidden by averaging (the mean curve has {len(self.mean_plateaus)}"
                         f" plateau(s) and shows {shown} of the runs' plateau time)")
            elif n > 1:
                text += (f", visible in the mean curve too ({len(self.mean_plateaus)} plateau(s),"
                         f" {shown} of the runs' plateau time)")
            else:
                text += " (log several runs to see whether averaging hides them)"
            parts.append(text)
        if math.isfinite(self.start_stall_fraction):
            parts.append(f"slow start: the {'median ' if n > 1 else ''}run stays at its "
                         f"starting level for {self.start_stall_fraction:.0%} of the logged "
                         "time axis")
        if self.has_components:
            eligible = sum(r.pairs > 0 for r in self.runs)
            if self.components_one_at_a_time:
                parts.append(f"components learned one at a time (in {self.sequential_runs} of "
                             f"{eligible} runs, components stall while others learn, then "
                             "pick up)")
            elif eligible:
                parts.append(f"components learned together ({self.sequential_runs} of "
                             f"{eligible} runs learn them in turn)")
            else:
                parts.append("no component learned while another waited")
        if self.consistent_with_ray_interference:
            parts.append("consistent with ray interference; run the controls (Sec. 4): reduce "
                         "interference (a separate network per component, or more capacity) "
                         "and reduce coupling (a fixed data distribution, or more off-policy "
                         "data); if the plateaus dissipate, they were likely due to ray "
                         "interference")
        elif m and self.has_components:
            parts.append("the plateaus are not the pattern of ray interference: its "
                         "components are learned together, not one at a time (Sec. 4)")
        else:
            text = "no symptom of ray interference"
            if not self.has_components:
                text += ("; the lack of plateaus does not exclude sequential learning (Sec. "
                         "4): log the components J_k to check")
            parts.append(text)
        return "; ".join(parts) + "."

    def to_dict(self) -> dict:
        """JSON-able summary (NaN and infinities as ``None``)."""
        per_run = [len(r.plateaus) for r in self.runs]
        return {
            "runs": [r.to_dict() for r in self.runs],
            "plateaus_per_run": self.plateaus_per_run,
            "plateau_counts": per_run,
            "runs_with_plateaus": self.runs_with_plateaus,
            "mean_curve_plateaus": [p.to_dict() for p in self.mean_plateaus],
            "averaging_hides_plateaus": self.averaging_hides_plateaus,
            "hidden_fraction": _jsonable(self.hidden_fraction),
            "plateau_time_fraction": {"runs": _jsonable(self.runs_plateau_time_fraction),
                                      "mean_curve": _jsonable(self.mean_plateau_time_fraction)},
            "sequential_learning": (None if not self.has_components else {
                "runs_one_at_a_time": self.sequential_runs,
                "runs_eligible": sum(r.pairs > 0 for r in self.runs),
                "components_one_at_a_time": self.components_one_at_a_time}),
            "thresholds": self.thresholds,
            "start_stall_fraction": _jsonable(self.start_stall_fraction),
            "consistent_with_ray_interference": self.consistent_with_ray_interference,
            "verdict": self.verdict,
        }


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


# --- input ----------------------------------------------------------------------------------

def _labels(name, labels, n, label_names=None):
    """Integer codes (in order of first appearance) and names of per-point labels
    (``label_names``: the names of integer labels, else the labels as strings)."""
    if labels is None:
        return np.zeros(n, dtype=np.int64), ["0"]
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise CurveError(f"{name} must have one label per point ({n}); got shape {labels.shape}")
    key = labels if labels.dtype.kind in "iu" else labels.astype(str)
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")          # labels in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    if label_names is not None:
        return rank[inverse], [str(label_names[u]) for u in uniq[order]]
    return rank[inverse], [str(u) for u in uniq[order]]


EXACT_STEPS = 2.0 ** 53     # above it, consecutive integers can be the same float


def _check_order(steps, idx, what):
    d = np.diff(steps[idx])
    bad = np.flatnonzero(d <= 0)
    if not bad.size:
        return
    i = idx[bad[0] + 1]
    before = steps[idx[bad[0]]]
    if d[bad[0]] == 0 and abs(steps[i]) >= EXACT_STEPS:
        raise CurveError(f"step {steps[i]:.17g} cannot be told from the step before it in "
                         f"double precision{what} (steps above 2^53 = 9.007e15 lose whole "
                         "numbers); subtract an offset from the steps", index=int(i),
                         field="step")
    how = "repeats" if d[bad[0]] == 0 else "is smaller than"
    raise CurveError(f"step {steps[i]:g} {how} the step before it ({before:g}){what}; steps "
                     "must increase within each run", index=int(i), field="step")


def check_curves(steps, values, runs=None, components=None, min_run_points=MIN_RUN_POINTS,
                 run_names=None, component_names=None):
    """Validate curves given one row per logged point; returns ``{run: {component: indices}}``
    (labels as strings, in order of first appearance; component ``None`` without components).

    Raises :class:`CurveError` naming the first offending point: steps and values must be
    finite numbers, steps strictly increasing within each run (and component; steps above
    2^53 that double precision cannot tell apart are refused as such), each curve at least
    ``min_run_points`` points long, and every component of a run logged at the same steps.
    ``run_names`` / ``component_names``: names of integer ``runs`` / ``components`` codes.
    """
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    if steps.ndim != 1 or steps.shape != values.shape:
        raise CurveError(f"steps and values must be 1-d arrays of the same length; got shapes "
                         f"{steps.shape} and {values.shape}")
    if steps.size == 0:
        raise CurveError("no points", index=None, field="step")
    for name, arr in (("step", steps), ("value", values)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise CurveError(f"{name} is {float(arr[bad[0]])}; every {name} must be a finite "
                             "number", index=int(bad[0]), field=name)
    run_idx, run_names = _labels("runs", runs, steps.size, run_names)
    comp_idx, comp_names = _labels("components", components, steps.size, component_names)
    key = run_idx * len(comp_names) + comp_idx
    order = np.argsort(key, kind="stable")          # points of each curve, in input order
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    out = {}
    for idx in np.split(order, bounds):
        r, c = divmod(int(key[idx[0]]), len(comp_names))
        rname, cname = run_names[r], comp_names[c]
        what = _what(rname if runs is not None else None,
                     cname if components is not None else None)
        _check_order(steps, idx, what)
        if idx.size < min_run_points:
            raise CurveError(f"{idx.size} point(s){what}; the detector needs at least "
                             f"{min_run_points} per curve", index=int(idx[-1]), field="step",
                             indices=idx)
        out.setdefault(rname, {})[cname if components is not None else None] = idx
    if components is not None:
        for rname, series in out.items():
            ref_name, ref = next(iter(series.items()))
            for cname, idx in series.items():
                if idx.size != ref.size or np.any(steps[idx] != steps[ref]):
                    k = next((j for j in range(min(idx.size, ref.size))
                              if steps[idx[j]] != steps[ref[j]]), min(idx.size, ref.size) - 1)
                    raise CurveError(f"component {cname!r} of run {rname!r} is logged at other "
                                     f"steps than component {ref_name!r}; every component of a "
                                     "run must be logged at the same steps",
                                     index=int(idx[k]), field="step")
    return out


def _what(run, component):
    bits = ([f"run {run!r}"] if run is not None else []) + (
        [f"component {component!r}"] if component is not None else [])
    return f" in {', '.join(bits)}" if bits else ""


# --- the detector ---------------------------------------------------------------------------

def choose_axis(steps) -> str:
    """``"log"`` when the logged steps crowd the start (median positive step below a tenth
    of the last, as on a log grid), ``"linear"`` otherwise."""
    pos = np.asarray(steps, dtype=float)
    pos = pos[pos > 0]
    if pos.size < 2:
        return "linear"
    return "log" if np.median(pos) < 0.1 * pos[-1] else "linear"


def _time_axis(t, axis):
    """``(tt, total)``: the time axis plateaus are measured on (log steps on a log axis;
    on a linear one the steps as a share of the logged span, halved before subtracting so
    that no step size can overflow) and its total length."""
    if axis == "log":
        keep = t > 0
        tt = np.full(t.size, -np.inf)
        tt[keep] = np.log(t[keep])
        total = float(tt[keep][-1] - tt[keep][0]) if keep.sum() > 1 else 0.0
        return tt, total
    half = float(t[-1] / 2 - t[0] / 2)
    if half <= 0:
        return np.zeros_like(t), 0.0
    return (t / 2 - t[0] / 2) / half, 1.0


def _min_plateau_points(tt, min_length):
    """Median number of logged points in a stretch of the shortest plateau's length."""
    fin = np.isfinite(tt)
    t = tt[fin]
    if t.size < 2:
        return 1
    j = np.searchsorted(t, t + min_length, side="left")
    ok = j < t.size
    return int(max(1, np.median(j[ok] - np.arange(t.size)[ok]))) if ok.any() else t.size


def _scale(values):
    """A power of two that brings ``values`` to at most 4 in absolute value (exact, and
    itself finite and non-zero for any finite values)."""
    m = float(np.max(np.abs(values))) if values.size else 0.0
    return 2.0 ** (min(max(math.frexp(m)[1], -1000), 1024) - 2) if m > 0 else 1.0


def curve_plateaus(steps, y_trend, tt, total, *, tolerance, axis, min_ratio, min_fraction,
                   min_points, values, eta, y_raw=None, noise=0.0, stride=1):
    """Plateaus of one normalised trend (see the module doc); ``values`` the raw curve (for
    the level and the flatness). Returns ``(plateaus, index pairs, time fraction)``."""
    found = []
    if tolerance < trend.TOO_NOISY and total > 0:
        min_length = math.log(min_ratio) if axis == "log" else min_fraction * total
        found = trend.flat_stretches(tt, y_trend, tolerance, min_length, 2 * tolerance,
                                     1 - 2 * tolerance, min_points, raw=y_raw, noise=noise,
                                     stride=stride)
    out, covered = [], 0.0
    for i, k in found:
        ts, vs = steps[i:k + 1], values[i:k + 1]
        out.append(_plateau(steps, ts, vs, y_trend[i:k + 1], axis, total, tt, i, k, eta))
        covered += tt[k] - tt[i]
    return out, found, (covered / total if total > 0 else 0.0)


def _plateau(steps, ts, vs, ys, axis, total, tt, i, k, eta):
    s = _scale(vs)
    span_t = (ts[-1] - ts[0])
    if span_t > 0 and math.isfinite(span_t):
        x = (ts - ts[0]) / span_t
        slope = np.polyfit(x, vs / s, 1)[0] * s / span_t
    else:
        slope = 0.0
    length = math.exp(tt[k] - tt[i]) if axis == "log" else (tt[k] - tt[i]) / total
    q = (k - i + 1) // 4                   # the level: mean of the middle half (no edges)
    return Plateau(float(ts[0]), float(ts[-1]), float(np.mean(vs[q:vs.size - q] / s) * s),
                   float(ys[q:ys.size - q].mean()),
                   abs(float(slope)) / eta, float(length), int(k - i + 1),
                   bool(k == steps.size - 1))

def _crossing(t, y, level):
    hit = np.flatnonzero(y >= level)
    return int(hit[0]) if hit.size else None


def _stalls(steps, comps, high, stall_fraction):
    """Components that stall while another learns, then pick up (Sec. 4). ``comps``: label
    -> J_k; normalised to ``[start, high[label]]``. Returns ``(learned_at, stalls, pairs)``."""
    y = {}
    for k, v in comps.items():
        y[k] = unit_scale(v, v[0], high[k]) if high[k] - v[0] > 0 else np.zeros_like(v)
    at = {k: {lv: _crossing(steps, y[k], lv) for lv in (0.2, 0.5, 0.8)} for k in comps}
    learned_at = {k: (float(steps[at[k][0.5]]) if at[k][0.5] is not None else None)
                  for k in comps}
    order = sorted(comps, key=lambda k: (at[k][0.5] is None, at[k][0.5] or 0))
    stalls, pairs = [], 0
    for a, b in zip(order, order[1:]):
        i0, i1 = at[a][0.2], at[a][0.8]
        if i0 is None or i1 is None or y[b][i0] >= 0.5:
            continue                       # a never learned, or b had already learned
        pairs += 1
        gain_a = y[a][i1] - y[a][i0]
        gain_b = y[b][i1] - y[b][i0]
        if gain_b <= stall_fraction * gain_a:
            stalls.append({"component": b, "stalled_while": a, "from_step": float(steps[i0]),
                           "to_step": float(steps[i1]), "progress": _jsonable(gain_b),
                           "progress_of_other": _jsonable(gain_a),
                           "picked_up_at": learned_at[b]})
    return learned_at, stalls, pairs


def mean_curve(curves):
    """Mean of curves ``[(steps, values), ...]``: on the shared steps if all runs share
    them, else interpolated onto the union of the steps inside the span all runs cover (for
    more than four runs' worth of steps, onto as many steps as the longest run has, evenly
    spread on its time axis, so that many runs logged at their own steps cost one grid)."""
    first = curves[0][0]
    if all(s.size == first.size and np.array_equal(s, first) for s, _ in curves):
        return first, np.mean([v for _, v in curves], axis=0)
    lo = max(s[0] for s, _ in curves)
    hi = min(s[-1] for s, _ in curves)
    longest = max((s for s, _ in curves), key=len)
    if sum(s.size for s, _ in curves) > 4 * longest.size:   # many runs: one run's count
        log = lo > 0 and choose_axis(longest) == "log"
        grid = ((np.geomspace if log else np.linspace)(lo, hi, longest.size) if hi > lo
                else np.array([], dtype=float))
    else:
        grid = np.unique(np.concatenate([s for s, _ in curves]))
        grid = grid[(grid >= lo) & (grid <= hi)]
    if grid.size == 0:
        return grid, grid.astype(float)
    return grid, np.mean([np.interp(grid, s, v) for s, v in curves], axis=0)


def detect(steps, values, runs=None, components=None, *, tolerance=None, min_tolerance=0.02,
           noise_factor=6.0, min_ratio=2.0, min_fraction=0.1, axis="auto", min_points=3,
           min_run_points=MIN_RUN_POINTS, eta=1.0, low=None, high=None,
           stall_fraction=0.25, n_boot=200, seed=0, run_names=None,
           component_names=None) -> Detection:
    """Look for the symptoms of ray interference in learning curves (Sec. 4).

    One entry per logged point: ``steps``, ``values`` (performance J, or J_k of a component),
    optional ``runs`` and ``components`` labels (then J is the sum of a run's components).
    Each run's J is normalised to ``(J - low) / (high - low)`` (``low``: the run's first
    value; ``high``: the best value any run reaches, unless given) and searched for plateaus
    (see the module doc for every threshold); so is the mean curve across runs, with the
    runs' median tolerance. With components, each ``J_k`` is normalised to its start and
    the best value of that component in any run; taking components in the order they reach
    half their progress, a component *stalls* while the one before it learns (from 20% to
    80% of its progress) when it was not yet half learned and gained at most
    ``stall_fraction`` of what that one gained; a run learns *one at a time* when at least
    half of such pairs stall. Integer ``runs`` / ``components`` codes may come with their
    ``run_names`` / ``component_names``. Raises :class:`CurveError` on bad input (see
    :func:`check_curves`) and ``ValueError`` on bad thresholds.
    """
    if tolerance is not None:
        check_float("tolerance", tolerance, 0, 0.25, low_open=True, high_open=True)
    check_float("min_tolerance", min_tolerance, 0, 0.25, low_open=True, high_open=True)
    check_float("noise_factor", noise_factor, 0)
    check_float("min_ratio", min_ratio, 1, None, low_open=True)
    check_float("min_fraction", min_fraction, 0.01, 1)
    check_choice("axis", axis, AXES)
    check_int("min_points", min_points, 2)
    check_int("min_run_points", min_run_points, 3)
    check_float("eta", eta, 0, None, low_open=True)
    check_float("stall_fraction", stall_fraction, 0, 1)
    check_int("n_boot", n_boot, 0, 100_000)
    for name, v in (("low", low), ("high", high)):
        if v is not None:
            check_float(name, v)
    if low is not None and high is not None and high <= low:
        raise ValueError(f"high must be > low; got low={low}, high={high}")

    groups = check_curves(steps, values, runs, components, min_run_points, run_names,
                          component_names)
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    scale = _scale(values)                # every value is divided by it: no overflow below
    v_all = values / scale
    has_comp = components is not None
    series = []                                   # (run, steps, J, {component: J_k} | None)
    for rname, parts in groups.items():
        idxs = list(parts.values())
        t = steps[idxs[0]]
        J = np.sum([v_all[i] for i in idxs], axis=0) if len(idxs) > 1 else v_all[idxs[0]]
        comps = {c: values[i] for c, i in parts.items()} if has_comp else None
        series.append((rname, t, J, comps))
    ax = axis if axis != "auto" else choose_axis(np.concatenate([t for _, t, _, _ in series]))
    comp_top = {}
    if has_comp:
        for _, _, _, comps in series:
            for c, v in comps.items():
                comp_top[c] = max(comp_top.get(c, -np.inf), float(v.max()))
    settings = dict(axis=ax, min_ratio=min_ratio, min_fraction=min_fraction,
                    min_points=min_points, noise_factor=noise_factor,
                    min_tolerance=min_tolerance, tolerance=tolerance)
    prepared = [_prepare(t, J, **settings) for _, t, J, _ in series]
    top = (high / scale if high is not None else
           max(p[-1] for p in prepared))
    rng = np.random.default_rng(seed)
    kw = dict(settings, eta=eta, scale=scale, n_boot=n_boot, rng=rng, low=low, top=top)
    results = []
    for (rname, t, J, comps), prep in zip(series, prepared):
        res = _analyse(rname, t, J, prep, **kw)
        res.components = comps
        if has_comp:
            res.learned_at, res.stalls, res.pairs = _stalls(t, comps, comp_top, stall_fraction)
        results.append(res)

    mt, mv = mean_curve([(r.steps, r.values / scale) for r in results])
    mean_found, mean_frac, mean_tol = [], 0.0, float(np.median([r.tolerance for r in results]))
    if mt.size >= min_run_points:
        mean = _analyse("mean", mt, mv, _prepare(mt, mv, **settings), **kw)
        mean_found, mean_frac, mean_tol = mean.plateaus, mean.plateau_time_fraction, \
            mean.tolerance
    mv = mv * scale
    thresholds = {
        "axis": ax, "axis_rule": ("given" if axis != "auto" else
                                  "log when the median logged step is below a tenth of the last"),
        "tolerance": tolerance if tolerance is not None else "per run",
        "tolerance_rule": ("given" if tolerance is not None else
                           f"max({min_tolerance:g}, {noise_factor:g} x noise / sqrt(w)), noise = "
                           "1.4826 MAD(second differences) / sqrt(6) of the normalised curve, "
                           "w the moving-average window"),
        "mean_curve_tolerance": mean_tol,
        "window_rule": ("1 (the raw curve) when noise_factor x noise <= min_tolerance, else "
                        "the w with noise_factor x noise / sqrt(w) = min_tolerance, at most a "
                        "quarter of the points of the shortest plateau"),
        "n_boot": n_boot, "seed": seed,
        "min_level": "2 x tolerance", "max_level": "1 - 2 x tolerance",
        "min_ratio": min_ratio if ax == "log" else None,
        "min_fraction": min_fraction if ax == "linear" else None,
        "min_points": min_points, "min_run_points": min_run_points, "eta": eta,
        "normalisation": ("(J - low) / (high - low); low = "
                          + (f"{low:g}" if low is not None else "each run's trend at its start")
                          + f", high = {top * scale:g}"
                          + (" (given)" if high is not None else
                             " (the best value of any run's trend)")),
        "stall_fraction": stall_fraction if has_comp else None,
    }
    return Detection(results, mt, mv, mean_found, mean_frac, thresholds, has_comp)


def _prepare(t, J, *, axis, min_ratio, min_fraction, min_points, noise_factor, min_tolerance,
             tolerance):
    """First pass over one curve (scaled values), scalars only (the arrays are made again in
    the second pass, so that one run's arrays at a time are held): the points of the
    shortest plateau, the largest window, the noise, and the trend's start and top at that
    window (for the common top)."""
    tt, total = _time_axis(t, axis)
    min_length = math.log(min_ratio) if axis == "log" else min_fraction * total
    m_min = _min_plateau_points(tt, min_length)
    max_w = max(1, m_min // 4)
    sm = trend.smooth(J, max_w)
    return m_min, max_w, trend.noise_sd(J), float(sm[0]), float(sm.max())


def _analyse(name, t, J, prep, *, axis, min_ratio, min_fraction, min_points, noise_factor,
             min_tolerance, tolerance, eta, scale, n_boot, rng, low, top):
    """Second pass over one curve: window, band, plateaus, start stall, intervals."""
    m_min, max_w, sd, first, _ = prep
    tt, total = _time_axis(t, axis)
    start0 = low / scale if low is not None else first
    span0 = top - start0
    noise0 = sd / span0 if span0 > 0 else 0.0
    w = trend.window(noise0, noise_factor, min_tolerance, max_w)
    sm = trend.smooth(J, w)
    start = low / scale if low is not None else float(sm[0])
    span = top - start
    if span > 0:
        y, yt, noise = unit_scale(J, start, top), unit_scale(sm, start, top), sd / span
    else:
        y, yt, noise = np.zeros_like(J), np.zeros_like(J), 0.0
    tol = tolerance if tolerance is not None else trend.band_tolerance(
        noise, noise_factor, min_tolerance, w, m_min)
    values = J * scale
    found, pairs, frac = curve_plateaus(
        t, yt, tt, total, tolerance=tol, axis=axis, min_ratio=min_ratio,
        min_fraction=min_fraction, min_points=min_points, values=values, eta=eta,
        y_raw=y if w > 1 else None, noise=noise, stride=max(1, w // 4))
    boot = (trend.bootstrap(y, yt, w, n_boot, rng, yt if w >= 3 else None)
            if n_boot and span > 0 else None)
    if boot is not None:
        found = [_with_intervals(p, i, k, t, boot, tol, yt, span, scale)
                 for p, (i, k) in zip(found, pairs)]
    res = RunDetection(name, t, values, start * scale, max(span, 0.0) * scale, noise, tol,
                       found, frac)
    res.trend = sm * scale
    res.window = w
    res.min_plateau_points = m_min
    res.smallest_plateau_points = trend.smallest_plateau_points(noise, noise_factor,
                                                               min_points)
    res.start_stall = _start_stall(t, tt, total, yt, tol, boot)
    return res


def _percentiles(x, axis=-1):
    """The 2.5th and 97.5th percentiles of ``x`` along ``axis`` (linear interpolation, as
    ``numpy.percentile``; sorted once, without its per-call overhead)."""
    xs = np.sort(np.asarray(x, dtype=float), axis=axis)
    n = xs.shape[axis]
    out = []
    for q in (0.025, 0.975):
        pos = q * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        a, b = np.take(xs, lo, axis=axis), np.take(xs, hi, axis=axis)
        out.append(a + (b - a) * (pos - lo))
    return out


def _interval(x):
    """The 95% percentile interval of bootstrap values ``x``."""
    lo, hi = _percentiles(x)
    return (float(lo), float(hi))


def _with_intervals(p, i, k, t, boot, tol, yt, span, scale):
    """``p`` with 95% bootstrap intervals of its start, end and level: the estimate plus
    the percentiles of the replicates' deviations from what the same rule gives on the
    trend itself (the rule: where a replicate leaves the band of width ``tol`` around the
    plateau's middle level, and its mean over the middle half; see :mod:`.trend`)."""
    centres, reps = boot
    core = int(np.clip(np.searchsorted(centres, (i + k) // 2), 0, centres.size - 1))
    seg = yt[i:k + 1]
    mid = (seg.max() + seg.min()) / 2
    both = np.vstack([yt[centres][None, :], reps])
    first, last = trend.edges(both, core, mid - tol / 2, mid + tol / 2)
    c = np.concatenate([np.zeros((both.shape[0], 1)), np.cumsum(both, axis=1)], axis=1)
    rows = np.arange(both.shape[0])
    q = (last - first + 1) // 4                     # the middle half, as the level itself
    level = (c[rows, last + 1 - q] - c[rows, first + q]) / (last - first + 1 - 2 * q)
    level = level * span * scale

    est = np.array([p.start_step, p.end_step, p.level])
    x = np.vstack([t[centres[first]], t[centres[last]], level])
    lo, hi = _percentiles(est[:, None] + x[:, 1:] - x[:, :1], axis=1)
    return replace(p, start_ci=(float(lo[0]), float(hi[0])),
                   end_ci=(float(lo[1]), float(hi[1])), level_ci=(float(lo[2]), float(hi[2])))


def _start_stall(t, tt, total, yt, tol, boot) -> dict:
    """How long the curve sits at its starting level (Sec. 3.2: with f(0) = 0 the first
    plateau is at the start): the first logged step at which the trend is ``tolerance``
    above its start, and the share of the time axis before it, with a bootstrap interval."""
    n = yt.size
    if tol >= trend.TOO_NOISY:                     # nothing can be told: no stall either
        return {"left_start": None, "end_step": None, "fraction": None, "fraction_ci": None,
                "end_step_ci": None}
    e = int(trend.first_exceeding(yt - yt[0], tol))
    fin = np.isfinite(tt)
    t0 = tt[fin][0] if fin.any() else 0.0

    def fraction(idx):
        idx = np.minimum(idx, n - 1)
        return np.clip((tt[idx] - t0) / total, 0, 1) if total > 0 else np.zeros(np.shape(idx))

    out = {"left_start": bool(e < n), "end_step": float(t[min(e, n - 1)]),
           "fraction": float(fraction(e)) if e < n else 1.0, "fraction_ci": None,
           "end_step_ci": None}
    if boot is not None and e < n:                # estimate + bootstrap deviations
        centres, reps = boot
        er = trend.first_exceeding(np.vstack([yt[centres][None, :], reps]) - yt[0], tol)
        idx = np.where(er < centres.size, centres[np.minimum(er, centres.size - 1)], n - 1)
        f = np.where(er < centres.size, fraction(idx), 1.0)
        out["fraction_ci"] = tuple(np.clip(_interval(out["fraction"] + f[1:] - f[0]), 0, 1))
        out["end_step_ci"] = _interval(out["end_step"] + t[idx[1:]] - t[idx[0]])
    return out


def _overlaps(p, others) -> bool:
    """``p`` shares at least half of the shorter one's span with one of ``others``."""
    return any(min(p.end_step, q.end_step) - max(p.start_step, q.start_step)
               >= 0.5 * min(p.end_step - p.start_step, q.end_step - q.start_step)
               for q in others)


def agreement(steps, exact, returns, **thresholds) -> list:
    """What the detector says from noisy returns against what it says from the exact
    curves of the same runs (Sec. 4, checked where J is known): ``exact`` and ``returns``
    are ``[runs, T]`` on the same ``steps`` ``[T]``. One dict per run: plateau counts of
    both, ``same_verdict`` (both or neither find a plateau), ``exact_found`` (exact plateaus
    overlapping a plateau found from returns), ``spurious`` (plateaus from returns that
    overlap no exact one), the start stall's end step from both with the interval from
    returns and whether it covers the exact one, and ``too_noisy``."""
    steps = np.asarray(steps, dtype=float)
    exact = np.atleast_2d(np.asarray(exact, dtype=float))
    returns = np.atleast_2d(np.asarray(returns, dtype=float))
    if exact.shape != returns.shape or exact.shape[1] != steps.size:
        raise ValueError(f"exact {exact.shape} and returns {returns.shape} must both be "
                         f"[runs, {steps.size}]")
    thresholds.setdefault("axis", choose_axis(steps))
    rows = []
    for e, r in zip(exact, returns):
        ex = detect(steps, e, **thresholds).runs[0]
        rt = detect(steps, r, **thresholds).runs[0]
        se, sr = ex.start_stall, rt.start_stall
        ci = sr.get("end_step_ci")
        rows.append({
            "exact_plateaus": len(ex.plateaus), "return_plateaus": len(rt.plateaus),
            "same_verdict": bool(ex.plateaus) == bool(rt.plateaus),
            "exact_found": sum(_overlaps(p, rt.plateaus) for p in ex.plateaus),
            "spurious": sum(not _overlaps(q, ex.plateaus) for q in rt.plateaus),
            "stall_exact": se["end_step"] if se["left_start"] else None,
            "stall_returns": sr["end_step"] if sr["left_start"] else None,
            "stall_ci": ci,
            "stall_covered": bool(ci is not None and se["left_start"]
                                  and ci[0] <= se["end_step"] <= ci[1]),
            "too_noisy": rt.too_noisy})
    return rows
