"""The remedies of Sec. 4 as a table of update rules, and one rule's settings (:class:`Method`).

One row per rule (:data:`RULES`): its name, a one-line description, its default label and the
config fields it fixes in the engine's vocabulary (fields of :class:`.config.BanditConfig`: a
learner, i.e. the behaviour and importance weights, a policy parameterisation, an optimizer;
the other fields keep their defaults, on-policy SGD with a shared bias and sampled updates).
The names, descriptions, the compiled rules' integer codes (the row's position) and the
hyper-parameter layout of the compiled rules (:data:`HYPER`, the :class:`Method` fields) are
all derived from here. The rules themselves are :mod:`.remedy_kernel` (compiled) and
:mod:`.remedies_reference` (numpy).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import NamedTuple

import numpy as np

from .config import check_choice, check_float


class Rule(NamedTuple):
    """One row of :data:`RULES`. ``label``: the default label, a format string over the
    :class:`Method` fields; ``terms``: the config fields the rule fixes (:func:`terms`)."""

    name: str
    description: str
    label: str
    terms: dict = {}


RULES = (
    Rule("reinforce", "on-policy REINFORCE, shared bias (the baseline)",
         "REINFORCE (baseline)"),
    Rule("mixture", "behaviour mixes a fraction of uniform actions into the policy, no "
         "correction", "mixture {mix:g}", {"learner": "mixture"}),
    Rule("importance", "behaviour = mixture, updates importance-weighted by pi/mu",
         "importance-weighted (mixture {mix:g})",
         {"learner": "mixture", "off_policy_weighting": "importance"}),
    Rule("separate", "separate heads: one (W_k, b_k) per context, no shared parameter",
         "separate heads", {"policy": "separate"}),
    Rule("tabular", "tabular policy (no bias): the capacity control",
         "tabular (no shared bias)", {"policy": "tabular"}),
    Rule("pcgrad", "per-context gradient surgery (PCGrad): conflicting components projected "
         "away", "PCGrad"),
    Rule("gradnorm", "per-context gradients rescaled to equal norms (GradNorm-style, alpha = "
         "0)", "GradNorm-style equal norms"),
    Rule("natural", "natural gradient, exact Fisher of the softmax (pseudo-inverse)",
         "natural gradient"),
    Rule("escort", "escort transform pi ~ |l|^p (p = 2)", "escort p={p:g}"),
    Rule("entropy", "entropy regularisation tau * grad H(pi_k)", "entropy tau={tau:g}"),
    Rule("adam", "Adam on (W, b), tuned step size", "Adam eta={eta:g}", {"optimizer": "adam"}),
    Rule("rmsprop", "RMSProp on (W, b), tuned step size", "RMSProp eta={eta:g}",
         {"optimizer": "rmsprop"}),
    Rule("rebalanced", "contexts sampled more where performance is low, p_k ~ 1 - J_k",
         "rebalanced contexts"),
    Rule("curriculum", "contexts sampled by recent learning progress |dJ_k| (makes it "
         "worse?)", "learning-progress curriculum"),
    Rule("cosgate", "cosine-gated gradients (Du et al. 2018): with each context as the main "
         "task in turn, another's gradient is added weighted by max(0, cosine)",
         "cosine-gated (Du et al.)"),
)

# a row's position is its code, frozen into the compiled loop (cached on disk, renewed when
# remedy_kernel.py changes): a new rule goes at the end, with its dispatch line there
KINDS = tuple(rule.name for rule in RULES)              # in the order of the integer codes
CODES = {name: code for code, name in enumerate(KINDS)}
DESCRIPTIONS = {rule.name: rule.description for rule in RULES}
TERMS = {rule.name: rule.terms for rule in RULES if rule.terms}
_DEFAULT_TERMS = {"learner": "on_policy", "off_policy_weighting": "none",
                  "policy": "shared_bias", "optimizer": "sgd", "batch": "sampled",
                  "flatness_measure": "expected"}

# the compiled rules' codes (globals are compile-time constants in numba), in RULES' order
(REINFORCE, MIXTURE, IMPORTANCE, SEPARATE, TABULAR, PCGRAD, GRADNORM, NATURAL, ESCORT, ENTROPY,
 ADAM, RMSPROP, REBALANCED, CURRICULUM, COSGATE) = range(len(RULES))


@dataclass(frozen=True)
class Method:
    """One update rule and its settings.

    ``kind``: one of :data:`KINDS`; ``eta``: step size; ``mix``: fraction of uniform actions
    (mixture, importance) or of uniform context sampling (rebalanced, curriculum); ``tau``:
    entropy weight; ``p``: escort exponent; ``beta``: GradNorm's norm average decay;
    ``fast``/``slow``: the curriculum's two averages of ``J_k``; ``floor``: the natural
    gradient's floor on ``J_k``; ``b1``/``b2``/``eps``: Adam/RMSProp (RMSProp uses ``b2`` as
    its decay, as :class:`.updates.Optimizer`).
    """

    kind: str
    eta: float = 0.1
    mix: float = 0.1
    tau: float = 0.01
    p: float = 2.0
    beta: float = 0.99
    fast: float = 0.9
    slow: float = 0.99
    floor: float = 1e-7
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    label: str = field(default="", compare=False)

    def __post_init__(self):
        check_choice("kind", self.kind, KINDS)
        check_float("eta", self.eta, 0, None, low_open=True)
        check_float("mix", self.mix, 0, 1)
        check_float("tau", self.tau, 0, None)
        check_float("p", self.p, 0, None, low_open=True)
        for name in ("beta", "fast", "slow", "b1", "b2"):
            check_float(name, getattr(self, name), 0, 1, high_open=True)
        if self.kind == "rmsprop" and self.b2 == 0.999:      # the library's RMSProp decay
            object.__setattr__(self, "b2", 0.9)
        if not self.label:
            object.__setattr__(self, "label", default_label(self))

    def hyper(self) -> np.ndarray:
        """The settings as the compiled rules read them (:data:`HYPER`)."""
        return np.array([getattr(self, name) for name in HYPER], dtype=np.float64)

    def with_(self, **changes) -> "Method":
        return replace(self, label="", **changes)

    def check_config(self, config):
        """Raise ``ValueError`` unless ``config`` names this rule's learner, policy, optimizer
        and step size (:func:`terms`)."""
        for name, value in terms(self).items():
            if getattr(config, name) != value:
                raise ValueError(f"{name} must be {value!r} for the rule {self.kind!r} (the "
                                 f"method's {name}); got {getattr(config, name)!r}")


# the hyper-parameter vector of the compiled rules: the Method's settings, in field order
HYPER = tuple(f.name for f in fields(Method) if f.name not in ("kind", "label"))
N_HYPER = len(HYPER)
ETA, MIX, TAU, P, BETA, FAST, SLOW, FLOOR, B1, B2, EPS = range(N_HYPER)


def default_label(m: Method) -> str:
    """The rule's label (:data:`RULES`) filled with ``m``'s settings."""
    if m.kind == "mixture" and m.mix == 1.0:
        return "fixed uniform data"
    return RULES[CODES[m.kind]].label.format(**{name: getattr(m, name) for name in HYPER})


def terms(method: Method) -> dict:
    """The config fields that ``method`` fixes (:data:`TERMS`): step size, learner,
    weighting, policy, optimizer, batch, flatness measure, and the behaviour's uniform share
    for mixtures."""
    out = {"eta": method.eta, **_DEFAULT_TERMS, **TERMS.get(method.kind, {})}
    if out["learner"] == "mixture":
        out["mix_fraction"] = method.mix
    return out
