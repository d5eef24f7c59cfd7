"""AF-SCO-SELF-INFLATION: a year-end self-assessment well above the verified scores."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.selfcheck import SelfInflation
from tests.unit.findings.builders import Feed

SHA = "e" * 64


def _self(feed: Feed, scores: list[tuple[str, str, bool]], round_: str = "YEAR_END") -> DomainEvent:
    return feed.event(
        "SelfAssessmentSubmitted",
        "scheme-1",
        {
            "scheme_id": "scheme-1",
            "assessee": "county-1",
            "round": round_,
            "self_scores": [
                {"indicator_id": i, "points": points, "met": met} for i, points, met in scores
            ],
            "report_sha256": SHA,
            "submitted_at": "2025-01-08",
        },
        actor="approver-1",
        on="2025-01-08",
    )


def _score(feed: Feed, indicator: str, final: str, formula: str = "F-BONUS") -> DomainEvent:
    return feed.event(
        "IndicatorScoreRecorded",
        "scheme-1",
        {
            "scheme_id": "scheme-1",
            "assessee": "county-1",
            "indicator_id": indicator,
            "base": final,
            "bonus": "0",
            "deduction": "0",
            "final": final,
            "formula_id": formula,
            "formula_version": "1",
            "inputs_sha256": SHA,
            "peer_r_max": None,
            "discretionary_reason": None,
        },
        actor="officer-1",
        on="2025-01-20",
    )


def test_self_scores_more_than_5_points_above_the_verified_ones_are_found() -> None:
    feed = Feed([SelfInflation()])
    claimed = _self(feed, [("ind-a", "10", True), ("ind-b", "11.5", True)])
    a = _score(feed, "ind-a", "7.25")
    assert feed.findings() == []  # 2.75 points so far
    b = _score(feed, "ind-b", "9")  # 2.75 + 2.5 = 5.25
    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-SCO-SELF-INFLATION", ("scheme-1", "county-1"))
    assert found.evidence_event_ids == (claimed.event_id, a.event_id, b.event_id)
    assert found.severity == "M"
    assert "self-scored 5.25 points above the verified scores" in found.summary


def test_exactly_5_points_above_is_not_inflation() -> None:
    feed = Feed([SelfInflation()])
    _self(feed, [("ind-a", "10", True), ("ind-b", "11.5", True)])
    _score(feed, "ind-a", "7.5")
    _score(feed, "ind-b", "9")
    assert feed.findings() == []


def test_a_target_reported_met_but_verified_missed_is_found() -> None:
    feed = Feed([SelfInflation()])
    _self(feed, [("ind-a", "6", True)])
    _score(feed, "ind-a", "5.5", formula="F-SHORT")
    [found] = feed.findings()
    assert "reported met but verified missed: ind-a" in found.summary


def test_a_mid_year_self_check_or_a_rescored_indicator_is_not_compared_blindly() -> None:
    feed = Feed([SelfInflation()])
    _self(feed, [("ind-a", "20", True)], round_="MID_YEAR")
    _score(feed, "ind-a", "5", formula="F-SHORT")
    assert feed.findings() == []  # the mid-year self-check is not the year's claim
    _self(feed, [("ind-a", "10", True)])
    _score(feed, "ind-a", "10")  # re-scored: the latest verified score counts
    assert feed.findings() == []
