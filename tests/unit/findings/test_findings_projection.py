"""The findings register: folded from raised and disposed findings, versioned, and identical
(state hash) whether built in pages of any size or in one in-memory fold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.projections.events import decode
from ledger.projections.findings import FindingFilter, FindingsProjection, select_findings
from ledger.projections.follower import Follower
from ledger.projections.store import ProjectionStore
from ledger.settings import Settings
from tests.unit.projections.helpers import ListLog, entries_of


def _envelope(event_type: str, stream_id: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "event_type": event_type,
            "stream_type": "audit_finding",
            "stream_id": stream_id,
            "payload": payload,
        }
    )


def _raised(n: int) -> bytes:
    finding_id = f"F-{n}"
    return _envelope(
        "AuditFindingRaised",
        finding_id,
        {
            "finding_id": finding_id,
            "code": "AF-APP-SPOTCHECK" if n % 2 else "AF-PAY-AFTER-EXIT",
            "severity": "H",
            "subject_refs": [f"subject-{n}"],
            "evidence_event_ids": [f"00000000-0000-0000-0000-{n:012d}"],
            "detector": "d",
            "detector_version": 1,
            "rule_ref": None,
            "period": f"2024-{n % 12 + 1:02d}",
            "admin_unit_id": f"county-{n % 3}",
            "summary": f"finding {n}",
        },
    )


def _disposed(n: int, disposition: str) -> bytes:
    return _envelope(
        "AuditFindingDisposed",
        f"F-{n}",
        {
            "finding_id": f"F-{n}",
            "disposition": disposition,
            "reason": "checked",
            "referred_to_org_id": None,
        },
    )


def _log() -> list[bytes]:
    envelopes = [_raised(n) for n in range(30)]
    envelopes += [_disposed(n, "CONFIRMED") for n in range(0, 30, 4)]
    envelopes += [_disposed(n, "REFERRED_TO_DISCIPLINE") for n in range(0, 30, 8)]
    envelopes.append(_disposed(99, "CONFIRMED"))  # no such finding: nothing to record
    return envelopes


@pytest.mark.parametrize("page_size", [1, 7, 1000])
def test_paged_and_in_memory_builds_have_the_same_state_hash(
    tmp_path: Path, page_size: int
) -> None:
    entries = entries_of(_log())
    projection = FindingsProjection()
    memory = projection.memory_hash(
        projection.fold_all(decode(e) for e in entries), len(entries) - 1
    )
    store = ProjectionStore.open(
        Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}", home=tmp_path), [projection]
    )
    try:
        Follower(store, ListLog(entries), page_size=page_size).catch_up()

        assert store.state_hash("findings") == memory
        page = select_findings(store)
        statuses = {r.finding_id: r.status for r in page.rows}
        assert len(page.rows) == 30
        assert (statuses["F-0"], statuses["F-4"], statuses["F-1"]) == (
            "REFERRED_TO_DISCIPLINE",
            "CONFIRMED",
            "OPEN",
        )
        confirmed = select_findings(
            store, FindingFilter(status="CONFIRMED", admin_unit_id="county-1")
        )
        assert sorted(r.finding_id for r in confirmed.rows) == ["F-28", "F-4"]
        before = select_findings(store, as_known_at_position=29)
        assert {r.status for r in before.rows} == {"OPEN"}
    finally:
        store.close()
