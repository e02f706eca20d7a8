"""Chapter 08_detect_and_remedy: detect ray interference, what makes it worse, and the
remedies ranked on one benchmark (Sec. 4, "How to detect it?", "What makes it worse?",
"What makes it better?").

This module holds the chapter's parameters, the measurements behind its claims and the claims
themselves as data; its three parts are modules beside it:

- the bandit benchmark (:mod:`.detect_and_remedy_bandit`): the shared-bias bandit of Sec. 2 at
  K = n = 2 and K = n = 8 from ``J(theta0) = K/10``, the App. A protocol, every remedy tuned on
  other seeds, run from the same starts and ranked with 95% intervals
  (:mod:`rayint_lib.model.remedies`, :mod:`rayint_lib.model.ranking`);
- the detection protocol (:mod:`.detect_and_remedy_detection`): ``rayint detect``'s engine on
  the baseline, the two controls and two negative controls;
- the deep-RL corridor task (:mod:`.deep_rl_remedies`, at the deep-RL chapter's default
  shapes so that its compiled trainers come from JAX's persistent cache): the remedies in their
  neural form and a bootstrapped TD(0) critic (Sec. 4, "What makes it worse?").

Tables, glue and prose are :mod:`.detect_and_remedy_text`, figures
:mod:`.detect_and_remedy_figures`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..book.claims import Claim, Finding, registry
from ..model import ranking as rk
from ..model import stats
from ..model.config import check_float, check_int, check_memory, check_time
from ..model.params import Param, declare
from . import deep_rl as drl
from . import deep_rl_remedies
from . import detect_and_remedy_bandit as bandit

NOTEBOOK = "08_detect_and_remedy"

REMEDIES = ("reinforce", "mixture", "importance", "separate", "pcgrad", "cosgate", "gradnorm",
            "natural", "escort", "entropy", "adam", "rmsprop", "rebalanced")
KNOWN = REMEDIES + ("tabular", "curriculum")
DISSIPATE = 0.5                 # "dissipate": a control keeps at most this share of plateaus
# claim id -> the method whose flat fraction, against the baseline's, measures it
REDUCED_BY = {"sec4-offpolicy-reduces-coupling": bandit.MIXTURE_LABEL,
              "sec4-rebalancing-reduces-coupling": "rebalanced contexts",
              "sec4-multihead-reduces-interference": "separate heads",
              "sec4-gradient-level": "cosine-gated (Du et al.)",
              "sec4-normalise-loss-scales": "GradNorm-style equal norms",
              "sec4-natural-gradient": "natural gradient"}


_DRL = drl.PARAMS
PARAMS = declare(
    Param("K_list", [2, 8], "contexts of each benchmark (as many actions: n_list)", low=2,
          high=64),
    Param("n_list", [2, 8], "actions of each benchmark, one per K, at least K", low=2, high=64),
    Param("J0", None, "initial performance J(theta0); None means K/10 for each K (App. A)",
          float, low=0, low_open=True),
    Param("max_samples", 100_000, "budget per run in samples, K per update (App. A: 1e5)",
          low=20, high=10**8),
    Param("n_runs", 100, "runs per method and K (same starts and sampler seeds for every "
          "method)", low=2, high=100_000),
    Param("seed", 0, "seed of the starts and of the sampler", low=0),
    Param("methods", list(REMEDIES), "remedies, baseline", choices=KNOWN),
    Param("mix_fractions", [0.01, 0.1, 0.3, 1.0],
          "mixture's fraction grid (tuned); 1.0: fixed uniform data", low=0, high=1, low_open=True),
    Param("iw_fraction", 0.1, "uniform fraction of the behaviour of importance-weighted "
          "learning", low=0, high=1, low_open=True),
    Param("entropy_tau", 0.01, "entropy weight (Mnih et al. 2016's 0.01)", low=0,
          low_open=True),
    Param("adaptive_etas", [0.01, 0.03, 0.1],
          "first step-size grid of Adam and RMSProp (widened at an edge)", low=0,
          low_open=True),
    Param("tune_runs", 20, "runs per grid point when tuning every method (seed + 1000)", low=2,
          high=100_000),
    Param("eta", 0.1, "step size of the baseline (App. A); every method's grid starts at "
          "eta/3, eta, 3 eta", low=0, low_open=True),
    Param("eps", 1e-5,
          "flat plateau: flatness <= eps at step size eta (per sample: eps eta / K)", low=0,
          low_open=True),
    Param("detect_runs", 40, "runs per condition given to the detector", low=2),
    # the rooms task is chapter 03b's: its declarations, renamed, with this chapter's defaults
    replace(_DRL["rl_seeds"], name="deep_rl_runs", default=64, low=0, high=4096,
            meaning="seeds per setting on the deep-RL rooms task (0: not run; 03b: 64)"),
    replace(_DRL["env_steps"], name="deep_rl_env_steps", default=96_000, high=10**9,
            meaning="environment steps per seed on the rooms task (03b: 96k)"),
)


@dataclass(frozen=True)
class Settings(PARAMS.record("Parameters")):
    """The chapter's validated parameters (:data:`PARAMS`, lists as tuples)."""

    extra: tuple = field(default=("curriculum", "tabular"))

    def J0_for(self, K):
        return K / 10 if self.J0 is None else self.J0

    def eps_per_sample(self, K) -> float:
        """The flatness threshold on the benchmark's one scale (|J-dot| per sample, J units):
        ``eps`` of the paper's rate per unit step, at step size ``eta``, over ``K`` samples
        per update (the baseline at ``eta`` classifies its runs as before)."""
        return self.eps * self.eta / K


def validate(**values) -> Settings:
    """Parameters of ``08_detect_and_remedy`` (:data:`PARAMS`) -> :class:`Settings`;
    ``ValueError`` naming the parameter (unknown method names are rejected with the list of
    known ones), including combinations the chapter cannot run."""
    v = PARAMS.check(values)
    K_list, n_list, n_runs, max_samples = v["K_list"], v["n_list"], v["n_runs"], v["max_samples"]
    if len(n_list) != len(K_list):
        raise ValueError(f"n_list must have one entry per K in K_list; got K_list={K_list}, "
                         f"n_list={n_list}")
    for name in ("K_list", "methods", "mix_fractions", "adaptive_etas"):
        if len(set(v[name])) != len(v[name]):
            raise ValueError(f"{name} lists a value twice (each runs once); got {v[name]}")
    for K, n in zip(K_list, n_list):
        if n < K:
            raise ValueError(f"n_list entries must be >= the K_list entries (one right arm per "
                             f"context); got K={K}, n={n}")
    if "reinforce" not in v["methods"]:
        raise ValueError(f"methods must contain 'reinforce' (the baseline every remedy is "
                         f"compared with); got {v['methods']}")
    if 1.0 not in v["mix_fractions"]:
        raise ValueError("mix_fractions must contain 1.0 (fixed uniform data, one of the two "
                         f"controls); got {v['mix_fractions']}")
    if v["J0"] is not None:
        check_float("J0", v["J0"], 0, min(K_list), low_open=True, high_open=True)
    check_int("max_samples", max_samples, max(K_list) * 10, 10**8)
    check_int("detect_runs", v["detect_runs"], 2, n_runs)
    deep_rl_runs, deep_rl_env_steps = v["deep_rl_runs"], v["deep_rl_env_steps"]
    if deep_rl_runs == 1:
        raise ValueError("deep_rl_runs must be 0 (not run) or at least 2 (intervals need "
                         "runs); got 1")
    check_int("deep_rl_env_steps", deep_rl_env_steps,
              10 * _DRL["episodes"].default * _DRL["room_length"].default, 10**9)
    s = Settings(**PARAMS.values_of(v, Settings))
    mix_fractions, tune_runs = s.mix_fractions, s.tune_runs
    if deep_rl_runs:
        from ..model.deep import agent
        rooms = deep_rl_config(s)
        check_memory(f"deep_rl_runs={deep_rl_runs}",
                     agent.memory_bytes(rooms.agent_spec(separate=True), deep_rl_runs),
                     "seeds x (6 x parameters + rollout activations + exact-J tables) x 4 "
                     "bytes")
        check_time(f"deep_rl_runs={deep_rl_runs} x deep_rl_env_steps={deep_rl_env_steps}",
                   drl.agent_seconds(rooms.agent_spec(separate=True),
                                     deep_rl_remedies.trained_seeds(deep_rl_runs)),
                   drl.AGENT_TIME)
    n_sets = len(bandit.planned_methods(s)) + len(bandit.CONTROLS)
    n_ck = 200
    n_tune = (n_sets * (len(bandit.ETA_STEPS) + 2 * bandit.MAX_WIDEN)   # at most
              + len(mix_fractions))
    per_K = [(n_sets * n_runs + tune_runs) * (n_ck * K + 4 * K + 4) * 8
             + n_runs * K * n * 8 for K, n in zip(K_list, n_list)]
    check_memory(f"n_runs={n_runs}, K_list={list(K_list)}, methods", sum(per_K),
                 "runs x methods x (200 checkpoints x K + 4 K + 4) x 8 bytes, kept for the "
                 "figures and the detector")
    work = sum((n_sets * n_runs + n_tune * tune_runs) * (max_samples // K) * K
               * n for K, n in zip(K_list, n_list))
    check_time(f"n_runs={n_runs} x max_samples={max_samples}", work * 3e-8,
               "runs x updates x K x n x 30 ns, the remedies kernel on 2 loaded cores")
    return s


# ---------------------------------------------------------------------------------------
# what the claims measure
# ---------------------------------------------------------------------------------------

def claims_evidence(bench: bandit.Benchmark) -> dict:
    """``{claim id: (measured, evidence, readings)}`` for the benchmark's numeric claims."""
    s = bench.settings
    K = s.K_list[0]
    out = {}
    ev = (f"{s.n_runs} runs per method, same starts, every step size tuned on other seeds; "
          "paired bootstrap of the difference in the fraction of runs with a plateau flatter "
          f"than {s.eps:g} x {s.eta:g} / K per sample")
    if all((k, bandit.CURRICULUM) in bench.runs for k in s.K_list):
        def amp(k):
            return rk.paired_difference(bandit.flat(s, bench.runs[(k, bandit.CURRICULUM)]),
                                        bandit.flat(s, bench.runs[(k, bandit.BASELINE)]))
        out["sec4-curriculum-amplifies-wta"] = (
            amp(K), ev, {f"K = n = {k}": amp(k) for k in s.K_list})
    for cid, label in REDUCED_BY.items():
        if not all((k, label) in bench.runs for k in s.K_list):
            continue
        readings = {f"K = n = {k}": bandit.reduction(bench, label, k) for k in s.K_list}
        if cid == "sec4-gradient-level":
            readings.update({f"PCGrad, K = n = {k}": bandit.reduction(bench, "PCGrad", k)
                             for k in s.K_list if (k, "PCGrad") in bench.runs})
        out[cid] = (bandit.reduction(bench, label, K), ev, readings)
    return out


def dissipates(control: stats.Estimate, base: stats.Estimate) -> bool:
    """Plateaus *dissipate* under a control when its fraction of runs with plateaus is at
    most :data:`DISSIPATE` times the baseline's, with 95% confidence: the upper end of the
    control's interval at most that share of the lower end of the baseline's."""
    return rk.shrinks(control, base, DISSIPATE)


def controls_dissipate(bench: bandit.Benchmark) -> dict:
    """Both controls (separate heads; fixed uniform data) make the flat plateaus dissipate
    (:func:`dissipates`) at every K."""
    s = bench.settings
    parts, ok = [], True
    for K in s.K_list:
        base = stats.fraction(bandit.flat(s, bench.runs[(K, bandit.BASELINE)]))
        for label, _, _ in bandit.CONTROLS:
            if (K, label) not in bench.runs:
                return {"holds": False, "text": f"control {label!r} not run"}
            f = stats.fraction(bandit.flat(s, bench.runs[(K, label)]))
            ok &= dissipates(f, base)
            parts.append(f"K={K} {label}: {f:.2f}")
    return {"holds": bool(ok), "text": f"flat fraction, baseline vs control (dissipate: "
            f"control's upper end <= {DISSIPATE:g} x baseline's lower end): " + "; ".join(parts)}


# ---------------------------------------------------------------------------------------
# claims of the paper (Sec. 4) and the book's findings: data
# ---------------------------------------------------------------------------------------

WORSE, BETTER = "Sec. 4, What makes it worse?", "Sec. 4, What makes it better?"
DETECT = "Sec. 4, How to detect it?"
_WHY_SIGN = ("the paper gives a direction, not a size: any change whose 95% interval "
             "excludes zero in the stated direction")

_SIGN_CLAIMS = (      # (id, section, quote, reason): each measured as a paired difference
    ("sec4-curriculum-amplifies-wta", WORSE,
     "curricula based on recent learning progress ... amplif[y] the winner-take-all "
     "dynamics (measured: curriculum minus uniform context sampling, fraction of runs "
     "with a plateau flatter than 1e-5, K = n = 2)",
     ""),
    ("sec4-offpolicy-reduces-coupling", BETTER,
     "coupling can be reduced by introducing elements of off-policy learning that "
     "dilutes the coupled data distribution with exploratory experience (measured: "
     "baseline minus 10% uniform mixture, flat fraction, K = n = 2)",
     ""),
    ("sec4-rebalancing-reduces-coupling", BETTER,
     "rebalancing the data distribution with a suitable form of prioritized replay "
     "(measured: baseline minus contexts sampled ~ 1 - J_k, flat fraction, K = n = 2)",
     ""),
    ("sec4-multihead-reduces-interference", BETTER,
     "modular or multi-head architectures ... avoid negative interference (measured: "
     "baseline minus separate heads, flat fraction, K = n = 2)",
     ""),
    ("sec4-gradient-level", BETTER,
     "methods that prevent the interference directly at the gradient level (measured: "
     "baseline minus cosine-gated gradients, the paper's reference [5], flat fraction, "
     "K = n = 2)",
     "the paper cites Du et al. 2018 [5] (cosine-gated auxiliary gradients) and Yin et al. "
     "2017 [47] (gradient diversity, a distributed-training analysis, not a method); [5] is "
     "the faithful test, PCGrad (2020) a reading. 'Helps' is read as fewer flat runs, so an "
     "interval at or below 0 does not reproduce it"),
    ("sec4-normalise-loss-scales", BETTER,
     "[methods that] normalize the scales of the losses (measured: baseline minus "
     "GradNorm-style equal norms, flat fraction, K = n = 2)",
     ""),
    ("sec4-natural-gradient", BETTER,
     "it is plausible that following the natural gradient helps as well (measured: "
     "baseline minus natural gradient, flat fraction, K = n = 2)",
     ""),
    ("sec4-td-bootstrap-coupling", WORSE,
     "using temporal-difference methods that bootstrap from value estimates may "
     "introduce a form of coupling where the values improve faster in regions of state "
     "space that already have accurate and consistent bootstrap targets (measured: "
     "final J_k of the weakest room of the corridor task, Monte Carlo returns minus "
     "TD(0) critic, paired by seed)",
     "the paper says TD 'may introduce' a coupling and predicts more plateaus; "
     "the measurement tests that prediction only. It cannot separate a coupling "
     "from TD passing reward back more slowly, and the TD variant also changes "
     "the actor's advantage: any slower learner would pass, so a reproduced "
     "verdict supports the prediction, not the mechanism"),
)

CLAIMS = registry(
    *(Claim(cid, section, quote, 0.0, "at_least", 0.0, why=_WHY_SIGN, reason=reason)
      for cid, section, quote, reason in _SIGN_CLAIMS),
    Claim("sec4-averaging-hides-plateaus", DETECT,
          "plateaus tend to be averaged out when curves [are] aggregated across many runs",
          rule="holds"),
    Claim("sec4-components-stall", DETECT,
          "progress stalls on some components while others learn, and then picks up later "
          "(K = n = 8 baseline runs, the detector's stall test)", rule="holds",
          reason="'monitor whether progress stalls' is a recipe, not a frequency: the "
                 "statement holds when the pattern is there to be seen, i.e. the fraction of "
                 "baseline runs in which the detector finds it has a 95% interval above 0; the "
                 "detector's own rule (at least half the runs) is a reading"),
    Claim("sec4-controls-dissipate", DETECT,
          "if the plateaus dissipate under these control experiments [reduce interference; "
          "reduce coupling], they were likely due to ray interference (measured: both "
          "controls keep at most half the baseline's flat runs, with 95% confidence)",
          rule="holds"),
)

FINDINGS = registry(
    Finding("remedy-ranking", "Sec. 4",
            "Which remedies remove the plateaus on the bandit benchmark, and which only "
            "shorten them?"),
    Finding("natural-gradient-reparameterisation", "Sec. 4",
            "What does the natural gradient do to the shared-bias model, a reparameterisation "
            "of the tabular one?"),
    Finding("importance-weighting-restores-coupling", "Sec. 4",
            "Does off-policy data help when it is importance-weighted back to the on-policy "
            "gradient?"),
    Finding("adaptive-optimizers", "Sec. 4, App. A",
            "Do Adam or RMSProp at their best step size remove the plateaus?"),
    Finding("deep-rl-remedies", "Sec. 4, Sec. 3.3",
            "Which remedies, in their neural form and each with its tuned step size, let the "
            "corridor-task agent learn every room?"),
    Finding("td-critic-deep-rl", WORSE,
            "Does a bootstrapped TD(0) critic leave the corridor agent's stalled room further "
            "behind than Monte Carlo returns?"),
    Finding("baseline-matches-library", "App. A",
            "Does the remedies kernel's REINFORCE reproduce the library's on-policy flat "
            "fraction?"),
)


# ---------------------------------------------------------------------------------------
# the deep-RL rooms task (the deep-RL chapter's trainer, rayint_lib.model.deep.agent)
# ---------------------------------------------------------------------------------------

def deep_rl_config(s: Settings):
    """The deep-RL chapter's configuration at its defaults, with ``deep_rl_runs`` seeds,
    ``deep_rl_env_steps`` environment steps and this chapter's seed: at the defaults the
    same shapes as ``03b_deep_rl``, so its compiled trainers are reused from JAX's cache."""
    return drl.config(_DRL.check({"rl_seeds": max(2, s.deep_rl_runs),
                                  "env_steps": s.deep_rl_env_steps, "seed": s.seed}))


def compile_deep_rl_ahead(s: Settings) -> None:
    """Start compiling the corridor task's trainers in the background (nothing when
    ``deep_rl_runs = 0``), so that XLA compiles them while the bandit benchmark runs (the
    numba kernel's compilation holds one core of two): :func:`deep_rl` then finds them
    compiled; the programs, hence the results, are the same."""
    if s.deep_rl_runs == 0:
        return
    from .deep_rl import _enable_compilation_cache

    _enable_compilation_cache()
    deep_rl_remedies.compile_ahead(deep_rl_config(s).agent_spec(), s.deep_rl_runs)


def deep_rl(bench: bandit.Benchmark):
    """Every method of :mod:`.deep_rl_remedies` on the corridor task, ``deep_rl_runs`` seeds
    each, at the deep-RL chapter's default agent; ``None`` when ``deep_rl_runs = 0``."""
    s = bench.settings
    if s.deep_rl_runs == 0:
        return None
    from .deep_rl import _enable_compilation_cache

    _enable_compilation_cache()
    return deep_rl_remedies.run(deep_rl_config(s).agent_spec(), bandit.best_mixture(bench),
                                s.deep_rl_runs, s.seed)
