"""The supervision, payment, standards and coverage read models in storage: every page size
gives the in-memory fold's state hash at every position (rebuild = incremental), and the
queries answer on both time axes with position and state hash.

``ReadModelLog`` builds plain envelopes (the folds read type, stream and payload; signatures
are the services' business), with a chosen ``recorded_at`` when a date matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ledger.projections import Follower, ProjectionStore
from ledger.projections.events import Event, decode
from ledger.projections.read_models import ReadModels, read_model_projections
from ledger.settings import Settings

from .helpers import FakeEntry, ListLog
from .helpers import recorded_at as default_time

NAMES = ("inspections", "rectifications", "payments", "standards", "coverage")


@dataclass
class ReadModelLog:
    """An in-memory log of envelopes for the read-model folds."""

    entries: list[FakeEntry] = field(default_factory=list)

    def emit(
        self,
        event_type: str,
        stream: tuple[str, str],
        payload: dict[str, Any],
        on: str | None = None,
    ) -> int:
        """Append one event (recorded on date ``on`` at noon UTC, if given); its index."""
        index = len(self.entries)
        when = f"{on}T12:00:{index % 60:02d}.000000Z" if on else default_time(index)
        if self.entries and when < self.entries[-1].recorded_at:
            when = self.entries[-1].recorded_at  # the log's times never go back
        envelope = {
            "event_type": event_type,
            "stream_type": stream[0],
            "stream_id": stream[1],
            "payload": payload,
        }
        self.entries.append(FakeEntry(index, when, event_type, orjson.dumps(envelope)))
        return index

    def events(self, upto: int | None = None) -> list[Event]:
        items = self.entries if upto is None else self.entries[: upto + 1]
        return [decode(e) for e in items]


# ------------------------------------------------------------------ the story


def sha(n: int) -> str:
    return f"{n:064x}"


def inspections(log: ReadModelLog) -> None:
    """An announced inspection through its report; two unannounced ones, one conducted."""
    stream = ("inspection", "i-1")
    log.emit(
        "InspectionPlanned",
        stream,
        {
            "inspection_id": "i-1",
            "type": "ROUTINE",
            "mode": "ANNOUNCED",
            "target_org_ids": ["town-2", "town-1"],
            "team_actor_ids": ["insp-b", "insp-a"],
            "methods": ["LISTEN"],
            "window": {"start": "2024-03-01", "end": "2024-03-05"},
            "scheme_id": None,
        },
        "2024-02-20",
    )
    log.emit(
        "InspectionNotified",
        stream,
        {"target_org_id": "town-1", "notified_at": "2024-02-28T09:00:00+08:00"},
    )
    log.emit(
        "InspectionConducted",
        stream,
        {
            "started_at": "2024-03-01T09:00:00+08:00",
            "ended_at": "2024-03-01T17:00:00+08:00",
            "locations": ["village 1"],
        },
    )
    for finding_id, severity in (("f-1", "HIGH"), ("f-2", "LOW"), ("f-1", "HIGH")):
        log.emit(
            "FindingRecorded",
            stream,
            {"finding_id": finding_id, "target_org_id": "town-1", "severity": severity},
        )
    log.emit(
        "InspectionScoreRecorded",
        stream,
        {
            "target_org_id": "town-1",
            "raw_score": "85",
            "item_deductions": [{"cause_event_id": "x", "points": "2.5"}],
            "single_score": "82.5",
        },
    )
    log.emit(
        "InspectionReportSubmitted",
        stream,
        {"report_sha256": sha(1), "signer_actor_ids": ["insp-b", "insp-a"]},
        "2024-03-02",
    )
    for inspection_id in ("i-2", "i-3"):
        log.emit(
            "InspectionPlanned",
            ("inspection", inspection_id),
            {
                "inspection_id": inspection_id,
                "type": "KEY_POINT",
                "mode": "UNANNOUNCED",
                "target_org_ids": ["town-3"],
                "team_actor_ids": ["insp-a", "insp-c"],
                "window": {"start": "2024-04-01", "end": "2024-04-30"},
            },
        )
    log.emit(
        "InspectionConducted",
        ("inspection", "i-3"),
        {"started_at": "2024-04-02T09:00:00+08:00", "ended_at": "2024-04-02T12:00:00+08:00"},
    )


def rectifications(log: ReadModelLog) -> None:
    """EX-ESC-2 (n-1, then reissued as n-2, which passes) and an extended deadline (n-3)."""
    log.emit(
        "SupervisionNoticeIssued",
        ("supervision_notice", "n-1"),
        {
            "notice_id": "n-1",
            "kind": "RECTIFICATION",
            "target_org_id": "town-1",
            "finding_ids": ["f-2", "f-1"],
            "deadline": "2024-03-15",
        },
        "2024-03-01",
    )
    log.emit(
        "SupervisionNoticeIssued",
        ("supervision_notice", "n-3"),
        {
            "notice_id": "n-3",
            "kind": "SUPERVISION",
            "target_org_id": "town-2",
            "finding_ids": ["f-9"],
            "deadline": "2024-03-10",
        },
        "2024-03-02",
    )
    log.emit(
        "RectificationDeadlineExtended",
        ("supervision_notice", "n-3"),
        {"new_deadline": "2024-03-20", "reason": "flood"},
        "2024-03-08",
    )
    log.emit(
        "EscalationDue",
        ("assessment", "esc"),
        {
            "ladder": "RECTIFICATION",
            "step": "CRITICISM",
            "subject": "n-1",
            "target_org_id": "town-1",
            "due_by": "2024-03-16",
            "cause_event_ids": ["e"],
        },
        "2024-03-16",
    )
    log.emit(
        "RectificationReported",
        ("supervision_notice", "n-1"),
        {"actions": "fixed", "reported_at": "2024-03-20"},
        "2024-03-20",
    )
    log.emit(
        "RectificationVerified",
        ("supervision_notice", "n-1"),
        {"result": "FAILED", "verified_at": "2024-03-29"},
        "2024-03-29",
    )
    log.emit(
        "SupervisionNoticeReissued",
        ("supervision_notice", "n-2"),
        {"notice_id": "n-2", "previous_notice_id": "n-1", "new_deadline": "2024-04-15"},
        "2024-04-01",
    )
    log.emit(
        "RectificationReported",
        ("supervision_notice", "n-2"),
        {"actions": "fixed again", "reported_at": "2024-04-10"},
        "2024-04-10",
    )
    log.emit(
        "RectificationVerified",
        ("supervision_notice", "n-2"),
        {"result": "PASSED", "verified_at": "2024-04-12"},
        "2024-04-12",
    )


def line(line_id: str, enrolment: str, amount: int) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "enrolment_id": enrolment,
        "person_id": f"p-{enrolment}",
        "component": "BASIC_LIVING",
        "amount_fen": amount,
        "channel": "ONE_CARD",
        "account_id": f"acct-{enrolment}",
    }


def payments(log: ReadModelLog) -> None:
    """A July batch through settlement, failure, return and reissue; a cancelled batch."""
    b1 = ("payment_batch", "b-1")
    log.emit(
        "PaymentBatchPrepared",
        b1,
        {
            "batch_id": "b-1",
            "programme_code": "TEKUN",
            "admin_unit_id": "town-1",
            "period": "2024-07",
            "fund_account_id": "fa-1",
            "lines": [
                line("l-1", "e-1", 10_834),
                line("l-2", "e-2", 22_000),
                line("l-3", "e-3", 10_833),
            ],
            "total_fen": 43_667,
        },
    )
    log.emit("PaymentBatchApproved", b1, {"approved_on": "2024-07-01"})
    log.emit("PaymentBatchSubmitted", b1, {"bank_org_id": "bank", "file_sha256": sha(2)})
    log.emit(
        "PaymentSettled",
        b1,
        {"line_id": "l-1", "amount_fen": 10_834, "value_date": "2024-07-05", "bank_ref": "r1"},
    )
    log.emit("PaymentFailed", b1, {"line_id": "l-2", "reason": "closed account"})
    log.emit(
        "PaymentSettled",
        b1,
        {"line_id": "l-3", "amount_fen": 10_833, "value_date": "2024-07-05", "bank_ref": "r3"},
    )
    log.emit("PaymentReturned", b1, {"line_id": "l-3", "amount_fen": 10_833, "reason": "dead"})
    log.emit(
        "PaymentLineReissued",
        b1,
        {"original_line_id": "l-2", "new_line_id": "l-2r", "account_id": "acct-new"},
    )
    log.emit(
        "PaymentSettled",
        b1,
        {"line_id": "l-x", "amount_fen": 500, "value_date": "2024-07-06", "bank_ref": "rx"},
    )
    b2 = ("payment_batch", "b-2")
    log.emit(
        "PaymentBatchPrepared",
        b2,
        {
            "batch_id": "b-2",
            "programme_code": "DIBAO_RURAL",
            "admin_unit_id": "town-2",
            "period": "2024-08",
            "fund_account_id": "fa-2",
            "lines": [line("l-4", "e-4", 30_000)],
            "total_fen": 30_000,
        },
    )
    log.emit("PaymentBatchCancelled", b2, {"reason": "wrong amounts"})
    log.emit(
        "PaymentSettled",
        b2,
        {"line_id": "l-4", "amount_fen": 30_000, "value_date": "2024-08-05", "bank_ref": "r4"},
    )


def standard(standard_id: str, amount: int, effective: str, **extra: Any) -> dict[str, Any]:
    return {
        "standard_id": standard_id,
        "programme_code": "TEKUN",
        "admin_unit_id": "city",
        "support_mode": "DISPERSED",
        "component": "BASIC_LIVING",
        "amount_fen": amount,
        "period": "YEAR",
        "effective_from": effective,
        "published_on": "2024-05-20",
        "basis": None,
    } | extra


def standards(log: ReadModelLog) -> None:
    """2024's standard, replaced in July 2025, itself corrected in the same month."""
    basis = {
        "prior_year_consumption_per_capita_fen": 1_800_000,
        "dibao_monthly_standard_fen": 65_000,
    }
    log.emit(
        "BenefitStandardPublished",
        ("standard", "s-2024"),
        standard("s-2024", 1_080_000, "2024-07", basis=basis),
    )
    log.emit(
        "BenefitStandardPublished",
        ("standard", "s-care"),
        standard("s-care", 108_000, "2024-07", component="CARE_FULL"),
    )
    log.emit(
        "BenefitStandardPublished", ("standard", "s-2025"), standard("s-2025", 1_200_000, "2025-07")
    )
    log.emit(
        "BenefitStandardPublished",
        ("standard", "s-2025b"),
        standard("s-2025b", 1_250_000, "2025-07"),
    )


def enrol(log: ReadModelLog, n: int, town: str, mode: str, programme: str = "TEKUN") -> str:
    app, enrolment = f"a-{town}-{n}", f"e-{town}-{n}"
    log.emit(
        "ApplicationSubmitted",
        ("application", app),
        {
            "application_id": app,
            "township_org_id": town,
            "residence_org_id": f"{town}-v1",
            "household_id": f"h-{n}",
        },
    )
    log.emit(
        "BeneficiaryEnrolled",
        ("enrolment", enrolment),
        {
            "enrolment_id": enrolment,
            "application_id": app,
            "person_id": f"p-{town}-{n}",
            "programme_code": programme,
            "support_mode": mode,
            "first_payable_period": "2024-07",
        },
    )
    return enrolment


def coverage(log: ReadModelLog) -> None:
    """EX-RATE-1 in town-1 (52 of 120), EX-RATE-2 in town-2 (35 of 100); in January 2025
    one of town-2's dispersed moves to the home and one of town-1's centralised died.
    Towns 1 and 2 and the home belong to county-1, town 3 to county-2."""
    for org, parent in (
        ("county-1", "city"),
        ("county-2", "city"),
        ("town-1", "county-1"),
        ("town-2", "county-1"),
        ("town-3", "county-2"),
        ("home-1", "county-1"),
    ):
        log.emit(
            "OrganisationRegistered",
            ("registry", "registry"),
            {"org_id": org, "kind": "GOVERNMENT", "parent_org_id": parent, "name": org},
        )
    log.emit(
        "CoverageTargetsPublished",
        ("coverage_targets", "2024"),
        {
            "target_set_id": "targets-2024",
            "year": 2024,
            "programme_codes": ["TEKUN"],
            "centralised_rate_min": "2/5",
            "published_on": "2024-01-10",
            "basis": "N-WB-7",
        },
    )
    for n in range(120):
        enrol(log, n, "town-1", "CENTRALISED" if n < 52 else "DISPERSED")
    for n in range(100):
        enrol(log, n, "town-2", "CENTRALISED" if n < 35 else "DISPERSED")
    enrol(log, 0, "town-3", "DISPERSED", "DIBAO_RURAL")
    log.emit(
        "SupportModeChanged",
        ("enrolment", "e-town-2-99"),
        {
            "from": "DISPERSED",
            "to": "CENTRALISED",
            "institution_id": "home-1",
            "effective_period": "2025-01",
        },
    )
    log.emit(
        "TerminationProposed",
        ("enrolment", "e-town-1-0"),
        {"reason_code": "DECEASED", "death_date": "2024-12-03"},
    )
    log.emit("TerminationDecided", ("enrolment", "e-town-1-0"), {"effective_period": "2025-01"})
    stays = (
        ("p-1", "2024-03-01", None),
        ("p-2", "2024-05-01", None),
        ("p-1", "2024-03-01", "2024-09-30"),
    )
    for person, admitted, discharged in stays:
        log.emit(
            "InstitutionResidencyRecorded",
            ("residency", f"r-{person}"),
            {
                "institution_id": "home-1",
                "person_id": person,
                "admitted_on": admitted,
                "discharged_on": discharged,
                "bed_id": None,
            },
        )


def story() -> ReadModelLog:
    log = ReadModelLog()
    for chapter in (inspections, rectifications, payments, standards, coverage):
        chapter(log)
    return log


# ------------------------------------------------------------------ storage


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=tmp_path)


def built(settings: Settings, log: ReadModelLog, page_size: int = 5000) -> ProjectionStore:
    store = ProjectionStore.open(settings, read_model_projections())
    Follower(store, ListLog(log.entries), page_size=page_size).catch_up()
    return store


def memory_hash(log: ReadModelLog, name: str, position: int) -> str:
    projection = next(p for p in read_model_projections() if p.name == name)
    state = projection.fold_all(log.events(position))
    return projection.memory_hash(state, position)


@pytest.mark.parametrize("page_size", [1, 7, 64, 5000])
def test_every_page_size_gives_the_in_memory_hash(settings: Settings, page_size: int) -> None:
    log = story()
    store = built(settings, log, page_size)
    last = len(log.entries) - 1
    for name in NAMES:
        assert store.positions()[name] == len(log.entries)
        assert store.state_hash(name) == memory_hash(log, name, last), name
    store.close()


def test_hashes_as_known_at_earlier_positions_match_the_prefix_folds(settings: Settings) -> None:
    log = story()
    store = built(settings, log, page_size=13)
    for position in (0, 5, 17, 30, 45, 60, 300, len(log.entries) - 2):
        for name in NAMES:
            assert store.state_hash(name, position) == memory_hash(log, name, position)
    store.close()


def test_a_rebuild_reproduces_the_incremental_state(settings: Settings) -> None:
    log = story()
    store = built(settings, log, page_size=11)
    before = {name: store.state_hash(name) for name in NAMES}
    Follower(store, ListLog(log.entries), page_size=10_000).rebuild()
    assert {name: store.state_hash(name) for name in NAMES} == before
    store.close()


STORY = story()


@hypothesis_settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunks=st.lists(st.integers(1, 300), min_size=1, max_size=6))
def test_restarts_between_pages_change_nothing(tmp_path: Path, chunks: list[int]) -> None:
    """A new store and follower for every page, with varying page sizes: the stored state
    is the in-memory fold's, whatever the page boundaries were."""
    path = tmp_path / f"{'-'.join(map(str, chunks))}.db"
    settings = Settings(database_url=f"sqlite:///{path}", home=tmp_path)
    ProjectionStore.open(settings, read_model_projections()).reset()
    applied, turn = 0, 0
    while applied < len(STORY.entries):
        store = ProjectionStore.open(settings, read_model_projections())
        follower = Follower(store, ListLog(STORY.entries), page_size=chunks[turn % len(chunks)])
        applied += follower.catch_up(max_pages=1)
        store.close()
        turn += 1
    store = ProjectionStore.open(settings, read_model_projections())
    last = len(STORY.entries) - 1
    assert {n: store.state_hash(n) for n in NAMES} == {
        n: memory_hash(STORY, n, last) for n in NAMES
    }
    store.close()


# ------------------------------------------------------------------ queries on both axes


@pytest.fixture
def models(settings: Settings) -> ReadModels:
    return ReadModels(built(settings, story(), page_size=50))


def test_pages_name_their_position_and_the_whole_projections_hash(models: ReadModels) -> None:
    first = models.payments(limit=2)
    second = models.payments(limit=2, after=first.next_after)
    assert [r["line_id"] for r in first.rows] == ["l-1", "l-2"]
    assert [r["line_id"] for r in second.rows] == ["l-2r", "l-3"]
    assert first.position == second.position == models.store.positions()["payments"] - 1
    assert first.state_hash == second.state_hash == models.store.state_hash("payments")


def test_as_known_at_a_position_shows_the_rows_then(models: ReadModels) -> None:
    log = story()
    approved = next(i for i, e in enumerate(log.entries) if e.event_type == "PaymentBatchApproved")
    then = models.payments(as_known_at_position=approved, limit=100)
    assert then.position == approved
    assert {r["line_id"]: r["status"] for r in then.rows} == {
        "l-1": "AUTHORISED",
        "l-2": "AUTHORISED",
        "l-3": "AUTHORISED",
    }
    before = models.payments(as_known_at_position=approved - 1)
    assert {r["status"] for r in before.rows} == {"PREPARED"}
    assert before.state_hash != then.state_hash


def test_as_known_at_a_time_uses_the_last_event_recorded_by_then(models: ReadModels) -> None:
    page = models.rectifications(
        as_known_at_time="2024-03-21T00:00:00+00:00", as_of=date(2024, 3, 21)
    )
    n1 = next(r for r in page.rows if r["notice_id"] == "n-1")
    assert n1["status"] == "RESPONDED"
    assert n1["reported_late"] is True
    assert n1["escalation_step_due"] == "CRITICISM"


def test_unannounced_plans_stay_hidden_until_conducted(models: ReadModels) -> None:
    public = models.inspections()
    assert [r["inspection_id"] for r in public.rows] == ["i-1", "i-3"]
    everything = models.inspections(include_hidden=True)
    assert [r["inspection_id"] for r in everything.rows] == ["i-1", "i-2", "i-3"]
    assert [r["inspection_id"] for r in models.inspections(org_id="town-2").rows] == ["i-1"]
    assert public.state_hash == everything.state_hash  # the same projection, filtered


def test_standards_in_force_in_a_month(models: ReadModels) -> None:
    def ids(month: str) -> list[str]:
        return [r["standard_id"] for r in models.standards(in_force_in=month).rows]

    assert ids("2024-06") == []
    assert ids("2024-07") == ["s-2024", "s-care"]
    assert ids("2025-06") == ["s-2024", "s-care"]
    assert ids("2025-07") == ["s-2025b", "s-care"]
    assert [r["standard_id"] for r in models.standards(component="CARE_FULL").rows] == ["s-care"]


def test_coverage_filters_by_unit_and_programme(models: ReadModels) -> None:
    page = models.coverage(admin_unit_id="town-2", period="2024-12", on=date(2024, 12, 31))
    assert [(r["kind"], r.get("admin_unit_id")) for r in page.rows] == [
        ("TOWNSHIP_PROGRAMME", "town-2")
    ]
    dibao = models.coverage(programme_code="DIBAO_RURAL").rows
    assert [(r["admin_unit_id"], r["active"], r["target_met"]) for r in dibao] == [
        ("town-3", 1, None)
    ]


def test_coverage_of_a_county_covers_its_townships_and_homes(models: ReadModels) -> None:
    page = models.coverage(admin_unit_id="county-1", period="2024-12", on=date(2024, 6, 1))
    assert [(r["kind"], r.get("admin_unit_id") or r.get("institution_id")) for r in page.rows] == [
        ("TOWNSHIP_PROGRAMME", "town-1"),
        ("TOWNSHIP_PROGRAMME", "town-2"),
        ("INSTITUTION", "home-1"),
    ]
    assert page.rows[2]["residents"] == 2
    everything = models.coverage(admin_unit_id="city", period="2024-12")
    assert len(everything.rows) == 4
    assert models.coverage(admin_unit_id="county-2").rows[0]["admin_unit_id"] == "town-3"
