"""AF-INS-CONFLICT and AF-RECT-CLOSED-UNVERIFIED."""

from __future__ import annotations

from ledger.findings.independence import Independence, InspectionLeak
from tests.unit.findings.builders import Feed, legacy

SHA = "f" * 64


def _actor(feed: Feed, actor_id: str, org_id: str) -> None:
    feed.event(
        "ActorRegistered",
        "registry",
        {"actor_id": actor_id, "org_id": org_id, "kind": "PERSON", "person_ref": None},
        actor="admin-1",
        on="2024-01-02",
    )


def _plan(feed: Feed, inspection_id: str, team: list[str], targets: list[str]) -> None:
    feed.event(
        "InspectionPlanned",
        inspection_id,
        {
            "inspection_id": inspection_id,
            "type": "ROUTINE",
            "mode": "ANNOUNCED",
            "target_org_ids": targets,
            "team_actor_ids": team,
            "methods": ["SITE_VIEW"],
            "window": {"start": "2024-04-01", "end": "2024-04-02"},
            "scheme_id": None,
        },
        actor="lead-1",
        on="2024-03-25",
    )


def _conducted(feed: Feed, inspection_id: str, actor: str) -> None:
    feed.event(
        "InspectionConducted",
        inspection_id,
        {
            "started_at": "2024-04-01T09:00:00+08:00",
            "ended_at": "2024-04-01T12:00:00+08:00",
            "locations": ["township hall"],
        },
        actor=actor,
        on="2024-04-01",
    )


def test_a_team_member_registered_in_a_target_unit_is_a_conflict() -> None:
    feed = Feed([Independence()])
    _actor(feed, "insp-a", "city-1")
    _actor(feed, "insp-b", "township-1")
    _plan(feed, "ins-1", ["insp-a", "insp-b"], ["township-1", "township-2"])

    [found] = feed.findings()

    assert (found.code, found.subject_refs, found.severity) == (
        "AF-INS-CONFLICT",
        ("ins-1", "insp-b"),
        "H",
    )
    assert found.rule_ref == "SOD-6"
    assert len(found.evidence_event_ids) == 2  # the plan and the registration


def test_an_inspection_event_emitted_for_a_target_unit_is_a_conflict() -> None:
    feed = Feed([Independence()])
    _plan(feed, "ins-1", ["insp-a", "insp-b"], ["county-1"])
    _conducted(feed, "ins-1", "insp-1")  # acts for city-1: independent
    assert feed.findings() == []

    _conducted(feed, "ins-1", "approver-1")  # acts for county-1, the inspected county

    assert feed.codes() == [("AF-INS-CONFLICT", ("ins-1", "approver-1"))]


def test_a_cross_paired_team_is_clean() -> None:
    feed = Feed([Independence()])
    _actor(feed, "insp-a", "township-2")
    _plan(feed, "ins-1", ["insp-a"], ["township-1"])

    assert feed.findings() == []


def _notice(feed: Feed) -> None:
    feed.event(
        "SupervisionNoticeIssued",
        "notice-1",
        {
            "notice_id": "notice-1",
            "kind": "RECTIFICATION",
            "target_org_id": "county-1",
            "finding_ids": ["f-1"],
            "deadline": "2024-05-31",
        },
        actor="lead-1",
        on="2024-05-02",
    )


def _report(feed: Feed, actor: str) -> None:
    feed.event(
        "RectificationReported",
        "notice-1",
        {"reported_at": "2024-05-20", "actions": "archives completed", "evidence": []},
        actor=actor,
        on="2024-05-20",
    )


def _verify(feed: Feed, actor: str, result: str = "PASSED") -> None:
    feed.event(
        "RectificationVerified",
        "notice-1",
        {"result": result, "verified_at": "2024-05-25", "evidence": []},
        actor=actor,
        on="2024-05-25",
    )


def test_a_notice_passed_by_the_rectifying_unit_itself_is_closed_unverified() -> None:
    feed = Feed([Independence()])
    _notice(feed)
    _report(feed, "approver-1")
    _verify(feed, "finance-1", result="FAILED")  # a failed check closes nothing
    assert feed.findings() == []

    _verify(feed, "finance-1")  # finance-1 acts for county-1, the target

    [found] = feed.findings()
    assert (found.code, found.subject_refs, found.rule_ref) == (
        "AF-RECT-CLOSED-UNVERIFIED",
        ("notice-1",),
        "SOD-7",
    )
    assert "acting for the rectifying unit county-1" in found.summary


def test_a_notice_passed_by_its_own_reporter_is_closed_unverified_and_an_inspector_is_not() -> None:
    own = Feed([Independence()])
    _notice(own)
    _report(own, "insp-1")
    _verify(own, "insp-1")
    assert own.codes() == [("AF-RECT-CLOSED-UNVERIFIED", ("notice-1",))]

    independent = Feed([Independence()])
    _notice(independent)
    _report(independent, "approver-1")
    _verify(independent, "insp-1")
    assert independent.findings() == []


# --- AF-INS-LEAK ---------------------------------------------------------------------------------


def _unannounced(feed: Feed) -> None:
    feed.event(
        "InspectionPlanned",
        "ins-u",
        {
            "inspection_id": "ins-u",
            "type": "ROUTINE",
            "mode": "UNANNOUNCED",
            "target_org_ids": ["county-1"],
            "team_actor_ids": ["insp-1", "lead-1"],
            "methods": ["SITE_VIEW"],
            "window": {"start": "2024-04-03", "end": "2024-04-03"},
            "scheme_id": None,
        },
        actor="lead-1",
        on="2024-03-25",
    )


def _visit(feed: Feed, started_at: str = "2024-04-03T09:00:00+08:00") -> None:
    feed.event(
        "InspectionConducted",
        "ins-u",
        {"started_at": started_at, "ended_at": "2024-04-03T12:00:00+08:00", "locations": ["x"]},
        actor="insp-1",
        on="2024-04-03",
    )


def _progress(feed: Feed, on: str, actor: str = "approver-1") -> None:
    feed.event(
        "ProgressReported",
        "agr-county-1",
        {"indicator_id": "BEDS", "period": "2024-03", "value": "120", "as_of": on, "evidence": []},
        actor=actor,
        on=on,  # 10:00 China time
    )


def test_a_target_report_within_48_hours_before_an_unannounced_visit_is_a_leak() -> None:
    feed = Feed([Independence(), InspectionLeak()])
    _unannounced(feed)
    _progress(feed, "2024-03-31")  # 71 hours before: normal business
    _progress(feed, "2024-04-02", actor="insp-1")  # someone else's report
    _visit(feed)
    assert feed.findings() == []

    leaky = Feed([InspectionLeak()])
    _unannounced(leaky)
    _progress(leaky, "2024-04-01")  # 47 hours before the visit
    _visit(leaky)

    [found] = leaky.findings()
    assert (found.code, found.subject_refs, found.severity) == ("AF-INS-LEAK", ("ins-u",), "H")
    assert "county-1 filed a report 1 day, 23:00:00 before the visit" in found.summary
    assert len(found.evidence_event_ids) == 3  # plan, report, visit


def test_notifying_an_unannounced_inspection_is_a_leak_and_announced_ones_are_not_judged() -> None:
    feed = Feed([InspectionLeak()])
    _unannounced(feed)
    feed.event(
        "InspectionNotified",
        "ins-u",
        {"target_org_id": "county-1", "notified_at": "2024-04-01T09:00:00+08:00"},
        actor="lead-1",
        on="2024-04-01",
    )
    assert [f.summary.split(": ")[1] for f in feed.findings()] == ["it was notified to its target"]

    announced = Feed([InspectionLeak()])
    _plan(announced, "ins-a", ["insp-1"], ["county-1"])  # ANNOUNCED
    _progress(announced, "2024-04-01")
    _conducted(announced, "ins-a", "insp-1")
    assert announced.findings() == []


def test_a_legacy_inspection_with_a_member_from_the_inspected_unit_is_a_conflict() -> None:
    feed = Feed([Independence()])
    record = {
        "type": "INSPECTION",
        "inspection_id": "old-ins-4",
        "mode": "UNANNOUNCED",
        "target_org_ids": ["township-1", "township-2"],
        "team": [
            {"actor_id": "old-insp-1", "org_id": "city-1"},
            {"actor_id": "old-insp-2", "org_id": "township-2"},
        ],
        "conducted_on": "2019-05-06",
    }
    legacy(feed, "legacy-ins-4", record)

    [found] = feed.findings()
    assert (found.code, found.subject_refs) == ("AF-INS-CONFLICT", ("old-ins-4", "old-insp-2"))

    clean = Feed([Independence()])
    legacy(
        clean, "legacy-ins-5", {**record, "inspection_id": "old-ins-5", "team": record["team"][:1]}
    )
    assert clean.findings() == []
