"""Decision replay and timelines over the demo 特困 year, on SQLite and PostgreSQL: the
approval, a payment batch approval and a termination re-derive (match, with exact numbers),
a decision planted with the rules switched off shows mismatch with the refusing invariant."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, LEDGER_KEY_FILE, open_store
from ledger.domain.model import Rules
from ledger.integrity.signing import read_private_key
from ledger.projections.case_index import CaseIndex
from ledger.projections.follower import Follower
from ledger.projections.store import ProjectionStore
from ledger.services.ledger import LedgerService
from ledger.services.replay import NotFoundError, ReplayService
from ledger.tools.demo_data import DemoSummary, write_demo
from ledger.tools.scenario import Desk, new_admin_desk
from tests.conftest import LedgerWorld, make_world


def fake_identity(_person_id: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


@dataclass
class Audit:
    world: LedgerWorld
    desk: Desk
    summary: DemoSummary
    replay: ReplayService

    def first(self, event_type: str, stream_id: str | None = None) -> dict[str, object]:
        """The first recorded event of ``event_type`` (on ``stream_id``)."""
        log = self.world.service.store.log
        for entry in log.entries(0, 100_000):
            fields = orjson.loads(entry.state)
            if fields["event_type"] == event_type and stream_id in (None, fields["stream_id"]):
                return fields  # type: ignore[no-any-return]
        raise AssertionError(f"no {event_type}")


def _replay_service(world: LedgerWorld) -> ReplayService:
    projections = ProjectionStore.open(world.settings)
    Follower(projections, world.service.store.log).catch_up()
    return ReplayService(world.service, CaseIndex.open(world.settings), projections)


@pytest.fixture
def audit(database_url: str, tmp_path: Path) -> Iterator[Audit]:
    world = make_world(database_url, tmp_path / "home")
    service = world.service
    desk = new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(world.settings.home / ADMIN_KEY_FILE),
        "admin-1",
        "city",
        service.registry.version,
    )
    summary = write_demo(desk, fake_identity)
    replay = _replay_service(world)
    yield Audit(world, desk, summary, replay)
    replay.index.close()
    assert replay.projections is not None
    replay.projections.close()
    world.service.close()


def test_replay_of_an_approval_matches_and_rederives_the_entitlement(audit: Audit) -> None:
    approval = audit.first("ApplicationApproved", "app-2024-0001")
    report = audit.replay.replay(str(approval["event_id"]))
    rec = report["recomputation"]
    assert (rec["result"], rec["decision"], rec["code"], rec["basis"]) == (
        "match",
        "match",
        None,
        "closure",
    )
    # Closure, not the log: far fewer events than the decision's position.
    assert rec["closure_events"] < report["decision"]["index"]
    (entitlement,) = rec["derivations"]
    assert entitlement["name"] == "annual_amount_fen"
    assert (entitlement["stated"], entitlement["derived"], entitlement["result"]) == (
        130_000,
        130_000,
        "match",
    )
    assert entitlement["inputs"]["standard_event_id"] == approval["payload"]["standard_ref"]  # type: ignore[index]
    # The cited standard is shown, every signer verified with the key of its position.
    assert [e["event_type"] for e in report["cited_events"]] == ["BenefitStandardPublished"]
    assert {s["signature"] for s in report["signers"]} == {"verified"}
    assert report["signers"][-1]["role"] == "county_approver"
    assert {v["event_type"] for v in report["rule_versions"]} == {
        "ProgrammeDefined",
        "BenefitStandardPublished",
        "CoverageTargetsPublished",
    }
    proofs = report["proofs"]
    assert proofs["checkpoint_signature"] == "verified"
    assert all(p["verified"] for p in proofs["inclusion"])
    assert len(proofs["inclusion"]) == 2


def test_replay_of_a_batch_approval_rederives_fund_availability(audit: Audit) -> None:
    approval = audit.first("PaymentBatchApproved", "batch-county-hx-2024-01")
    report = audit.replay.replay(str(approval["event_id"]))
    rec = report["recomputation"]
    assert rec["result"] == "match"
    (available,) = rec["derivations"]
    # Before the first batch: 6,000,000 fen received, nothing committed (EX: §5.14 identity).
    assert available["derived"] == 6_000_000
    assert available["inputs"]["batch_total_fen"] == 261_328
    assert available["inputs"]["available_after_fen"] == 6_000_000 - 261_328
    fund = report["projections"]["fund_ledger"]["rows"]
    assert [row["available_fen"] for row in fund] == [6_000_000]
    assert report["projections"]["as_known_at"] == report["decision"]["index"] - 1


def test_replay_of_a_prepared_batch_rederives_every_line_amount(audit: Audit) -> None:
    prepared = audit.first("PaymentBatchPrepared", "batch-county-hx-2024-01")
    report = audit.replay.replay(str(prepared["event_id"]))
    rec = report["recomputation"]
    assert rec["result"] == "match"
    (lines,) = rec["derivations"]
    assert lines["name"] == "line_amounts_fen"
    # The January roll of §5.14's year: 261,328 fen, each line the month's instalment.
    assert (lines["stated"], lines["derived"], lines["result"]) == (261_328, 261_328, "match")
    assert lines["inputs"]["differing_lines"] == []


def test_replay_of_a_termination_matches(audit: Audit) -> None:
    decided = audit.first("TerminationDecided", "enr-app-2024-0002")
    report = audit.replay.replay(str(decided["event_id"]))
    assert report["recomputation"]["result"] == "match"
    assert report["recomputation"]["basis"] == "closure"
    (row,) = report["projections"]["roster"]["rows"]
    assert (row["enrolment_id"], row["status"]) == ("enr-app-2024-0002", "TERMINATION_PENDING")


def test_every_decision_of_the_year_rederives_on_its_closure(audit: Audit) -> None:
    from ledger.domain.catalogue import DEFAULT_CATALOGUE, Kind

    log = audit.world.service.store.log
    bases = set()
    for entry in log.entries(0, 100_000):
        fields = orjson.loads(entry.state)
        spec = DEFAULT_CATALOGUE.spec(fields["event_type"], fields["schema_version"])
        if spec.kind is Kind.DECISION and fields["stream_type"] != "registry":
            verdict, basis = audit.replay.redecide(entry)
            assert verdict.ok, (fields["event_type"], verdict)
            bases.add(basis["basis"])
    assert bases == {"closure"}


def plant_approval_of_rejected_application(audit: Audit) -> str:
    """Append, with the business rules switched off, an approval of an application the county
    rejected: a decision the rules would have refused."""
    settings = audit.world.settings
    unruled = LedgerService(
        open_store(settings), read_private_key(settings.home / LEDGER_KEY_FILE), rules=Rules()
    )
    try:
        template = audit.first("ApplicationApproved", "app-2024-0001")
        payload = dict(template["payload"])  # type: ignore[arg-type]
        payload["dossier_id"] = "dossier-app-2024-0007"
        desk = audit.desk
        desk.submit = lambda raw: unruled.append(raw).receipt
        desk.emit(
            desk.as_role("county-hx-approver", "county_approver"),
            ("application", "app-2024-0007"),
            "ApplicationApproved",
            payload,
            date(2024, 9, 1),
            remember_as="planted",
        )
    finally:
        unruled.close()
    return desk.event_ids["planted"]


def test_a_planted_inconsistent_decision_shows_mismatch_with_its_code(audit: Audit) -> None:
    event_id = plant_approval_of_rejected_application(audit)
    report = audit.replay.replay(event_id)
    rec = report["recomputation"]
    assert rec["result"] == "mismatch"
    assert rec["code"] == "APP-0"  # approving a rejected application: no W1 transition
    assert rec["basis"] == "full_prefix"  # confirmed on the whole log, not a closure artefact
    assert rec["detail"]
    # Still authentic: signed by the approver with a registered key, and in the checkpoint.
    assert report["signers"][-1]["signature"] == "verified"


def test_timeline_lists_every_event_of_a_person_in_log_order(audit: Audit) -> None:
    timeline = audit.replay.timeline("p-0001")
    indexes = [e["index"] for e in timeline["events"]]
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes)
    types = [e["event_type"] for e in timeline["events"]]
    assert types[0] == "ApplicationSubmitted"
    assert "BeneficiaryEnrolled" in types and "PaymentBatchPrepared" in types
    assert types.count("PaymentBatchPrepared") == 12
    first = timeline["events"][0]
    assert (first["role"], first["org_id"]) == ("township_intake_clerk", "county-hx-town-1")
    fund = audit.replay.timeline(audit.summary.fund_account_id)
    assert [e["event_type"] for e in fund["events"][:2]] == [
        "FundAccountOpened",
        "FundAppropriated",
    ]


def test_unknown_ids_are_not_found(audit: Audit) -> None:
    with pytest.raises(NotFoundError) as e:
        audit.replay.replay("01a20b06-0000-7000-8000-000000000000")
    assert e.value.code == "NOT_FOUND"
    with pytest.raises(NotFoundError):
        audit.replay.timeline("nobody")


def test_case_index_is_incremental_and_exactly_once(audit: Audit) -> None:
    index = audit.replay.index
    size = audit.world.service.store.log.head().size
    index.catch_up(audit.world.service.store.log)
    assert index.position() == size
    before = len(index.touches("p-0001"))
    assert index.catch_up(audit.world.service.store.log) == 0
    assert len(index.touches("p-0001")) == before
