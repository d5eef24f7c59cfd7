"""AF-SCO-MISMATCH: legacy indicator scores re-derived with F-BONUS / F-SHORT (§5.1, §5.2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger.domain.model import DomainEvent
from ledger.findings.runner import DetectorSet
from ledger.findings.scores import LiveScoreMismatch, ScoreMismatch, recompute
from tests.unit.domain.assessment_builders import (
    EXPECTED_RANKING,
    annual_year,
    assessment_world,
    consolidate,
    indicator,
    publish_scheme,
    record_result,
    record_score,
    score_payload,
    sign_agreement,
    standard_indicators,
)
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


# --- live IndicatorScoreRecorded (LiveScoreMismatch) ---------------------------------------------


def _fed_world() -> tuple[Any, DetectorSet]:
    """The assessment world of the domain tests, every accepted event fed to the detector."""
    world = assessment_world()
    detectors = DetectorSet([LiveScoreMismatch()])
    decide_and_apply = world.emit

    def emit(*args: Any, **kwargs: Any) -> DomainEvent:
        event = decide_and_apply(*args, **kwargs)
        detectors.observe(event)
        return event

    world.emit = emit  # type: ignore[method-assign]
    return world, detectors


def _live_world() -> tuple[Any, DetectorSet]:
    """Two counties on EX-BONUS-1's employment indicator (B = 6)."""
    world, detectors = _fed_world()
    publish_scheme(world)
    for county, target in (("county-A", "1000"), ("county-B", "800")):
        employment = [
            indicator("EMP-1", "EMPLOYMENT", "6", target=target),
            indicator("EMP-2", "EMPLOYMENT", "6"),
        ]
        sign_agreement(world, county, standard_indicators(EMPLOYMENT=employment))
    return world, detectors


def test_ex_bonus_1_live_scores_recorded_after_every_result_are_clean() -> None:
    world, detectors = _live_world()
    record_result(world, "county-A", "EMP-1", "1150")
    record_result(world, "county-B", "EMP-1", "880")
    a = record_score(world, "county-A", "EMP-1")
    b = record_score(world, "county-B", "EMP-1")

    assert (a.payload["final"], b.payload["final"]) == ("7.2000", "6.8000")  # EX-BONUS-1
    assert detectors.findings() == []


def test_ex_bonus_1_a_score_gone_stale_when_a_peer_over_completed_more_is_a_mismatch() -> None:
    world, detectors = _live_world()
    record_result(world, "county-B", "EMP-1", "880")
    early = record_score(world, "county-B", "EMP-1")  # r_max was B's own 0.10: +1.2
    assert early.payload["final"] == "7.2000"
    record_result(world, "county-A", "EMP-1", "1150")  # r_max becomes 0.15
    record_score(world, "county-A", "EMP-1")

    [found] = detectors.findings()

    assert (found.code, found.subject_refs, found.detector) == (
        "AF-SCO-MISMATCH",
        ("scheme-2024", "EMP-1", "county-B"),
        "live-score-recompute",
    )
    assert "records 7.2000 (F-BONUS); F-BONUS over the whole peer group gives 6.8000" in (
        found.summary
    )
    assert found.evidence_event_ids == (early.event_id,)


def test_a_live_score_that_entered_despite_sco_3_is_a_mismatch_and_a_rescore_clears_it() -> None:
    world, detectors = _live_world()
    record_result(world, "county-A", "EMP-1", "1150")
    right = score_payload(world, "county-A", "EMP-1")
    # A score the append path would refuse, as a corrected or imported log could hold it.
    detectors.observe(
        world.event(
            "IndicatorScoreRecorded",
            "scheme-2024:county-A",
            {**right, "final": "7.5000"},
            actor="assessor-1",
            on="2025-01-13",
        )
    )
    assert [f.code for f in detectors.findings()] == ["AF-SCO-MISMATCH"]

    record_score(world, "county-A", "EMP-1")  # the latest score is the one in the table

    assert detectors.findings() == []


def test_a_live_score_without_its_result_cannot_be_recomputed() -> None:
    world, detectors = _live_world()
    record_result(world, "county-A", "EMP-1", "1150")
    payload = score_payload(world, "county-A", "EMP-1")
    detectors.observe(
        world.event(
            "IndicatorScoreRecorded",
            "scheme-2024:county-B",
            {**payload, "assessee": "county-B"},
            actor="assessor-1",
            on="2025-01-13",
        )
    )

    [found] = detectors.findings()
    assert "cannot be recomputed" in found.summary


def test_ex_annual_the_accepted_consolidation_recomputes_and_a_tampered_total_does_not() -> None:
    world, detectors = _fed_world()
    annual_year(world)
    consolidated = consolidate(world)  # EX-ANNUAL-1/2: C 102.8, A 100.4, B 96.125
    assert detectors.findings() == []

    tampered = [dict(r) for r in EXPECTED_RANKING]
    tampered[1] |= {"S": "101.4", "P": "0"}  # county A's criticism points dropped
    detectors.observe(
        world.event(
            "AssessmentConsolidated",
            "scheme-2024",
            {"scheme_id": "scheme-2024", "ranking": tampered},
            actor="officer-1",
            on="2025-01-29",
        )
    )

    [found] = detectors.findings()
    assert (found.code, found.subject_refs, found.rule_ref) == (
        "AF-SCO-MISMATCH",
        ("scheme-2024", "CONSOLIDATION", "county-A"),
        "SCO-6 (F-ANNUAL)",
    )
    assert "records S 101.4 (recomputed 100.4), P 0 (recomputed 1)" in found.summary
    assert consolidated.event_id not in found.evidence_event_ids  # the latest one is judged
