"""The claims registry: verdicts follow the stated tests."""
import pytest

from rayint_lib.book.claims import AMBIGUOUS, NOT_REPRODUCED, REPRODUCED, Claim, load, record, table


@pytest.mark.parametrize("kind,paper,ours,tol,verdict", [
    ("abs", 0.2, 0.24, 0.05, REPRODUCED), ("abs", 0.2, 0.26, 0.05, NOT_REPRODUCED),
    ("rel", 10.0, 10.9, 0.1, REPRODUCED), ("rel", 10.0, 11.1, 0.1, NOT_REPRODUCED),
    ("at_least", 0.5, 0.59, 0.0, REPRODUCED), ("at_least", 0.5, 0.49, 0.0, NOT_REPRODUCED),
    ("at_most", 0.0, 0.0, 1e-12, REPRODUCED), ("at_most", 0.0, 0.1, 1e-12, NOT_REPRODUCED),
    ("holds", "x", True, 0, REPRODUCED), ("holds", "x", False, 0, NOT_REPRODUCED),
    ("abs", 0.2, float("nan"), 1.0, NOT_REPRODUCED),
])
def test_verdicts(kind, paper, ours, tol, verdict):
    assert Claim("c", "2", "s", paper, ours, kind, tol).verdict == verdict


def test_ambiguous_overrides_and_bad_kind_rejected():
    assert Claim("c", "2", "s", 1.0, 1.0, ambiguous=True).verdict == AMBIGUOUS
    with pytest.raises(ValueError, match="kind"):
        Claim("c", "2", "s", 1.0, 1.0, kind="close")


def test_record_only_during_book_builds(tmp_path, monkeypatch):
    cl = [Claim("c", "2", "s", 1.0, 1.0)]
    monkeypatch.delenv("RAYINT_CLAIMS_DIR", raising=False)
    assert record("01_x", cl) is None
    monkeypatch.setenv("RAYINT_CLAIMS_DIR", str(tmp_path))
    record("01_x", cl)
    assert load(tmp_path)["01_x"][0]["verdict"] == REPRODUCED
    assert list(table(cl)["verdict"]) == [REPRODUCED]
