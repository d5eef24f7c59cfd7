"""The first programme over HTTP, against a real uvicorn on SQLite and PostgreSQL: a county's
year of 特困 support (applications through every path, enrolment, monthly payments from an
earmarked fund, termination and referral) posted envelope by envelope with the signing
client, then read back from the roster and fund-ledger endpoints, refused where a rule says
so (422 with the invariant's code), and proven against a signed checkpoint."""

from __future__ import annotations

import hashlib
import time
from datetime import date
from typing import Any

import pytest

from ledger.domain.periods import Period
from ledger.http_client import LedgerHTTPError
from ledger.integrity.envelope import leaf_bytes
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.merkle import leaf_hash, verify_inclusion
from ledger.integrity.signing import b64decode_strict
from ledger.tools.demo_data import DemoSummary, write_demo
from ledger.tools.scenario import Desk
from tests.e2e.conftest import E2E
from tests.e2e.test_http_api import _latest_checkpoint_covering


def _identity(_person: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


@pytest.fixture(scope="module")
def year(e2e: E2E) -> tuple[E2E, Desk, DemoSummary]:
    version = e2e.api.events("registry", "registry", limit=1)["version"]
    desk = Desk(submit=e2e.api.post_event, admin=e2e.admin, registry_version=int(version))
    summary = write_demo(desk, _identity)
    return e2e, desk, summary


def _wait_for_projection(e2e: E2E, position: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        page = e2e.api.roster(status="ACTIVE", limit=1000)
        if page["position"] >= position or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


def test_roster_and_fund_ledger_show_the_year(year: tuple[E2E, Desk, DemoSummary]) -> None:
    e2e, _, summary = year
    last = e2e.api.log(0, 1)["size"] - 1
    page = _wait_for_projection(e2e, last)
    assert len(page["rows"]) == summary.enrolled - summary.terminated
    modes = {row["support_mode"] for row in page["rows"]}
    assert modes == {"DISPERSED", "CENTRALISED"}
    fund = e2e.api.fund_ledger(fund_account_id=summary.fund_account_id)["rows"][0]
    assert fund["settled_fen"] == summary.paid_fen
    assert fund["available_fen"] == fund["received_fen"] - summary.paid_fen
    # As known before any enrolment, nobody was on the roster.
    first_enrolment = min(row["known_from"] for row in page["rows"])
    early = e2e.api.roster(status="ACTIVE", as_known_at=first_enrolment - 1)
    assert early["rows"] == []


def test_a_payment_after_termination_is_refused_with_its_code(
    year: tuple[E2E, Desk, DemoSummary],
) -> None:
    e2e, desk, summary = year
    terminated = [
        row
        for row in e2e.api.roster(status="TERMINATED", limit=1000)["rows"]
        if row["support_mode"] == "DISPERSED"
    ]
    row = terminated[0]
    late = Period.parse(row["last_payable_period"]).plus(1)
    with pytest.raises(LedgerHTTPError) as refused:
        desk.emit(
            desk.signers["county-hx-preparer"],
            ("payment_batch", "batch-after-termination"),
            "PaymentBatchPrepared",
            {
                "batch_id": "batch-after-termination",
                "programme_code": "TEKUN",
                "admin_unit_id": summary.county_id,
                "period": str(late),
                "fund_account_id": summary.fund_account_id,
                "lines": [
                    {
                        "line_id": "after-termination-1",
                        "enrolment_id": row["enrolment_id"],
                        "person_id": row["person_id"],
                        "component": "BASIC_LIVING",
                        "amount_fen": 10_833,
                        "channel": "ONE_CARD",
                        "account_id": row["payment_account_id"],
                    }
                ],
                "total_fen": 10_833,
            },
            date(late.year, late.month, 3),
        )
    assert refused.value.status == 422
    assert refused.value.code in {"PAY-1", "PAY-2"}
    assert refused.value.problem["detail"]


def test_a_decision_is_included_in_a_signed_checkpoint(
    year: tuple[E2E, Desk, DemoSummary],
) -> None:
    """An auditor's check of one approval: recompute its leaf from the log entry, fetch an
    inclusion proof, verify it against a checkpoint whose signature verifies."""
    e2e, _, _ = year
    entries = e2e.api.log(0, 1000)["entries"]
    approval = next(e for e in entries if e["envelope"]["event_type"] == "ApplicationApproved")
    index = approval["index"]
    checkpoint = _latest_checkpoint_covering(e2e, index + 1)
    leaf = leaf_hash(
        leaf_bytes(canonicalize_checked(approval["envelope"]), index, approval["recorded_at"])
    )
    proof = e2e.api.inclusion_proof(index, checkpoint.size)
    verify_inclusion(
        leaf,
        index,
        checkpoint.size,
        [b64decode_strict(h) for h in proof["proof"]],
        checkpoint.root_hash,
    )
