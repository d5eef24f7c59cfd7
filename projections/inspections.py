"""The inspection register (督查台帐, ``domain.md`` §6.5 ``InspectionRegister``), bitemporal.

One row per inspection (key ``inspection_id`` = the ``inspection`` stream id), built from the
W12 events (§4.12):

``InspectionPlanned`` → PLANNED; ``InspectionNotified`` → NOTIFIED (announced only, INS-3);
``InspectionConducted`` → CONDUCTED; ``InspectionReportSubmitted`` → REPORTED.
``FindingRecorded`` adds a finding id and its severity; ``InspectionScoreRecorded`` records
the single score per target (decimal strings, exact, §5.0).

``hidden`` is 1 while an UNANNOUNCED plan has not been conducted: the plan must stay secret
from the inspected units until the visit (INS-3), so public reads leave such rows out.
Facts on an inspection that was never planned still get a row (status UNPLANNED): a fact is
never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import orjson

from ledger.projections.base import Projection, State
from ledger.projections.events import Event
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

UNPLANNED, PLANNED, NOTIFIED, CONDUCTED, REPORTED = (
    "UNPLANNED",
    "PLANNED",
    "NOTIFIED",
    "CONDUCTED",
    "REPORTED",
)
STATUSES = (UNPLANNED, PLANNED, NOTIFIED, CONDUCTED, REPORTED)
_ORDER = {status: n for n, status in enumerate(STATUSES)}


def json_text(value: Any) -> str:
    """Canonical JSON text of a list or object column (sorted keys, no spaces)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(slots=True)
class InspectionRow:
    """One inspection as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("inspection_id", "TEXT NOT NULL"),
        ("type", "TEXT"),
        ("mode", "TEXT"),
        ("status", "TEXT NOT NULL"),
        ("hidden", "BIGINT NOT NULL"),
        ("target_org_ids", "TEXT NOT NULL"),
        ("team_actor_ids", "TEXT NOT NULL"),
        ("window_start", "TEXT"),
        ("window_end", "TEXT"),
        ("scheme_id", "TEXT"),
        ("notified_org_ids", "TEXT NOT NULL"),
        ("started_at", "TEXT"),
        ("ended_at", "TEXT"),
        ("finding_ids", "TEXT NOT NULL"),
        ("high_severity_findings", "BIGINT NOT NULL"),
        ("scores", "TEXT NOT NULL"),
        ("report_sha256", "TEXT"),
        ("report_signers", "TEXT NOT NULL"),
        ("report_recorded_at", "TEXT"),
    )

    inspection_id: str
    type: str | None = None
    mode: str | None = None
    status: str = UNPLANNED
    hidden: int = 0
    target_org_ids: str = "[]"
    team_actor_ids: str = "[]"
    window_start: str | None = None
    window_end: str | None = None
    scheme_id: str | None = None
    notified_org_ids: str = "[]"
    started_at: str | None = None
    ended_at: str | None = None
    finding_ids: str = "[]"
    high_severity_findings: int = 0
    scores: str = "{}"
    report_sha256: str | None = None
    report_signers: str = "[]"
    report_recorded_at: str | None = None
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def advance(self, status: str) -> None:
        """Move the status forward only (a late notification never un-conducts a visit)."""
        if _ORDER[status] > _ORDER[self.status]:
            self.status = status
        self.hidden = int(self.mode == "UNANNOUNCED" and _ORDER[self.status] < _ORDER[CONDUCTED])


INSPECTIONS = Table(
    "proj_inspections",
    InspectionRow,
    versioned=True,
    indexes=("(status, inspection_id) WHERE known_to IS NULL",),
)


class InspectionState(State):
    """The working copy of the register."""

    def __init__(self, inspections: Rows[InspectionRow]) -> None:
        self.inspections = inspections

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.inspections,)

    def row(self, inspection_id: str) -> InspectionRow:
        """The inspection's row; an UNPLANNED one when a fact names an unknown inspection."""
        row = self.inspections.get(inspection_id)
        if row is None:
            row = InspectionRow(inspection_id)
            self.inspections.rows[inspection_id] = row
        return row


# --------------------------------------------------------------------------- pure folds


def _added(text: str, *items: Any) -> str:
    """A JSON list column with ``items`` appended once each, sorted (order-free sets)."""
    values = set(orjson.loads(text))
    values.update(str(i) for i in items if i is not None)
    return json_text(sorted(values))


def _planned(row: InspectionRow, p: dict[str, Any], _ev: Event) -> None:
    window = p.get("window") or {}
    row.type = p.get("type")
    row.mode = p.get("mode")
    row.target_org_ids = json_text(sorted(p.get("target_org_ids") or []))
    row.team_actor_ids = json_text(sorted(p.get("team_actor_ids") or []))
    row.window_start = window.get("start")
    row.window_end = window.get("end")
    row.scheme_id = p.get("scheme_id")
    row.advance(PLANNED)


def _notified(row: InspectionRow, p: dict[str, Any], _ev: Event) -> None:
    row.notified_org_ids = _added(row.notified_org_ids, p.get("target_org_id"))
    row.advance(NOTIFIED)


def _conducted(row: InspectionRow, p: dict[str, Any], _ev: Event) -> None:
    row.started_at = p.get("started_at")
    row.ended_at = p.get("ended_at")
    row.advance(CONDUCTED)


def _finding(row: InspectionRow, p: dict[str, Any], _ev: Event) -> None:
    before = row.finding_ids
    row.finding_ids = _added(row.finding_ids, p.get("finding_id"))
    if row.finding_ids != before and p.get("severity") == "HIGH":
        row.high_severity_findings += 1


def _scored(row: InspectionRow, p: dict[str, Any], _ev: Event) -> None:
    scores: dict[str, Any] = orjson.loads(row.scores)
    scores[str(p.get("target_org_id"))] = {
        "raw_score": p.get("raw_score"),
        "single_score": p.get("single_score"),
        "deductions": len(p.get("item_deductions") or []),
    }
    row.scores = json_text(scores)


def _reported(row: InspectionRow, p: dict[str, Any], ev: Event) -> None:
    row.report_sha256 = p.get("report_sha256")
    row.report_signers = json_text(sorted(p.get("signer_actor_ids") or []))
    row.report_recorded_at = ev.recorded_at
    row.advance(REPORTED)


def _on_inspection(
    apply: Callable[[InspectionRow, dict[str, Any], Event], None],
) -> Callable[[InspectionState, Event], None]:
    def fold(state: InspectionState, ev: Event) -> None:
        row = state.row(ev.stream_id)
        apply(row, ev.payload, ev)
        state.inspections.touch(ev.stream_id, ev.index)

    return fold


INSPECTION_FOLDS: dict[str, Callable[[InspectionState, Event], None]] = {
    "InspectionPlanned": _on_inspection(_planned),
    "InspectionNotified": _on_inspection(_notified),
    "InspectionConducted": _on_inspection(_conducted),
    "FindingRecorded": _on_inspection(_finding),
    "InspectionScoreRecorded": _on_inspection(_scored),
    "InspectionReportSubmitted": _on_inspection(_reported),
}


class InspectionRegisterProjection(Projection[InspectionState]):
    """The ``InspectionRegister`` projection."""

    name = "inspections"
    version = 1
    types = frozenset(INSPECTION_FOLDS)
    tables = (INSPECTIONS,)

    def empty(self) -> InspectionState:
        return InspectionState(Rows(INSPECTIONS))

    def load(self, tx: Tx, events: Sequence[Event]) -> InspectionState:
        ids = {ev.stream_id for ev in events}
        return InspectionState(Rows(INSPECTIONS, INSPECTIONS.load(tx, ids)))

    def fold(self, state: InspectionState, event: Event) -> None:
        handler = INSPECTION_FOLDS.get(event.event_type)
        if handler is not None:
            handler(state, event)
