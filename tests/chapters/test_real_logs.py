"""Chapter 09 (detector on noisy logs): the specificity table can fail, the public log is
read as shipped, the agreement table has its intervals, bad parameters are refused."""
from __future__ import annotations

import numpy as np
import pytest

from rayint_lib import chapters
from rayint_lib.chapters import real_logs as ch
from rayint_lib.model import detection
from rayint_lib.model.stats import Estimate

SMALL = dict(n_curves=4, n_points=600, noise_levels=[0.05, 2.0], rl_seeds=2,
             return_episodes=16, seed=1)


@pytest.fixture(scope="module")
def cfg():
    return chapters.validate("09_real_logs", **SMALL)


def test_specificity_table_has_intervals_and_can_fail(cfg):
    spec = ch.specificity_table(cfg)
    assert len(spec) == len(ch.NOISES) * len(SMALL["noise_levels"])
    for col in ("false positives (smooth)", "detected (staircase)", "too noisy"):
        assert all(isinstance(v, Estimate) and v.low <= v.value <= v.high for v in spec[col])
    low = spec[spec["level"] == 0.05]
    high = spec[spec["level"] == 2.0]
    assert all(v.value >= 0.75 for v in low["detected (staircase)"])   # a clean staircase
    gauss = high[high["noise"] == "Gaussian"]
    assert gauss["too noisy"].iloc[0].value == 1.0          # noise twice the progress
    assert all(v.value <= 0.25 for v in high["detected (staircase)"])


def test_noise_shapes_have_the_stated_level():
    rng = np.random.default_rng(0)
    y = np.full(20_000, 0.5)
    for kind in ch.NOISES[:3]:
        assert np.std(ch.noisy(y, kind, 0.2, rng)) == pytest.approx(0.2, rel=0.1), kind
    top = np.ones(20_000)
    assert np.std(ch.noisy(top, ch.NOISES[3], 0.2, rng)) == pytest.approx(0.2, rel=0.1)
    for shape in ch.SMOOTH:
        c = ch.smooth_curve(shape, np.linspace(0, 1, 500))
        assert c[0] == 0 and c[-1] == pytest.approx(1) and np.all(np.diff(c) >= -1e-12)


def test_public_log_read_as_shipped():
    table, result = ch.public_detection()
    assert table.formats == ["monitor"] and len(result.runs) == len(ch.public_runs()) >= 1
    for run in ch.public_runs():
        assert (run.parent / "SOURCE.md").exists() and (run.parent / "LICENSE").exists()
    assert ch.run_table(result)["episodes"].iloc[0] == 925


def test_agreement_counts_what_differs():
    t = np.geomspace(1, 1e4, 60)
    stair = 1 / (1 + np.exp(-(np.log(t) - np.log(10)) * 8)) + \
        1 / (1 + np.exp(-(np.log(t) - np.log(1000)) * 8))
    smooth = 2 * np.log(t) / np.log(1e4)
    rows = detection.agreement(t, [stair, stair], [stair, smooth])
    assert rows[0]["same_verdict"] and rows[0]["exact_found"] == 1
    assert not rows[1]["same_verdict"] and rows[1]["exact_found"] == 0
    table = ch.agreement_table(rows)
    assert table["value"].iloc[0].value == 0.5


@pytest.mark.parametrize("bad, match", [
    (dict(n_curves=1), "n_curves"), (dict(noise_levels=[]), "noise_levels"),
    (dict(noise_levels=[-0.1]), "noise_levels"), (dict(rl_seeds=1), "rl_seeds"),
    (dict(n_curves=100_000, n_points=1_000_000), "more than a day"),
])
def test_bad_parameters_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        chapters.validate("09_real_logs", **{**SMALL, **bad})
