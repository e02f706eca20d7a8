"""The claims registry: verdicts use intervals, every claim can fail, one claim per statement."""
import pytest

from rayint_lib import chapters
from rayint_lib.book import claims
from rayint_lib.book.claims import AMBIGUOUS, NOT_REPRODUCED, REPRODUCED, UNDECIDED, Claim, Finding
from rayint_lib.book.notebooks import chapter_names
from rayint_lib.model.stats import Estimate, wilson

WITHIN = Claim("c", "2", "20% of runs", 0.20, "within", 0.05, why="read to 5 points")


@pytest.mark.parametrize("measured,verdict", [
    (Estimate(0.22, 0.20, 0.24), REPRODUCED),
    (Estimate(0.269, 0.242, 0.297), UNDECIDED),     # the interval straddles 0.25
    (Estimate(0.30, 0.27, 0.33), NOT_REPRODUCED),
    (0.25, REPRODUCED), (0.2501, NOT_REPRODUCED),   # deterministic: zero-width interval
    (float("nan"), NOT_REPRODUCED),
])
def test_within_uses_the_whole_interval(measured, verdict):
    assert WITHIN.verdict(measured) == verdict


def test_bounds_and_qualitative_rules():
    at_least = Claim("c", "2", "over half", 0.5, "at_least", 0.0, why="a bound")
    assert at_least.verdict(wilson(590, 1000)) == REPRODUCED
    assert at_least.verdict(wilson(505, 1000)) == UNDECIDED
    assert at_least.verdict(wilson(400, 1000)) == NOT_REPRODUCED
    holds = Claim("h", "2", "no saddle", rule="holds")
    assert holds.verdict(True) == REPRODUCED and holds.verdict(False) == NOT_REPRODUCED
    with pytest.raises(ValueError, match="bool"):
        holds.verdict(0.3)


def test_definitions_are_checked():
    with pytest.raises(ValueError, match="rule"):
        Claim("c", "2", "s", 1.0, "close", 0.1, why="x")
    with pytest.raises(ValueError, match="why"):
        Claim("c", "2", "s", 1.0, "within", 0.1)
    with pytest.raises(ValueError, match="reason"):
        Claim("c", "2", "s", rule="ambiguous")
    with pytest.raises(ValueError, match="twice"):
        claims.registry(WITHIN, WITHIN)


def test_definitions_read_from_yaml(tmp_path):
    """A chapter's claims are data: a YAML file read into the two registries, checked."""
    path = tmp_path / "c.yaml"
    path.write_text("claims:\n- {id: c, section: '2', quote: 20% of runs, paper_value: 0.2,\n"
                    "   tolerance: 0.05, why: read to 5 points}\n"
                    "findings:\n- {id: f, section: '2', question: which}\n")
    found, asked = claims.definitions(path)
    assert found == {"c": WITHIN} and asked == {"f": Finding("f", "2", "which")}
    path.write_text("claims:\n  - id: a\n    section: Sec. 1\n    quote: >-\n      two\n"
                    "      lines\n    paper_value: 0.5\n    rule: at_least\n    tolerance: 0.0\n"
                    "    why: a bound\n")
    assert claims.definitions(path)[0]["a"] == Claim("a", "Sec. 1", "two lines", 0.5,
                                                     "at_least", 0.0, why="a bound")
    path.write_text("claims:\n  - {id: b, section: S, quote: q, value: 1}\n")
    with pytest.raises(ValueError, match=r"c.yaml: claims\[0\] \('b'\)"):
        claims.definitions(path)
    path.write_text("claims:\n  - {id: b, section: S, quote: q, paper_value: 1, rule: within}\n")
    with pytest.raises(ValueError, match="say why the tolerance"):
        claims.definitions(path)
    path.write_text("findings:\n- {id: f, section: '2', question: q}\n"
                    "- {id: f, section: '3', question: r}\n")
    with pytest.raises(ValueError, match="c.yaml: findings: .*twice"):
        claims.definitions(path)
    path.write_text("claims:\n- {id: c, section: '2', quote: q, rule: maybe}\n")
    with pytest.raises(ValueError, match="rule"):
        claims.definitions(path)


def all_claims():
    out = []
    for name in chapter_names():
        module = chapters.chapter(name)
        out += [(name, c) for c in getattr(module, "CLAIMS", {}).values()]
    return out


def test_every_chapter_defines_claims_as_data():
    for name in chapter_names():
        module = chapters.chapter(name)
        assert isinstance(getattr(module, "CLAIMS", None), dict), f"{name} has no CLAIMS"
        assert all(isinstance(c, Claim) for c in module.CLAIMS.values())
        assert all(isinstance(f, Finding) for f in getattr(module, "FINDINGS", {}).values())


def test_one_claim_per_statement_across_chapters():
    seen = {}
    for name, c in all_claims():
        assert c.id not in seen, f"claim {c.id} defined in {seen.get(c.id)} and {name}"
        seen[c.id] = name
    quotes = [c.quote.strip().lower() for _, c in all_claims()]
    assert len(quotes) == len(set(quotes)), "the same statement is defined as two claims"


@pytest.mark.parametrize("chapter,claim", all_claims(), ids=lambda x: getattr(x, "id", x))
def test_every_claim_can_fail(chapter, claim):
    if claim.rule == "ambiguous":
        assert claim.verdict(None) == AMBIGUOUS and claim.reason
        return
    assert claim.verdict(claim.example(True)) == REPRODUCED
    assert claim.verdict(claim.example(False)) == NOT_REPRODUCED, claim.fails_if()


def test_record_only_during_book_builds(tmp_path, monkeypatch):
    rows = [claims.evidence_row("01_x", WITHIN, Estimate(0.21, 0.2, 0.22), "60 runs")]
    monkeypatch.delenv("RAYINT_CLAIMS_DIR", raising=False)
    assert claims.record("01_x", rows, []) is None
    monkeypatch.setenv("RAYINT_CLAIMS_DIR", str(tmp_path))
    claims.record("01_x", rows, [])
    assert claims.load(tmp_path)["01_x"]["claims"][0]["verdict"] == REPRODUCED


def test_scorecard_keeps_one_row_per_claim_and_lists_other_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("RAYINT_CLAIMS_DIR", str(tmp_path))
    claims.record("01_x", [claims.evidence_row("01_x", WITHIN, 0.21)], [])
    claims.record("06_y", [claims.evidence_row("06_y", WITHIN, 0.3)], [])
    toc = tmp_path / "_toc.yml"
    toc.write_text("parts: []\n")
    card = claims.scorecard(toc, tmp_path)
    assert len(card) == 1 and card.loc[0, "verdict"] == REPRODUCED
    assert "06_y: not reproduced" in card.loc[0, "also"]


def test_readings_say_where_the_claim_reproduces():
    row = claims.evidence_row("01_x", WITHIN, Estimate(0.27, 0.24, 0.30),
                              readings={"angular": 0.27, "simplex": 0.22, "logit": 0.4})
    assert row["verdict"] == UNDECIDED
    assert "reproduced under 1 (simplex)" in row["readings"]
