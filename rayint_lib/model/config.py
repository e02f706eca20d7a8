"""Validated, frozen experiment configurations.

Every config validates itself on construction and raises ``ValueError`` naming the
parameter, the value it got and the allowed range, before any work starts.
"""
from __future__ import annotations

import contextvars
import math
import numbers
import os
import reprlib
from contextlib import contextmanager
from dataclasses import dataclass, fields

LEARNERS = ("on_policy", "off_policy", "mixture", "supervised")
POLICIES = ("shared_bias", "tabular", "separate")
BATCHES = ("sampled", "expected")
OFF_POLICY_WEIGHTINGS = ("none", "importance")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
INITS = ("simplex", "angular", "logit")
FLATNESS_MEASURES = ("expected", "curve")


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
_SHORT.maxlevel = 3


def short(value) -> str:
    """``repr(value)`` cut to a short prefix (at most about 100 characters, 3 levels deep):
    every message quotes values through it, so a huge or deeply nested value cannot make a
    huge message."""
    try:
        text = _SHORT.repr(value)
    except (RecursionError, MemoryError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 100 else text[:97] + "..."


def clip(text, limit=100) -> str:
    """``text`` (a path, a message) cut in the middle to at most ``limit`` characters."""
    text = str(text)
    if len(text) <= limit:
        return text
    head = (limit - 3) * 2 // 3
    return f"{text[:head]}...{text[len(text) - (limit - 3 - head):]}"


def check_int(name, value, low=None, high=None):
    """Raise ``ValueError`` unless ``value`` is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {short(value)} "
                         f"({type(value).__name__})")
    _check_range(name, value, low, high, low_open=False, high_open=False)
    return int(value)


def check_float(name, value, low=None, high=None, low_open=False, high_open=False):
    """Raise ``ValueError`` unless ``value`` is a finite real number in the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {short(value)} "
                         f"({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {short(value)}")
    _check_range(name, value, low, high, low_open, high_open)
    return float(value)


def check_choice(name, value, choices):
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; "
                         f"got {short(value)}")
    return value


def check_list(name, values, check, **limits):
    """Validate a non-empty list element by element: ``check(f"{name}[i]", v, **limits)``.

    The one way every multi-valued parameter is checked; returns a list of checked values.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{name} must be a non-empty list, got {short(values)}")
    return [check(f"{name}[{i}]", v, **limits) for i, v in enumerate(values)]


def _check_range(name, value, low, high, low_open, high_open):
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}; got {short(value)}")


def memory_limit() -> int:
    """Bytes a computation may allocate: ``RAYINT_MAX_MEMORY`` (e.g. ``8G``) or, without it,
    half of the memory available now (the rest is for the kernel, the book and the OS)."""
    text = os.environ.get("RAYINT_MAX_MEMORY", "").strip()
    if text:
        units = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
        scale = units.get(text[-1].lower(), 1)
        try:
            size = float(text[:-1] if scale > 1 else text) * scale
        except ValueError:
            size = math.nan
        if not (math.isfinite(size) and 1 <= size <= 2**60):
            raise ValueError("RAYINT_MAX_MEMORY must be a size from 1 byte to 1E such as 8G; got "
                             f"{short(text)}")
        return int(size)
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # not on Linux: assume 8 GiB
        pages = 8 * 2**30
    return pages // 2


def size_text(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024


def check_memory(names: str, n_bytes: float, what: str):
    """Raise ``ValueError`` before any allocation when ``n_bytes`` exceeds :func:`memory_limit`.

    ``names`` are the parameters that set the size (as the user wrote them), ``what`` says
    how the estimate is made (e.g. "runs x K x n x 4 bytes, 12 arrays").
    """
    _record("bytes", n_bytes)
    limit = memory_limit()
    if n_bytes > limit:
        raise ValueError(f"{names} would need about {size_text(n_bytes)} of memory ({what}), more "
                         f"than the limit of {size_text(limit)} (half the available memory, or "
                         f"RAYINT_MAX_MEMORY); reduce {names.split('=')[0].split(',')[0]}")


MAX_SECONDS = 24 * 3600
_ESTIMATES = contextvars.ContextVar("estimates", default=None)


def _record(what, amount):
    estimates = _ESTIMATES.get()
    if estimates is not None:
        estimates[what].append(float(amount))


@contextmanager
def estimates():
    """Collect the estimates that :func:`check_memory` and :func:`check_time` see while a
    validator runs: ``{"bytes": [...], "seconds": [...]}`` (a run's parts run one after the
    other: its memory is the largest part, its time the sum)."""
    token = _ESTIMATES.set({"bytes": [], "seconds": []})
    try:
        yield _ESTIMATES.get()
    finally:
        _ESTIMATES.reset(token)


def check_time(names: str, seconds: float, what: str):
    """Raise ``ValueError`` when a run would take more than a day at the measured speed,
    unless ``RAYINT_FORCE`` is set (``rayint run --force``)."""
    _record("seconds", seconds)
    if seconds > MAX_SECONDS and not os.environ.get("RAYINT_FORCE"):
        raise ValueError(f"{names} would take about {seconds / 3600:.3g} hours ({what}), more "
                         "than a day; reduce it, or pass --force to rayint run (RAYINT_FORCE=1) "
                         "to start anyway")


@dataclass(frozen=True)
class BanditConfig:
    """One batch of learning runs on the (K x n) contextual bandit (Sec. 2, App. A).

    Defaults are the paper's settings (App. A): K = n = 2, eta = 0.1, J(theta0) = K/10,
    one sample per context per update, stop at J >= K - 0.1 or after 1e5 samples.
    """

    K: int = 2                      # contexts
    n: int = 2                      # actions (n >= K)
    eta: float = 0.1                # step size
    J0: float | None = None         # initial total performance J(theta0); None -> K/10
    n_runs: int = 100               # independent runs, simulated together
    max_samples: int = 100_000      # stop after this many samples (K per update)
    seed: int = 0                   # seed of the numpy Generator
    learner: str = "on_policy"      # on_policy | off_policy (uniform mu) | mixture | supervised
    mix_fraction: float = 0.1       # mixture: behaviour (1 - mix_fraction) pi + mix_fraction / n
    policy: str = "shared_bias"     # shared_bias (l = W s + b) | tabular (l = W s) | separate
    batch: str = "sampled"          # sampled (one sample per context) | expected (infinite batch)
    off_policy_weighting: str = "none"  # none | importance (pi/mu), off_policy and mixture
    optimizer: str = "sgd"          # sgd | momentum | rmsprop | adam
    init: str = "angular"           # how theta0 is drawn for a given J0 (see bandit.initial_logits)
    logit_scale: float = 1.0        # spread of the random logits of wrong arms at theta0
    solved_margin: float = 0.1      # stop when J >= K - solved_margin
    flatness_measure: str = "expected"  # expected: expected rate at the state; curve: slope of J(t)
    window: int = 10                # updates between flatness measurements (and per curve slope)
    start_margin: float = 0.05      # ignore slopes until J >= J0 + start_margin * K (the start)
    n_checkpoints: int = 200        # log-spaced points at which J_k(t) is recorded
    rule: object = None             # a remedy's update rule (remedies.Method); None: plain steps

    def __post_init__(self):
        if self.J0 is None:
            object.__setattr__(self, "J0", self.K / 10 if isinstance(self.K, int) else None)
        self.validate()

    def validate(self):
        """Check every field; raise ValueError naming the first bad one."""
        check_int("K", self.K, 1)
        check_int("n", self.n, 2)
        if self.n < self.K:
            raise ValueError("n must be >= K (one right arm per context); "
                             f"got n={self.n}, K={self.K}")
        check_float("eta", self.eta, 0, None, low_open=True)
        check_float("J0", self.J0, 0, self.K, low_open=True, high_open=True)
        check_int("n_runs", self.n_runs, 1)
        check_int("max_samples", self.max_samples, self.K)
        check_int("seed", self.seed, 0)
        check_choice("learner", self.learner, LEARNERS)
        check_float("mix_fraction", self.mix_fraction, 0, 1)
        check_choice("policy", self.policy, POLICIES)
        check_choice("batch", self.batch, BATCHES)
        check_choice("off_policy_weighting", self.off_policy_weighting, OFF_POLICY_WEIGHTINGS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("init", self.init, INITS)
        check_float("logit_scale", self.logit_scale, 0, None)
        check_float("solved_margin", self.solved_margin, 0, self.K, low_open=True, high_open=True)
        check_choice("flatness_measure", self.flatness_measure, FLATNESS_MEASURES)
        check_int("window", self.window, 1)
        check_float("start_margin", self.start_margin, 0, 1)
        check_int("n_checkpoints", self.n_checkpoints, 2)
        if self.rule is not None:
            if not callable(getattr(self.rule, "check_config", None)):
                raise ValueError("rule must be None or a remedies.Method; got "
                                 f"{short(self.rule)}")
            self.rule.check_config(self)
        check_memory(f"n_runs={self.n_runs}, K={self.K}, n={self.n}", self.memory_bytes(),
                     "runs x (checkpoints x K + 6 x (K x n + n)) x 8 bytes")
        check_time(f"n_runs={self.n_runs} x max_samples={self.max_samples}", self.seconds(),
                   "runs x updates x K x n x 5 ns, the simulator's speed on 2 cores")

    def memory_bytes(self) -> int:
        """Bytes :func:`~rayint_lib.model.simulate.simulate` allocates: the curves on the
        checkpoint grid and the parameters with optimizer state and scratch, per run."""
        per_run = 8 * (self.n_checkpoints * self.K + 6 * (self.K * self.n + self.n)) + 256
        return self.n_runs * per_run

    def seconds(self) -> float:
        """Upper estimate of the wall time, from ``make bench`` (>= 2e8 run-updates x K x n
        per second on 2 cores, less for small blocks)."""
        return self.n_runs * self.max_updates * self.K * self.n * 5e-9

    @property
    def max_updates(self) -> int:
        """Number of updates allowed: each update uses one sample per context."""
        return self.max_samples // self.K

    def replace(self, **changes) -> "BanditConfig":
        """A copy with some fields changed (validated again)."""
        return make_config(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


def make_config(**settings) -> BanditConfig:
    """Build a BanditConfig, rejecting unknown setting names with a clear message."""
    known = [f.name for f in fields(BanditConfig)]
    unknown = [k for k in settings if k not in known]
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}; known settings: {known}")
    return BanditConfig(**settings)
