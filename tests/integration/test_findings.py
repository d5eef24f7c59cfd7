"""Audit findings on a real SQLite ledger with real signatures: none on the clean demo year;
exactly the planted irregularities once they are added; raised once, signed by the detector
actor; disposed of by an auditor; listed by the findings projection with its filters."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import pytest

from ledger.bootstrap import ADMIN_KEY_FILE
from ledger.client import EnvelopeSigner
from ledger.domain.spot_checks import draw_sample
from ledger.errors import RuleViolation
from ledger.integrity.signing import read_private_key
from ledger.projections.findings import FindingFilter, select_findings
from ledger.projections.follower import Follower
from ledger.projections.store import ProjectionStore
from ledger.services.findings import (
    DETECTOR_ACTOR,
    FindingsService,
    detector_signer,
    measure_detector_pass,
)
from ledger.tools.demo_data import DemoSummary, write_demo
from ledger.tools.scenario import Desk, new_admin_desk
from tests.conftest import LedgerWorld, make_world

SHA = "5" * 64


def fake_identity(_person_id: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


@dataclass
class Scenario:
    world: LedgerWorld
    desk: Desk
    summary: DemoSummary

    def signer(self, role: str) -> EnvelopeSigner:
        """The demo's first official acting in ``role``."""
        return next(s for s in self.desk.signers.values() if s.role == role)

    def log(self) -> list[dict[str, Any]]:
        return [orjson.loads(e.state) for e in self.world.service.store.log.entries(0, 1_000_000)]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("findings")
    world = make_world(f"sqlite:///{tmp / 'ledger.db'}", tmp / "home")
    service = world.service
    desk = new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(world.settings.home / ADMIN_KEY_FILE),
        "admin-1",
        "city",
        service.registry.version,
    )
    summary = write_demo(desk, fake_identity)
    yield Scenario(world, desk, summary)
    world.service.close()


def _key(code: str, subjects: Any) -> tuple[str, tuple[str, ...]]:
    return (code, tuple(sorted(subjects)))


def test_the_clean_demo_year_has_no_findings(scenario: Scenario) -> None:
    service = FindingsService(scenario.world.service)

    assert service.pending() == []
    timing = measure_detector_pass(scenario.world.service)
    print(
        f"\nfull-log detector pass over {timing.entries} entries: "
        f"{timing.detector_pass_seconds * 1000:.1f} ms vs raw read+decode "
        f"{timing.read_decode_seconds * 1000:.1f} ms (x{timing.ratio:.2f})"
    )
    assert timing.findings == 0


def _active_enrolment(scenario: Scenario) -> str:
    """An enrolment of the demo that is never terminated (paid every month of 2024)."""
    enrolled, ended = [], set()
    for fields in scenario.log():
        if fields["event_type"] == "BeneficiaryEnrolled":
            enrolled.append(fields["stream_id"])
        elif fields["event_type"] == "TerminationProposed":
            ended.add(fields["stream_id"])
    return sorted(set(enrolled) - ended)[0]


def _legacy(scenario: Scenario, record_id: str, record: dict[str, Any]) -> None:
    scenario.desk.emit(
        scenario.desk.admin,
        ("legacy_import", record_id),
        "LegacyRecordImported",
        {
            "record_id": record_id,
            "source_system": "county civil-affairs system (2019)",
            "source_sha256": SHA,
            "admin_unit_id": scenario.summary.county_id,
            "period": "2019-03",
            "record": record,
        },
        date(2024, 12, 20),
    )


def _plant_supervision(scenario: Scenario) -> None:
    """A rectification notice whose deadline passes with no criticism (no escalation)."""
    world, desk, target = scenario.world, scenario.desk, scenario.summary.county_id
    lead = world.add_actor("lead-x", "team-x", "inspection_team_lead")
    inspectors = [world.add_actor(a, "team-x", "inspector") for a in ("insp-x1", "insp-x2")]
    desk.registry_version = world.service.registry.version
    day = date(2024, 9, 2)
    desk.emit(
        lead,
        ("inspection", "ins-planted"),
        "InspectionPlanned",
        {
            "inspection_id": "ins-planted",
            "type": "ROUTINE",
            "mode": "UNANNOUNCED",
            "target_org_ids": [target],
            "team_actor_ids": ["insp-x1", "insp-x2"],
            "methods": ["SITE_VIEW", "CHECK_RECORDS"],
            "window": {"start": "2024-09-03", "end": "2024-09-04"},
            "scheme_id": None,
        },
        day,
    )
    desk.emit(
        inspectors[0],
        ("inspection", "ins-planted"),
        "InspectionConducted",
        {
            "started_at": "2024-09-03T09:00:00+08:00",
            "ended_at": "2024-09-03T16:00:00+08:00",
            "locations": ["county civil-affairs archive"],
        },
        date(2024, 9, 3),
    )
    desk.emit(
        inspectors[0],
        ("inspection", "ins-planted"),
        "FindingRecorded",
        {
            "finding_id": "insp-finding-1",
            "target_org_id": target,
            "category": "ARCHIVES",
            "location": None,
            "description": "dossiers of 2023 approvals incomplete",
            "severity": "MEDIUM",
            "first_occurrence": True,
            "related_refs": {"indicator_id": None, "enrolment_id": None, "fund_account_id": None},
            "evidence": [{"kind": "DOCUMENT", "sha256": SHA}],
        },
        date(2024, 9, 3),
    )
    desk.emit(
        lead,
        ("supervision_notice", "notice-planted"),
        "SupervisionNoticeIssued",
        {
            "notice_id": "notice-planted",
            "kind": "RECTIFICATION",
            "target_org_id": target,
            "finding_ids": ["insp-finding-1"],
            "deadline": "2024-09-30",
        },
        date(2024, 9, 5),
    )


def _plant(scenario: Scenario) -> set[tuple[str, tuple[str, ...]]]:
    """Add the seven irregularities of issue 5; the (code, subjects) they must raise (eight
    findings: the death is two irregularities, see below)."""
    desk, summary = scenario.desk, scenario.summary
    enrolment = _active_enrolment(scenario)
    desk.emit(
        scenario.signer("county_approver"),
        ("enrolment", enrolment),
        "CircumstanceChangeReported",
        {"change_type": "DEATH", "observed_on": "2024-06-15", "evidence": [SHA]},
        date(2024, 12, 18),
    )
    desk.emit(
        scenario.signer("disbursement_agent"),
        ("external_disbursement", "obs-1"),
        "ExternalDisbursementObserved",
        {
            "observation_id": "obs-1",
            "fund_account_id": summary.fund_account_id,
            "payee_ref": "Hengxin Decoration Co. (office renovation)",
            "purpose": "OFFICE_RENOVATION",
            "amount_fen": 4_800_000,
            "value_date": "2024-08-16",
            "evidence": [SHA],
        },
        date(2024, 8, 19),
    )
    _legacy(
        scenario,
        "legacy-notice-1",
        {
            "type": "PUBLIC_NOTICE",
            "notice_id": "old-notice-17",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["old-app-17"],
            "location_org_id": summary.county_id,
            "start_date": "2019-03-01",
            "end_date": "2019-03-05",
        },
    )
    # The relative's application went through a complete 7-day notice: its one planted
    # irregularity is the unfiled relationship (an approval with no notice at all would be
    # AF-APP-NO-NOTICE as well).
    _legacy(
        scenario,
        "legacy-notice-3",
        {
            "type": "PUBLIC_NOTICE",
            "notice_id": "old-notice-3",
            "kind": "PRELIMINARY_OPINION",
            "subject_ids": ["old-app-3"],
            "location_org_id": summary.county_id,
            "start_date": "2019-03-08",
            "end_date": "2019-03-14",
        },
    )
    _legacy(
        scenario,
        "legacy-approval-1",
        {
            "type": "APPROVAL",
            "application_id": "old-app-3",
            "person_id": "p-old-3",
            "programme_code": "WUBAO",
            "approved_on": "2019-03-20",
            "approver_actor_id": "old-approver-1",
            "related_officials": [
                {
                    "official_actor_id": "old-vcm-2",
                    "official_role": "VILLAGE_COMMITTEE_MEMBER",
                    "relationship": "mother",
                }
            ],
            "relative_filed": False,
        },
    )
    population = [f"old-app-{i}" for i in range(1, 11)]
    honest = draw_sample(population, 20190301, 3)
    _legacy(
        scenario,
        "legacy-sample-1",
        {
            "type": "SPOT_CHECK_SAMPLE",
            "batch_id": "old-batch-1",
            "township_org_id": summary.county_id,
            "population_ids": population,
            "sampled_ids": [*honest[:2], next(a for a in population if a not in honest)],
            "rng_algorithm": "SPLITMIX64-FISHER-YATES-v1",
            "rng_seed": 20190301,
            "ratio": "0.30",
        },
    )
    _legacy(
        scenario,
        "legacy-score-1",
        {
            "type": "INDICATOR_SCORE",
            "scheme_id": "scheme-2019",
            "indicator_id": "ind-dibao-coverage",
            "assessee_org_id": summary.county_id,
            "formula_id": "F-BONUS",
            "inputs": {"target": "10000", "actual": "9500", "base_points": "12"},
            "recorded_score": "12.0000",
        },
    )
    _plant_supervision(scenario)
    return {
        _key("AF-PAY-AFTER-EXIT", [enrolment]),
        # The same planted death is a second, distinct irregularity: the bank kept paying
        # (AF-PAY-AFTER-EXIT, the money), *and* the enrolment is still open more than 20
        # working days after the death was reported (AF-ELIG-SHOULD-EXIT, the officials who
        # did not act; the demo log runs into January 2025, past that SLA).
        _key("AF-ELIG-SHOULD-EXIT", [enrolment, "DEATH"]),
        _key("AF-FUND-OFF-EARMARK", ["obs-1", summary.fund_account_id]),
        _key("AF-APP-NO-NOTICE", ["old-notice-17"]),
        _key("AF-APP-RELATIVE-UNFILED", ["old-app-3"]),
        _key("AF-APP-SPOTCHECK", ["old-batch-1"]),
        _key("AF-SCO-MISMATCH", ["scheme-2019", "ind-dibao-coverage", summary.county_id]),
        _key("AF-ESC-NOT-APPLIED", ["notice-planted", "CRITICISM"]),
    }


def test_the_detectors_find_exactly_the_planted_irregularities(scenario: Scenario) -> None:
    world = scenario.world
    planted = _plant(scenario)
    service = FindingsService(world.service, detector_signer(world.settings, world.service))

    result = service.run()

    assert {_key(f.code, f.subject_refs) for f in result.raised} == planted
    raised = [f for f in scenario.log() if f["event_type"] == "AuditFindingRaised"]
    assert len(raised) == len(planted)
    assert {f["actor"]["actor_id"] for f in raised} == {DETECTOR_ACTOR}
    assert all(f["payload"]["severity"] == "H" for f in raised)
    # Every cited evidence event is in the log.
    recorded = world.service.store.log.recorded_event_ids(
        [e for f in raised for e in f["payload"]["evidence_event_ids"]]
    )
    assert all(set(f["payload"]["evidence_event_ids"]) <= recorded for f in raised)

    # A second run, and a fresh process reading the same log, raise nothing again.
    assert service.run().raised == []
    assert FindingsService(world.service).pending() == []


def test_the_same_irregularity_cannot_be_raised_twice(scenario: Scenario) -> None:
    world = scenario.world
    signer = detector_signer(world.settings, world.service)
    first = next(f for f in scenario.log() if f["event_type"] == "AuditFindingRaised")
    copy = {**first["payload"], "finding_id": "F-copy"}

    with pytest.raises(RuleViolation) as caught:
        world.service.append(
            signer.sign(
                event_type="AuditFindingRaised",
                stream_type="audit_finding",
                stream_id="F-copy",
                expected_version=0,
                payload=copy,
            )
        )

    assert caught.value.code == "AUD-1"


def test_an_auditor_disposes_and_the_register_lists_with_filters(scenario: Scenario) -> None:
    world = scenario.world
    auditor = world.add_actor("auditor-1", "city", "auditor")
    raised = {
        f["payload"]["code"]: f["payload"]["finding_id"]
        for f in scenario.log()
        if f["event_type"] == "AuditFindingRaised"
    }
    target = raised["AF-FUND-OFF-EARMARK"]
    with pytest.raises(RuleViolation) as caught:
        world.service.append(_disposal(auditor, target, "FALSE_POSITIVE", None))
    assert caught.value.code == "AUD-3"
    world.service.append(_disposal(auditor, target, "CONFIRMED", "bank statement checked"))

    store = ProjectionStore.open(world.settings)
    try:
        Follower(store, world.service.store.log).catch_up()
        everything = select_findings(store)
        confirmed = select_findings(store, FindingFilter(status="CONFIRMED"))
        by_code = select_findings(store, FindingFilter(code="AF-ESC-NOT-APPLIED"))
        in_2024_09 = select_findings(store, FindingFilter(period="2024-09", severity="H"))
        in_2019 = select_findings(store, FindingFilter(period="2019"))
        in_county = select_findings(store, FindingFilter(admin_unit_id=scenario.summary.county_id))
        elsewhere = select_findings(store, FindingFilter(admin_unit_id="another-county"))
        before = select_findings(store, as_known_at_position=everything.position - 1)
    finally:
        store.close()

    assert len(everything.rows) == 8
    assert [r.finding_id for r in confirmed.rows] == [target]
    assert confirmed.rows[0].disposition_reason == "bank statement checked"
    assert [r.to_json()["subject_refs"] for r in by_code.rows] == [["notice-planted", "CRITICISM"]]
    assert {r.code for r in in_2024_09.rows} == {"AF-ESC-NOT-APPLIED"}
    assert {r.code for r in in_2019.rows} == {
        "AF-APP-NO-NOTICE",
        "AF-APP-RELATIVE-UNFILED",
        "AF-APP-SPOTCHECK",
        "AF-SCO-MISMATCH",
    }
    assert len(in_county.rows) == 8  # every planted irregularity is the demo county's
    assert elsewhere.rows == []
    assert {r.status for r in before.rows} == {"OPEN"}  # as known before the disposition
    assert before.state_hash != everything.state_hash


def _disposal(
    signer: EnvelopeSigner, finding_id: str, disposition: str, reason: str | None
) -> bytes:
    return signer.sign(
        event_type="AuditFindingDisposed",
        stream_type="audit_finding",
        stream_id=finding_id,
        expected_version=1,
        payload={
            "finding_id": finding_id,
            "disposition": disposition,
            "reason": reason,
            "referred_to_org_id": None,
        },
    )


def test_a_following_service_raises_what_is_appended_later(scenario: Scenario) -> None:
    import threading
    import time

    world = scenario.world
    service = FindingsService(world.service, detector_signer(world.settings, world.service))
    service.catch_up()
    stop = threading.Event()
    thread = threading.Thread(target=service.follow, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        _legacy(
            scenario,
            "legacy-notice-2",
            {
                "type": "PUBLIC_NOTICE",
                "notice_id": "old-notice-18",
                "kind": "PRELIMINARY_OPINION",
                "subject_ids": ["old-app-18"],
                "location_org_id": scenario.summary.county_id,
                "start_date": "2019-04-01",
                "end_date": "2019-04-03",
            },
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _raised_for(scenario, "old-notice-18"):
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert len(_raised_for(scenario, "old-notice-18")) == 1


def _raised_for(scenario: Scenario, subject: str) -> list[dict[str, Any]]:
    return [
        f
        for f in scenario.log()
        if f["event_type"] == "AuditFindingRaised" and subject in f["payload"]["subject_refs"]
    ]


def test_legacy_records_of_blocked_irregularities_are_found_on_a_real_ledger(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Irregularities the hard invariants refuse live (TRM-1, STD-1, SOD-6) still enter as
    imported legacy records, pass the append path as facts, and are found, exactly."""
    tmp = tmp_path_factory.mktemp("legacy-findings")
    world = make_world(f"sqlite:///{tmp / 'ledger.db'}", tmp / "home")
    try:
        desk = new_admin_desk(
            lambda raw: world.service.append(raw).receipt,
            read_private_key(world.settings.home / ADMIN_KEY_FILE),
            "admin-1",
            "city",
            world.service.registry.version,
        )
        summary = write_demo(desk, fake_identity)
        legacy = Scenario(world, desk, summary)
        county = summary.county_id
        _legacy(
            legacy,
            "legacy-termination-1",
            {
                "type": "TERMINATION",
                "enrolment_id": "old-enr-8",
                "person_id": "p-old-8",
                "programme_code": "WUBAO",
                "reason_code": "NO_LONGER_ELIGIBLE",
                "decided_on": "2019-03-12",
                "notice_id": None,
                "notice_closed_on": None,
                "evidence": [SHA],
            },
        )
        _legacy(
            legacy,
            "legacy-standard-1",
            {  # EX-STD-1: 10,500 yuan a year against a floor of 10,800
                "type": "BENEFIT_STANDARD",
                "standard_id": "old-std-2019",
                "programme_code": "WUBAO",
                "admin_unit_id": county,
                "support_mode": "DISPERSED",
                "component": "BASIC_LIVING",
                "amount_fen": 1_050_000,
                "effective_from": "2019-07",
                "basis": {
                    "prior_year_consumption_per_capita_fen": 1_800_000,
                    "dibao_monthly_standard_fen": 65_000,
                },
                "basic_standard_fen": None,
            },
        )
        _legacy(
            legacy,
            "legacy-inspection-1",
            {
                "type": "INSPECTION",
                "inspection_id": "old-ins-3",
                "mode": "UNANNOUNCED",
                "target_org_ids": [county],
                "team": [
                    {"actor_id": "old-insp-1", "org_id": "city"},
                    {"actor_id": "old-insp-2", "org_id": county},
                ],
                "conducted_on": "2019-03-05",
            },
        )

        pending = FindingsService(world.service).pending()

        assert {_key(f.code, f.subject_refs) for f in pending} == {
            _key("AF-ELIG-LOST-COVERAGE", ["old-enr-8", _imported(legacy, "legacy-termination-1")]),
            _key("AF-STD-BELOW-FLOOR", ["old-std-2019"]),
            _key("AF-INS-CONFLICT", ["old-ins-3", "old-insp-2"]),
        }
        assert {f.severity for f in pending} == {"H"}
    finally:
        world.service.close()


def _imported(scenario: Scenario, record_id: str) -> str:
    """The event id of the ``LegacyRecordImported`` of ``record_id``."""
    return next(
        f["event_id"]
        for f in scenario.log()
        if f["event_type"] == "LegacyRecordImported" and f["stream_id"] == record_id
    )
