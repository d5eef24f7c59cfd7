"""AF-SCO-NO-CAUSE and AF-SCO-PENALTY-MISSING, on the F-PEN examples (EX-PEN-1, EX-PEN-2)."""

from __future__ import annotations

from ledger.domain.model import DomainEvent
from ledger.findings.points import PointAdjustments, ProgressInflation
from tests.unit.domain.assessment_builders import SCHEME, scheme_payload, standard_indicators
from tests.unit.findings.builders import Feed

SHA = "d" * 64


def _scheme(feed: Feed) -> DomainEvent:
    return feed.event(
        "AssessmentSchemePublished", SCHEME, scheme_payload(), actor="officer-1", on="2024-01-05"
    )


def _agreement(feed: Feed, agent: str) -> None:
    feed.event(
        "TargetResponsibilityAgreementSigned",
        f"agr-{agent}",
        {
            "agreement_id": f"agr-{agent}",
            "scheme_id": SCHEME,
            "principal_org_id": "city-1",
            "agent_org_id": agent,
            "indicators": standard_indicators(),
            "document_sha256": SHA,
        },
        actor="gov-1",
        on="2024-01-10",
    )


def _criticise(
    feed: Feed,
    target: str,
    level: str,
    *,
    related_to: str = "LIVELIHOOD_TARGET",
    day: str = "2024-05-10",
) -> DomainEvent:
    return feed.event(
        "CriticismIssued",
        target,
        {
            "issuer_org": "province-1",
            "issuer_level": level,
            "target_org": target,
            "related_to": related_to,
            "document_ref": f"doc-{level}-{day}",
            "issued_at": day,
            "item": None,
            "cause_event_ids": [],
        },
        actor="officer-1",
        on=day,
    )


def _adjust(feed: Feed, kind: str, assessee: str, cause_event_id: str, points: str) -> DomainEvent:
    return feed.event(
        kind,
        f"{SCHEME}:{assessee}",
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "points": points,
            "cause_event_id": cause_event_id,
        },
        actor="officer-1",
        on="2025-01-20",
    )


def _consolidate(feed: Feed) -> None:
    feed.event(
        "AssessmentConsolidated",
        SCHEME,
        {
            "scheme_id": SCHEME,
            "ranking": [
                {
                    "assessee": "county-A",
                    "S": "96",
                    "O": "6",
                    "M": "5",
                    "T": "89",
                    "B": "0",
                    "P": "4",
                    "vetoed": False,
                    "failing_indicator_ids": [],
                }
            ],
        },
        actor="officer-1",
        on="2025-01-28",
    )


def _ex_pen_1(feed: Feed) -> list[DomainEvent]:
    """EX-PEN-1: county A, 1 provincial-government and 2 city-government criticisms (P = 4)."""
    _scheme(feed)
    _agreement(feed, "county-A")
    return [
        _criticise(feed, "county-A", "PROVINCIAL_GOVERNMENT"),
        _criticise(feed, "county-A", "CITY_GOVERNMENT", day="2024-06-01"),
        _criticise(feed, "county-A", "CITY_GOVERNMENT", day="2024-07-01"),
    ]


def test_ex_pen_1_every_criticism_deducted_is_clean() -> None:
    feed = Feed([PointAdjustments()])
    provincial, city_1, city_2 = _ex_pen_1(feed)
    _adjust(feed, "PenaltyPointsApplied", "county-A", provincial.event_id, "2")
    _adjust(feed, "PenaltyPointsApplied", "county-A", city_1.event_id, "1")
    _adjust(feed, "PenaltyPointsApplied", "county-A", city_2.event_id, "1")
    _consolidate(feed)

    assert feed.findings() == []


def test_ex_pen_1_a_criticism_never_deducted_is_found_once_the_scheme_is_consolidated() -> None:
    feed = Feed([PointAdjustments()])
    provincial, city_1, city_2 = _ex_pen_1(feed)
    _adjust(feed, "PenaltyPointsApplied", "county-A", provincial.event_id, "2")
    _adjust(feed, "PenaltyPointsApplied", "county-A", city_1.event_id, "1")
    assert feed.findings() == []  # the deduction may still come before consolidation

    _consolidate(feed)

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.severity) == (
        "AF-SCO-PENALTY-MISSING",
        (city_2.event_id, SCHEME),
        "H",
    )
    assert found.admin_unit_id == "county-A"


def test_ex_pen_2_an_unpriced_issuer_or_subject_owes_no_deduction() -> None:
    feed = Feed([PointAdjustments()])
    _scheme(feed)
    _agreement(feed, "county-B")
    line_dept = _criticise(feed, "county-B", "PROVINCIAL_LINE_DEPARTMENT")
    _criticise(feed, "county-B", "CITY_OFFICE")  # not in the 002 schedule: 0 points
    _criticise(feed, "county-B", "CITY_GOVERNMENT", related_to="SANITATION")  # not priced
    _criticise(feed, "county-C", "CITY_GOVERNMENT")  # not assessed in this scheme
    _criticise(feed, "county-B", "CITY_GOVERNMENT", day="2023-12-30")  # another year
    _adjust(feed, "PenaltyPointsApplied", "county-B", line_dept.event_id, "1")
    _consolidate(feed)

    assert feed.findings() == []


def test_adjustments_without_a_valid_cause_are_no_cause() -> None:
    feed = Feed([PointAdjustments()])
    _scheme(feed)
    _agreement(feed, "county-A")
    criticism = _criticise(feed, "county-A", "CITY_GOVERNMENT")
    other_unit = _criticise(feed, "county-B", "CITY_GOVERNMENT")
    last_year = _criticise(feed, "county-A", "CITY_GOVERNMENT", day="2023-11-02")
    commendation = feed.event(
        "CommendationIssued",
        "county-A",
        {
            "issuer_org": "city-1",
            "issuer_level": "CITY_GOVERNMENT",
            "target_org": "county-A",
            "related_to": "LIVELIHOOD_TARGET",
            "document_ref": "city-praise-1",
            "issued_at": "2024-09-01",
            "item": None,
            "cause_event_ids": [],
        },
        actor="officer-1",
        on="2024-09-01",
    )
    valid = [
        _adjust(feed, "PenaltyPointsApplied", "county-A", criticism.event_id, "1"),
        _adjust(feed, "BonusPointsApplied", "county-A", commendation.event_id, "1"),
    ]
    bad = {
        "nothing": _adjust(feed, "PenaltyPointsApplied", "county-A", "no-such-event", "1"),
        "wrong type": _adjust(feed, "BonusPointsApplied", "county-A", criticism.event_id, "1"),
        "other unit": _adjust(feed, "PenaltyPointsApplied", "county-A", other_unit.event_id, "1"),
        "last year": _adjust(feed, "PenaltyPointsApplied", "county-A", last_year.event_id, "1"),
    }

    found = {f.subject_refs[0]: f for f in feed.findings() if f.code == "AF-SCO-NO-CAUSE"}

    assert set(found) == {e.event_id for e in bad.values()}
    assert not {e.event_id for e in valid} & set(found)
    assert "not a recorded event" in found[bad["nothing"].event_id].summary
    assert "not a CommendationIssued" in found[bad["wrong type"].event_id].summary
    assert "concerns county-B" in found[bad["other unit"].event_id].summary
    assert "of 2023, not 2024" in found[bad["last year"].event_id].summary
    assert found[bad["nothing"].event_id].evidence_event_ids == (bad["nothing"].event_id,)
    assert all(f.rule_ref == "SCO-2" and f.severity == "H" for f in found.values())


# --- AF-SCO-PROGRESS-INFLATION ------------------------------------------------------------------


def _progress(feed: Feed, kind: str, value: str, *, actor: str, on: str) -> None:
    field = "value" if kind == "ProgressReported" else "verified_value"
    payload: dict[str, object] = {"indicator_id": "BEDS", "period": "2024-06", field: value}
    if kind == "ProgressReported":
        payload |= {"as_of": "2024-06-30", "evidence": []}
    feed.event(kind, "agr-county-A", payload, actor=actor, on=on)


def test_reporting_185_beds_when_170_were_verified_is_progress_inflation() -> None:
    feed = Feed([ProgressInflation()])
    _progress(feed, "ProgressReported", "185", actor="approver-1", on="2024-06-30")
    _progress(feed, "ProgressVerified", "170", actor="insp-1", on="2024-07-03")

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.severity) == (
        "AF-SCO-PROGRESS-INFLATION",
        ("agr-county-A", "BEDS", "2024-06"),
        "H",
    )
    assert "county-1 reported 185" in found.summary and "found 170" in found.summary
    assert found.admin_unit_id == "county-1"


def test_progress_reported_at_or_below_its_verification_is_clean() -> None:
    feed = Feed([ProgressInflation()])
    _progress(feed, "ProgressReported", "200", actor="approver-1", on="2024-06-28")
    _progress(feed, "ProgressReported", "185", actor="approver-1", on="2024-06-30")  # corrected
    _progress(feed, "ProgressVerified", "185", actor="insp-1", on="2024-07-03")
    _progress(feed, "ProgressReported", "170", actor="approver-1", on="2024-07-01")

    assert feed.findings() == []
