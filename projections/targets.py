"""Target progress (``domain.md`` §6.5 ``TargetProgress``), bitemporal.

Two kinds of versioned row in one table:

``INDICATOR`` (key ``I|{agreement_id}|{indicator_id}``)
    one indicator of a target-responsibility agreement (W10.3): scheme, principal and agent
    (the assessee), category, target, base points, milestones; its decomposition over
    sub-units (W10.4) with the children's total and whether it falls short of the parent
    (AF-TGT-DECOMPOSITION); every progress report (W11, value and ``as_of`` per period) and
    every verification, the latest reported and verified values and the exact completion
    ratio value / target (verified if the latest period was verified, else reported).
``SELF_ASSESSMENT`` (key ``S|{scheme_id}|{assessee}|{round}``)
    the latest half-yearly or year-end self-assessment (W15.1): self-scores, submission
    date, the scheme's deadline for the round and whether it was late (SCO-7, AF-SCO-LATE).

Milestones met or missed depend on the date asked about, so they are evaluated at query time
by :func:`milestones_on` (effective at a date) on the row as known at a log position.
Ratios are exact fraction strings (``"21/20"``); values are kept as the decimal or ratio
strings reported. The deadlines come from the published scheme (its ``deadlines``, read by
:func:`ledger.domain.scoring_scheme.scheme_config`), never from constants here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Self

import orjson

from ledger.domain.scoring_scheme import scheme_config
from ledger.projections.base import Projection, State
from ledger.projections.errors import QueryError
from ledger.projections.events import Event
from ledger.projections.inspections import json_text
from ledger.projections.read_models import Filter, ReadModelPage, read_page
from ledger.projections.scores import exact
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

if TYPE_CHECKING:  # only for annotations: store.py imports this module to register it
    from ledger.projections.store import ProjectionStore

NAME = "targets"
INDICATOR, SELF_ASSESSMENT = "INDICATOR", "SELF_ASSESSMENT"
MET, MISSED, PENDING = "MET", "MISSED", "PENDING"
ROUND_DEADLINES = {"MID_YEAR": "mid_year_self_check", "YEAR_END": "self_check"}
"""Which scheme deadline applies to a self-assessment round (§4.15 step 15.1)."""


def indicator_key(agreement_id: str, indicator_id: str) -> str:
    return f"I|{agreement_id}|{indicator_id}"


def self_key(scheme_id: str, assessee: str, round_: str) -> str:
    return f"S|{scheme_id}|{assessee}|{round_}"


def ratio_text(value: Fraction) -> str:
    """An exact ratio as text: ``"21/20"``, or ``"1"`` for a whole number."""
    return str(value)


@dataclass(slots=True)
class TargetRow:
    """One agreed indicator, or one self-assessment round (see ``kind``)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("target_key", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("scheme_id", "TEXT"),
        ("assessee", "TEXT"),
        ("agreement_id", "TEXT"),
        ("principal_org_id", "TEXT"),
        ("indicator_id", "TEXT"),
        ("category", "TEXT"),
        ("name", "TEXT"),
        ("unit", "TEXT"),
        ("target_value", "TEXT"),
        ("base_points", "TEXT"),
        ("responsible_org_id", "TEXT"),
        ("milestones", "TEXT NOT NULL"),
        ("decomposition", "TEXT NOT NULL"),
        ("decomposed_total", "TEXT"),
        ("decomposition_short", "BIGINT NOT NULL"),
        ("reports", "TEXT NOT NULL"),
        ("verifications", "TEXT NOT NULL"),
        ("latest_period", "TEXT"),
        ("latest_reported", "TEXT"),
        ("latest_verified", "TEXT"),
        ("completion_ratio", "TEXT"),
        ("completion_basis", "TEXT"),
        ("round", "TEXT"),
        ("submitted_at", "TEXT"),
        ("deadline", "TEXT"),
        ("late", "BIGINT NOT NULL"),
        ("submissions", "BIGINT NOT NULL"),
        ("self_scores", "TEXT NOT NULL"),
        ("report_sha256", "TEXT"),
    )

    target_key: str
    kind: str
    scheme_id: str | None = None
    assessee: str | None = None
    agreement_id: str | None = None
    principal_org_id: str | None = None
    indicator_id: str | None = None
    category: str | None = None
    name: str | None = None
    unit: str | None = None
    target_value: str | None = None
    base_points: str | None = None
    responsible_org_id: str | None = None
    milestones: str = "[]"
    decomposition: str = "[]"
    decomposed_total: str | None = None
    decomposition_short: int = 0
    reports: str = "[]"
    verifications: str = "{}"
    latest_period: str | None = None
    latest_reported: str | None = None
    latest_verified: str | None = None
    completion_ratio: str | None = None
    completion_basis: str | None = None
    round: str | None = None
    submitted_at: str | None = None
    deadline: str | None = None
    late: int = 0
    submissions: int = 0
    self_scores: str = "[]"
    report_sha256: str | None = None
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def derive(self) -> None:
        """The latest period's reported and verified values and the completion ratio."""
        reports: list[dict[str, Any]] = orjson.loads(self.reports)
        verified: dict[str, Any] = orjson.loads(self.verifications)
        periods = sorted({str(r["period"]) for r in reports} | set(verified))
        if not periods:
            return
        self.latest_period = periods[-1]
        latest = [r for r in reports if r["period"] == self.latest_period]
        self.latest_reported = latest[-1]["value"] if latest else None
        check = verified.get(self.latest_period)
        self.latest_verified = None if check is None else check["verified_value"]
        value = self.latest_verified if self.latest_verified is not None else self.latest_reported
        self.completion_basis = "VERIFIED" if self.latest_verified is not None else "REPORTED"
        self.completion_ratio = _ratio(exact(value), exact(self.target_value))

    def decompose(self, assignments: list[dict[str, Any]]) -> None:
        """Keep the children; note whether they add up to less than the parent target."""
        self.decomposition = json_text(assignments)
        values = [exact(a.get("target_value")) for a in assignments]
        total = sum((v for v in values if v is not None), Fraction(0))
        self.decomposed_total = ratio_text(total)
        target = exact(self.target_value)
        self.decomposition_short = int(target is not None and total < target)


def _ratio(value: Fraction | None, target: Fraction | None) -> str | None:
    if value is None or target is None or target <= 0:
        return None
    return ratio_text(value / target)


@dataclass(slots=True)
class SchemeRow:
    """A published scheme's self-check deadlines (bookkeeping, current only)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("scheme_id", "TEXT NOT NULL"),
        ("deadlines", "TEXT NOT NULL"),
    )
    scheme_id: str
    deadlines: str

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


TARGETS = Table(
    "proj_targets",
    TargetRow,
    versioned=True,
    indexes=("(assessee, target_key) WHERE known_to IS NULL",),
)
TARGET_SCHEMES = Table("proj_target_schemes", SchemeRow, versioned=False)


class TargetState(State):
    """Working copies of the target rows and the schemes' deadlines."""

    def __init__(self, rows: Rows[TargetRow], schemes: Rows[SchemeRow]) -> None:
        self.rows = rows
        self.schemes = schemes

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.rows, self.schemes)

    def row(self, key: str, kind: str) -> TargetRow:
        found = self.rows.get(key)
        if found is None:
            found = TargetRow(key, kind)
            self.rows.rows[key] = found
        return found

    def touch(self, row: TargetRow, index: int) -> None:
        self.rows.touch(row.target_key, index)

    def deadline(self, scheme_id: str, round_: str) -> str | None:
        scheme = self.schemes.get(scheme_id)
        if scheme is None:
            return None
        found: str | None = orjson.loads(scheme.deadlines).get(round_)
        return found


# --------------------------------------------------------------------------- pure folds


def _scheme(state: TargetState, ev: Event) -> None:
    """Remember the scheme's self-check deadline of each round (the domain's reading)."""
    try:
        config = scheme_config(ev.payload)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return  # a malformed scheme was refused by the ledger; nothing to remember
    deadlines = {}
    for round_, name in ROUND_DEADLINES.items():
        day = config.deadline(name)
        deadlines[round_] = None if day is None else day.isoformat()
    scheme_id = str(ev.payload.get("scheme_id"))
    state.schemes.add(scheme_id, SchemeRow(scheme_id, json_text(deadlines)), ev.index)


_SPEC_FIELDS = ("category", "name", "unit", "responsible_org_id")


def _agreement(state: TargetState, ev: Event) -> None:
    p = ev.payload
    for spec in p.get("indicators") or []:
        indicator_id = str(spec.get("indicator_id"))
        row = state.row(indicator_key(ev.stream_id, indicator_id), INDICATOR)
        row.scheme_id = p.get("scheme_id")
        row.assessee = p.get("agent_org_id")
        row.agreement_id = ev.stream_id
        row.principal_org_id = p.get("principal_org_id")
        row.indicator_id = indicator_id
        for name in _SPEC_FIELDS:
            setattr(row, name, spec.get(name))
        row.target_value = spec.get("target_value")
        row.base_points = spec.get("base_points")
        row.milestones = json_text(spec.get("milestones") or [])
        row.derive()
        state.touch(row, ev.index)


def _decomposed(row: TargetRow, p: dict[str, Any], _ev: Event) -> None:
    row.decompose(list(p.get("assignments") or []))


def _reported(row: TargetRow, p: dict[str, Any], ev: Event) -> None:
    reports: list[dict[str, Any]] = orjson.loads(row.reports)
    reports.append(
        {"period": p.get("period"), "value": p.get("value"), "as_of": p.get("as_of")}
        | {"index": ev.index}
    )
    row.reports = json_text(reports)


def _verified(row: TargetRow, p: dict[str, Any], ev: Event) -> None:
    verified: dict[str, Any] = orjson.loads(row.verifications)
    verified[str(p.get("period"))] = {"verified_value": p.get("verified_value"), "index": ev.index}
    row.verifications = json_text(verified)


def _on_indicator(
    apply: Callable[[TargetRow, dict[str, Any], Event], None],
    field: str = "indicator_id",
) -> Callable[[TargetState, Event], None]:
    def fold(state: TargetState, ev: Event) -> None:
        key = indicator_key(ev.stream_id, str(ev.payload.get(field)))
        row = state.row(key, INDICATOR)
        if row.agreement_id is None:  # a fact about an indicator never agreed: keep it
            row.agreement_id = ev.stream_id
            row.indicator_id = str(ev.payload.get(field))
        apply(row, ev.payload, ev)
        row.derive()
        state.touch(row, ev.index)

    return fold


def _self_assessment(state: TargetState, ev: Event) -> None:
    p = ev.payload
    scheme_id, assessee, round_ = (str(p.get(k)) for k in ("scheme_id", "assessee", "round"))
    row = state.row(self_key(scheme_id, assessee, round_), SELF_ASSESSMENT)
    row.scheme_id, row.assessee, row.round = scheme_id, assessee, round_
    row.submitted_at = p.get("submitted_at")
    row.self_scores = json_text(p.get("self_scores") or [])
    row.report_sha256 = p.get("report_sha256")
    row.submissions += 1
    row.deadline = state.deadline(scheme_id, round_)
    # ISO dates compare as text; a submission on the deadline day is on time.
    row.late = int(row.deadline is not None and str(row.submitted_at) > row.deadline)
    state.touch(row, ev.index)


TARGET_FOLDS: dict[str, Callable[[TargetState, Event], None]] = {
    "AssessmentSchemePublished": _scheme,
    "TargetResponsibilityAgreementSigned": _agreement,
    "TargetDecomposed": _on_indicator(_decomposed, "parent_indicator_id"),
    "ProgressReported": _on_indicator(_reported),
    "ProgressVerified": _on_indicator(_verified),
    "SelfAssessmentSubmitted": _self_assessment,
}


def touched_keys(events: Iterable[Event]) -> tuple[set[str], set[str]]:
    """(target row keys, scheme ids) a page of events may read or change."""
    keys: set[str] = set()
    schemes: set[str] = set()
    for ev in events:
        p = ev.payload
        if ev.event_type == "TargetResponsibilityAgreementSigned":
            keys.update(
                indicator_key(ev.stream_id, str(i.get("indicator_id")))
                for i in p.get("indicators") or []
            )
        elif ev.event_type == "TargetDecomposed":
            keys.add(indicator_key(ev.stream_id, str(p.get("parent_indicator_id"))))
        elif ev.event_type in ("ProgressReported", "ProgressVerified"):
            keys.add(indicator_key(ev.stream_id, str(p.get("indicator_id"))))
        elif ev.event_type == "SelfAssessmentSubmitted":
            keys.add(self_key(*(str(p.get(k)) for k in ("scheme_id", "assessee", "round"))))
            schemes.add(str(p.get("scheme_id")))
    return keys, schemes


class TargetProgressProjection(Projection[TargetState]):
    """The ``TargetProgress`` projection."""

    name = NAME
    version = 1
    types = frozenset(TARGET_FOLDS)
    tables = (TARGETS, TARGET_SCHEMES)

    def empty(self) -> TargetState:
        return TargetState(Rows(TARGETS), Rows(TARGET_SCHEMES))

    def load(self, tx: Tx, events: Sequence[Event]) -> TargetState:
        keys, schemes = touched_keys(events)
        return TargetState(
            Rows(TARGETS, TARGETS.load(tx, keys)),
            Rows(TARGET_SCHEMES, TARGET_SCHEMES.load(tx, schemes)),
        )

    def fold(self, state: TargetState, event: Event) -> None:
        TARGET_FOLDS[event.event_type](state, event)


# --------------------------------------------------------------------------- effective at a date


def milestones_on(row: TargetRow, on: date) -> list[dict[str, Any]]:
    """Each milestone of ``row`` as of the date ``on``: PENDING while its date is after
    ``on``; otherwise MET if the latest progress reported as of a day on or before the
    milestone's date reaches fraction x target, else MISSED (also when nothing was reported
    by then). The verified value of that report's period is shown beside it."""
    target = exact(row.target_value)
    reports: list[dict[str, Any]] = orjson.loads(row.reports)
    verified: dict[str, Any] = orjson.loads(row.verifications)
    out = []
    for milestone in orjson.loads(row.milestones):
        day, fraction = str(milestone.get("date")), exact(milestone.get("fraction"))
        expected = None if target is None or fraction is None else fraction * target
        known = [r for r in reports if str(r.get("as_of")) <= day]
        last = max(known, key=lambda r: (str(r.get("as_of")), r["index"])) if known else None
        value = None if last is None else exact(last.get("value"))
        check = None if last is None else verified.get(str(last.get("period")))
        if day > on.isoformat():
            status = PENDING
        else:
            status = (
                MET if value is not None and expected is not None and value >= expected else MISSED
            )
        out.append(
            {
                "date": day,
                "fraction": milestone.get("fraction"),
                "expected": None if expected is None else ratio_text(expected),
                "reported": None if last is None else last.get("value"),
                "verified": None if check is None else check.get("verified_value"),
                "status": status,
            }
        )
    return out


# --------------------------------------------------------------------------- queries


def target_progress(
    store: ProjectionStore,
    *,
    scheme_id: str | None = None,
    assessee: str | None = None,
    agreement_id: str | None = None,
    kind: str | None = None,
    as_of: date | None = None,
    as_known_at_position: int | None = None,
    as_known_at_time: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> ReadModelPage:
    """Agreed indicators with their decomposition and progress, and self-assessments; with
    ``as_of`` each indicator lists its milestones met, missed or pending on that date."""
    if kind is not None and kind not in (INDICATOR, SELF_ASSESSMENT):
        raise QueryError(f"kind must be {INDICATOR} or {SELF_ASSESSMENT}", kind=kind)

    def extra(row: TargetRow) -> dict[str, Any]:
        if as_of is None or row.kind != INDICATOR:
            return {}
        states = milestones_on(row, as_of)
        missed = sum(1 for m in states if m["status"] == MISSED)
        return {"as_of": as_of.isoformat(), "milestone_status": states, "milestones_missed": missed}

    filters = [
        Filter("kind", kind),
        Filter("scheme_id", scheme_id),
        Filter("assessee", assessee),
        Filter("agreement_id", agreement_id),
    ]
    return read_page(
        store,
        NAME,
        TARGETS,
        position=as_known_at_position,
        time=as_known_at_time,
        filters=filters,
        limit=limit,
        after=after,
        extra=extra,
    )
