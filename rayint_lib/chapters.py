"""Which notebook is which chapter, and how its parameters are validated.

``VALIDATORS`` maps a notebook's short name to a function that takes the notebook's
parameters as keyword arguments and raises ``ValueError`` (naming the parameter and its
allowed range) for bad values, before any work starts. The notebook calls it in its
validation cell; ``rayint run`` calls it before a kernel starts.
"""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

from .config import BanditConfig, check_int

BOOK_DIR = Path(__file__).resolve().parent.parent / "book"


def validate_minimal_bandit(K, n, eta, J0, n_runs, max_samples, seed, init="angular",
                            flatness_measure="expected", n_trajectories=30):
    """Parameters of ``01_minimal_bandit`` (Sec. 2) -> the base :class:`BanditConfig`."""
    check_int("n_trajectories", n_trajectories, 1, 10_000)
    return BanditConfig(K=K, n=n, eta=eta, J0=J0, n_runs=n_runs, max_samples=max_samples,
                        seed=seed, init=init, flatness_measure=flatness_measure)


# short name -> "module:function" (one line per chapter)
VALIDATORS = {
    "01_minimal_bandit": "rayint_lib.chapters:validate_minimal_bandit",
    "02_factored_objectives": "rayint_lib.factored:validate_factored_objectives",
    "03_many_components": "rayint_lib.stages:validate_many_components",
    "04_deep_linear": "rayint_lib.deep_linear:validate_notebook",
    "05_appendix_a": "rayint_lib.slowdown:validate_appendix_a",
    "06_appendix_b": "rayint_lib.symbolic:validate_appendix_b",
    "07_appendix_c": "rayint_lib.factored:validate_appendix_c",
}


def validator(name):
    """The validation function of notebook ``name``."""
    if name not in VALIDATORS:
        raise ValueError(f"unknown notebook {name!r}; known: {sorted(VALIDATORS)}")
    module, func = VALIDATORS[name].split(":")
    return getattr(import_module(module), func)


def validate(name, **parameters):
    """Validate the parameters of notebook ``name``; returns what its validator returns."""
    return validator(name)(**parameters)
