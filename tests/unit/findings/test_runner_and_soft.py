"""The detector set: clock, dedup against raised findings, stable ids; soft invariants."""

from __future__ import annotations

from ledger.findings import default_detectors
from ledger.findings.model import Finding
from ledger.findings.soft import SoftInvariants
from tests.unit.findings.builders import Feed, legacy, programme


def _short_notice(feed: Feed) -> None:
    legacy(
        feed,
        "legacy-n-1",
        {
            "type": "PUBLIC_NOTICE",
            "notice_id": "old-notice-17",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["old-app-17"],
            "location_org_id": "village-1",
            "start_date": "2019-03-01",
            "end_date": "2019-03-03",
        },
        on="2024-12-05",
    )


def test_the_clock_is_the_latest_business_date_observed() -> None:
    feed = Feed(default_detectors())
    programme(feed)
    _short_notice(feed)

    assert str(feed.detectors.clock) == "2024-12-05"
    assert feed.codes() == [("AF-APP-NO-NOTICE", ("old-notice-17",))]


def test_a_raised_finding_is_not_new_again_and_its_id_is_stable() -> None:
    feed = Feed(default_detectors())
    programme(feed)
    _short_notice(feed)
    [found] = feed.detectors.new_findings()

    feed.event(
        "AuditFindingRaised", found.finding_id, found.payload(), actor="ledger-1", on="2024-12-06"
    )

    assert feed.detectors.new_findings() == []
    assert feed.detectors.raised == {found.key: found.finding_id}
    assert found.finding_id.startswith("F-") and len(found.finding_id) == 26
    bumped = Finding(**{**_fields(found), "detector_version": 2})
    assert bumped.finding_id != found.finding_id


def _fields(found: Finding) -> dict[str, object]:
    return {name: getattr(found, name) for name in Finding.__slots__}


def test_a_soft_invariant_recorded_by_the_rules_surfaces_as_its_finding() -> None:
    from tests.unit.domain.case_builders import standard_payload

    feed = Feed([SoftInvariants()])
    programme(feed)
    late = feed.event(
        "BenefitStandardPublished",
        "std-late",
        {**standard_payload("std-late", effective_from="2024-07"), "published_on": "2024-06-15"},
        actor="gov-1",
        on="2024-06-15",
    )

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.rule_ref) == (
        "AF-STD-LATE",
        (late.event_id, "STD-3"),
        "STD-3",
    )
    assert found.evidence_event_ids == (late.event_id,) and found.severity == "L"


def test_a_standard_published_in_time_raises_nothing() -> None:
    from tests.unit.domain.case_builders import standard_payload

    feed = Feed([SoftInvariants()])
    programme(feed)
    feed.event(
        "BenefitStandardPublished",
        "std-ok",
        {**standard_payload("std-ok", effective_from="2024-07"), "published_on": "2024-05-15"},
        actor="gov-1",
        on="2024-05-15",
    )

    assert feed.findings() == []
