"""The audit findings register (``domain.md`` §6.5 ``AuditFindings``), bitemporal.

One row per finding and change: ``AuditFindingRaised`` opens it (status ``OPEN``), each
``AuditFindingDisposed`` records a new version with the disposition (CONFIRMED,
FALSE_POSITIVE, REFERRED_TO_DISCIPLINE), so "what was open when decision X was taken" is one
as-known-at query. Subjects and evidence are stored as JSON arrays.

:func:`select_findings` answers ``ledger findings`` and ``GET /v1/findings`` with the filters
code, severity, admin unit, period (``YYYY-MM``, or ``YYYY`` for a whole year) and status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import orjson

from ledger.projections.base import Projection, State
from ledger.projections.errors import ProjectionBehindError, QueryError
from ledger.projections.events import Event
from ledger.projections.queries import MAX_LIMIT, version_clause
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

if TYPE_CHECKING:
    from ledger.projections.store import ProjectionStore

NAME = "findings"
OPEN = "OPEN"


@dataclass(slots=True)
class FindingRow:
    """One finding as known at some log position (``known_*`` are not stored columns)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("finding_id", "TEXT NOT NULL"),
        ("code", "TEXT"),
        ("severity", "TEXT"),
        ("admin_unit_id", "TEXT"),
        ("period", "TEXT"),
        ("status", "TEXT"),
        ("detector", "TEXT"),
        ("detector_version", "BIGINT"),
        ("rule_ref", "TEXT"),
        ("summary", "TEXT"),
        ("subject_refs", "TEXT"),
        ("evidence_event_ids", "TEXT"),
        ("raised_at_index", "BIGINT"),
        ("disposition_reason", "TEXT"),
        ("referred_to_org_id", "TEXT"),
    )

    finding_id: str
    code: str
    severity: str
    admin_unit_id: str | None
    period: str | None
    status: str
    detector: str
    detector_version: int
    rule_ref: str | None
    summary: str
    subject_refs: str
    """JSON array of subject ids."""
    evidence_event_ids: str
    """JSON array of the evidence events' ids."""
    raised_at_index: int
    disposition_reason: str | None
    referred_to_org_id: str | None
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def to_json(self) -> dict[str, Any]:
        """The row for people and machines: lists as lists, versions included."""
        out = asdict(self)
        out["subject_refs"] = orjson.loads(self.subject_refs)
        out["evidence_event_ids"] = orjson.loads(self.evidence_event_ids)
        return out


FINDINGS = Table(
    "proj_findings",
    FindingRow,
    versioned=True,
    indexes=("(code, finding_id) WHERE known_to IS NULL",),
)


class FindingsState(State):
    """The working copy of the findings table."""

    def __init__(self, findings: Rows[FindingRow]) -> None:
        self.findings = findings

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.findings,)


def _raised(state: FindingsState, ev: Event) -> None:
    p = ev.payload
    row = FindingRow(
        finding_id=ev.stream_id,
        code=str(p.get("code")),
        severity=str(p.get("severity")),
        admin_unit_id=p.get("admin_unit_id"),
        period=p.get("period"),
        status=OPEN,
        detector=str(p.get("detector")),
        detector_version=int(p.get("detector_version") or 0),
        rule_ref=p.get("rule_ref"),
        summary=str(p.get("summary")),
        subject_refs=orjson.dumps(p.get("subject_refs") or []).decode(),
        evidence_event_ids=orjson.dumps(p.get("evidence_event_ids") or []).decode(),
        raised_at_index=ev.index,
        disposition_reason=None,
        referred_to_org_id=None,
    )
    state.findings.add(ev.stream_id, row, ev.index)


def _disposed(state: FindingsState, ev: Event) -> None:
    row = state.findings.get(ev.stream_id)
    if row is None:  # refused upstream (AUD-2): nothing to record against
        return
    p = ev.payload
    row.status = str(p.get("disposition"))
    row.disposition_reason = p.get("reason")
    row.referred_to_org_id = p.get("referred_to_org_id")
    state.findings.touch(ev.stream_id, ev.index)


_FOLDS = {"AuditFindingRaised": _raised, "AuditFindingDisposed": _disposed}


class FindingsProjection(Projection[FindingsState]):
    """The ``AuditFindings`` projection."""

    name = NAME
    version = 1
    types = frozenset(_FOLDS)
    tables = (FINDINGS,)

    def empty(self) -> FindingsState:
        return FindingsState(Rows(FINDINGS))

    def load(self, tx: Tx, events: Sequence[Event]) -> FindingsState:
        return FindingsState(Rows(FINDINGS, FINDINGS.load(tx, {ev.stream_id for ev in events})))

    def fold(self, state: FindingsState, event: Event) -> None:
        _FOLDS[event.event_type](state, event)


@dataclass(frozen=True)
class FindingFilter:
    """The filters of ``ledger findings`` and ``GET /v1/findings`` (``None``: any)."""

    code: str | None = None
    severity: str | None = None
    admin_unit_id: str | None = None
    period: str | None = None
    """``YYYY-MM`` exactly, or ``YYYY`` for every period of that year."""
    status: str | None = None


@dataclass(frozen=True)
class FindingsPage:
    """Findings as known at ``position`` (-1: nothing folded yet), in ``finding_id`` order."""

    rows: list[FindingRow]
    position: int
    state_hash: str


def _conditions(where: FindingFilter) -> tuple[list[str], list[object]]:
    conds: list[str] = []
    values: list[object] = []
    for column, value in (
        ("code", where.code),
        ("severity", where.severity),
        ("admin_unit_id", where.admin_unit_id),
        ("status", where.status),
    ):
        if value is not None:
            conds.append(f"{column} = ?")
            values.append(value)
    if where.period is not None:
        if len(where.period) == 4 and where.period.isdigit():
            conds.append("period LIKE ?")
            values.append(f"{where.period}%")
        else:
            conds.append("period = ?")
            values.append(where.period)
    return conds, values


def select_findings(
    store: ProjectionStore,
    where: FindingFilter | None = None,
    *,
    as_known_at_position: int | None = None,
    limit: int = 1000,
) -> FindingsPage:
    """Findings matching ``where``, current or as known at a log position, with the
    projection's state hash at that position (rows and position from one snapshot)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be 1..{MAX_LIMIT}", limit=limit)
    conds, values = _conditions(where or FindingFilter())
    with store.db.read() as tx:
        folded = store.read_positions(tx)[NAME] - 1
        at = as_known_at_position
        if at is not None and at > folded:
            raise ProjectionBehindError(
                f"projection {NAME} has folded up to log index {folded}, not {at}",
                projection=NAME,
                folded=folded,
                asked=at,
            )
        clause, params = version_clause(at)
        sql = (
            f"SELECT {FINDINGS.select_sql()}, known_from, known_to FROM {FINDINGS.name} "
            f"WHERE {' AND '.join([clause, *conds])} ORDER BY finding_id LIMIT ?"
        )
        rows = [FindingRow.from_values(r) for r in tx.fetchall(sql, [*params, *values, limit])]
        position = folded if at is None else at
    if at is not None:
        for row in rows:
            row.known_to = None  # a later change is not known at ``at``
    return FindingsPage(rows, position, store.state_hash(NAME, position))
