"""AF-SCO-MISMATCH: legacy indicator scores re-derived with F-BONUS / F-SHORT (§5.1, §5.2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.findings.scores import ScoreMismatch, recompute
from tests.unit.findings.builders import Feed, legacy


def _record(inputs: dict[str, str], recorded: str, formula: str = "F-BONUS") -> dict[str, object]:
    return {
        "type": "INDICATOR_SCORE",
        "scheme_id": "scheme-2023",
        "indicator_id": "ind-beds",
        "assessee_org_id": "county-b",
        "formula_id": formula,
        "inputs": inputs,
        "recorded_score": recorded,
    }


@pytest.mark.parametrize(
    ("inputs", "expected", "formula"),
    [
        # EX-BONUS-1, County B: (0.10 / 0.15) x 1.2 = 0.8 bonus.
        (
            {"target": "800", "actual": "880", "base_points": "6.0", "r_max": "0.15"},
            "6.8000",
            "F-BONUS",
        ),
        # EX-BONUS-2, W: 3.5 + (0.04 / 0.25) x 0.7.
        (
            {"target": "250", "actual": "260", "base_points": "3.5", "r_max": "0.25"},
            "3.6120",
            "F-BONUS",
        ),
        # EX-SHORT-1: two full 2 % steps, 10 % of 12.
        ({"target": "10000", "actual": "9500", "base_points": "12"}, "10.8000", "F-SHORT"),
        # EX-SHORT-2: 15 steps capped at 60 %.
        ({"target": "400", "actual": "280", "base_points": "10"}, "4.0000", "F-SHORT"),
    ],
)
def test_recompute_gives_the_worked_examples(
    inputs: dict[str, str], expected: str, formula: str
) -> None:
    assert recompute(_record(inputs, "0")) == (Decimal(expected), formula)


def test_a_recorded_score_that_recomputes_is_clean() -> None:
    feed = Feed([ScoreMismatch()])
    legacy(
        feed,
        "legacy-s-1",
        _record({"target": "800", "actual": "880", "base_points": "6.0", "r_max": "0.15"}, "6.8"),
    )

    assert feed.findings() == []


def test_a_recorded_score_that_does_not_recompute_is_found() -> None:
    feed = Feed([ScoreMismatch()])
    legacy(
        feed,
        "legacy-s-1",
        _record({"target": "10000", "actual": "9500", "base_points": "12"}, "12.0000"),
    )

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.severity) == (
        "AF-SCO-MISMATCH",
        ("scheme-2023", "ind-beds", "county-b"),
        "H",
    )
    assert "records 12.0000 (F-BONUS); F-SHORT gives 10.8000" in found.summary


def test_inputs_that_cannot_be_recomputed_are_a_mismatch() -> None:
    feed = Feed([ScoreMismatch()])
    legacy(feed, "legacy-s-1", _record({"target": "0", "actual": "5", "base_points": "2"}, "2"))

    [found] = feed.findings()
    assert "cannot be recomputed" in found.summary
