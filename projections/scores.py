"""The score table (``domain.md`` §6.5 ``ScoreTable``), bitemporal.

One versioned row per scheme and assessee (key ``{scheme_id}|{assessee}``), built from the
W10 agreement and the W15 assessment events (§4.15):

* per indicator, the agreed category and base points, the recorded result (target, actual,
  c = A / T, met) and the recorded score (base, bonus, deduction, final) with its
  ``formula_id`` / ``formula_version`` / ``inputs_sha256`` and the log index of the event that
  recorded it (the cause of the value);
* the organisation sub-items (O), the survey component (M), and the score adjustments
  (``PenaltyPointsApplied`` / ``BonusPointsApplied``) each with the ``cause_event_id`` it
  cites (SCO-2);
* the derived F-ANNUAL figures: T per category and in total, O, M, B, P and
  S = O + M + T + B - P, the failing indicators (the one-vote veto) and, once
  ``AssessmentConsolidated`` recorded it, the consolidated S and its difference from the
  table's S (``SCO-6``: a non-zero difference means the recorded ranking is not this table).

Sums are exact (:class:`~fractions.Fraction`) over the *stored* 4-decimal scores (§5.0) and
kept as canonical decimal strings (``"100.4"``); never binary floats. Facts never crash the
fold: a value that is not an exact number is kept as given and left out of the sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Self

import orjson

from ledger.domain.assessment_events import NUMBER
from ledger.domain.scoring_replay import points_text
from ledger.projections.base import Projection, State
from ledger.projections.events import Event
from ledger.projections.inspections import json_text
from ledger.projections.read_models import Filter, ReadModelPage, read_page
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

if TYPE_CHECKING:  # only for annotations: store.py imports this module to register it
    from ledger.projections.store import ProjectionStore

NAME = "scores"


def score_key(scheme_id: str, assessee: str) -> str:
    """The row key (``|`` does not occur in ids)."""
    return f"{scheme_id}|{assessee}"


def exact(value: Any) -> Fraction | None:
    """An exact number from a decimal or ratio string as the events spell them (``"12.8"``,
    ``"-2"``, ``"3/4"``; the catalogue's ``NUMBER``); ``None`` if it is not one."""
    if NUMBER(value) is not None:
        return None  # e.g. "1e3" or " 1": Fraction would read them, the ledger does not
    return Fraction(value)


def decimal_text(value: Fraction) -> str:
    """A canonical decimal string of a sum of stored scores (the fraction's text if it is
    not a finite 4-decimal value, which only malformed facts can produce)."""
    try:
        return points_text(value)
    except ValueError:
        return str(value)


def _total(values: Iterable[Any]) -> Fraction:
    return sum((v for v in map(exact, values) if v is not None), Fraction(0))


@dataclass(slots=True)
class ScoreRow:
    """One assessee's year in one scheme, as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("score_key", "TEXT NOT NULL"),
        ("scheme_id", "TEXT NOT NULL"),
        ("assessee", "TEXT NOT NULL"),
        ("agreement_id", "TEXT"),
        ("indicators", "TEXT NOT NULL"),
        ("category_points", "TEXT NOT NULL"),
        ("sub_items", "TEXT NOT NULL"),
        ("survey_id", "TEXT"),
        ("survey_composite", "TEXT"),
        ("adjustments", "TEXT NOT NULL"),
        ("organisation_points", "TEXT NOT NULL"),
        ("survey_points", "TEXT NOT NULL"),
        ("task_points", "TEXT NOT NULL"),
        ("bonus_points", "TEXT NOT NULL"),
        ("penalty_points", "TEXT NOT NULL"),
        ("annual_score", "TEXT NOT NULL"),
        ("failing_indicator_ids", "TEXT NOT NULL"),
        ("veto_applied", "BIGINT NOT NULL"),
        ("consolidated_score", "TEXT"),
        ("consolidated_rank", "BIGINT"),
        ("consolidated_index", "BIGINT"),
        ("difference", "TEXT"),
    )

    score_key: str
    scheme_id: str
    assessee: str
    agreement_id: str | None = None
    indicators: str = "{}"
    category_points: str = "{}"
    sub_items: str = "{}"
    survey_id: str | None = None
    survey_composite: str | None = None
    adjustments: str = "[]"
    organisation_points: str = "0"
    survey_points: str = "0"
    task_points: str = "0"
    bonus_points: str = "0"
    penalty_points: str = "0"
    annual_score: str = "0"
    failing_indicator_ids: str = "[]"
    veto_applied: int = 0
    consolidated_score: str | None = None
    consolidated_rank: int | None = None
    consolidated_index: int | None = None
    difference: str | None = None
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def derive(self) -> None:
        """Recompute F-ANNUAL from the stored parts: T per category and in total, O, M, B,
        P, S, the failing indicators and the difference from the consolidated S."""
        indicators: dict[str, dict[str, Any]] = orjson.loads(self.indicators)
        categories: dict[str, Fraction] = {}
        for item in indicators.values():
            final = exact(item.get("final"))
            if final is not None:
                category = str(item.get("category") or "")
                categories[category] = categories.get(category, Fraction(0)) + final
        adjustments: list[dict[str, Any]] = orjson.loads(self.adjustments)
        parts = {
            "organisation": _total(v.get("points") for v in orjson.loads(self.sub_items).values()),
            "survey": exact(self.survey_points) or Fraction(0),
            "tasks": sum(categories.values(), Fraction(0)),
            "bonus": _total(a["points"] for a in adjustments if a["kind"] == "BONUS"),
            "penalty": _total(a["points"] for a in adjustments if a["kind"] == "PENALTY"),
        }
        total = (parts["organisation"] + parts["survey"] + parts["tasks"] + parts["bonus"]) - parts[
            "penalty"
        ]
        self.category_points = json_text({k: decimal_text(v) for k, v in categories.items()})
        self.organisation_points = decimal_text(parts["organisation"])
        self.task_points = decimal_text(parts["tasks"])
        self.bonus_points = decimal_text(parts["bonus"])
        self.penalty_points = decimal_text(parts["penalty"])
        self.annual_score = decimal_text(total)
        failing = sorted(k for k, v in indicators.items() if v.get("met") is False)
        self.failing_indicator_ids = json_text(failing)
        recorded = exact(self.consolidated_score)
        self.difference = None if recorded is None else decimal_text(total - recorded)


SCORES = Table(
    "proj_scores",
    ScoreRow,
    versioned=True,
    indexes=("(scheme_id, score_key) WHERE known_to IS NULL",),
)


class ScoreState(State):
    """The working copy of the score table."""

    def __init__(self, rows: Rows[ScoreRow]) -> None:
        self.rows = rows

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.rows,)

    def row(self, scheme_id: str, assessee: str) -> ScoreRow:
        """The row of the assessee's year (created empty on first use)."""
        key = score_key(scheme_id, assessee)
        found = self.rows.get(key)
        if found is None:
            found = ScoreRow(key, scheme_id, assessee)
            self.rows.rows[key] = found
        return found

    def changed(self, row: ScoreRow, index: int) -> None:
        row.derive()
        self.rows.touch(row.score_key, index)


# --------------------------------------------------------------------------- pure folds


def _indicator_changed(row: ScoreRow, indicator_id: str, values: dict[str, Any]) -> None:
    """Merge ``values`` into the indicator's entry (later events replace earlier values)."""
    indicators: dict[str, dict[str, Any]] = orjson.loads(row.indicators)
    indicators[indicator_id] = indicators.get(indicator_id, {}) | values
    row.indicators = json_text(indicators)


def _agreement(state: ScoreState, ev: Event) -> None:
    p = ev.payload
    row = state.row(str(p.get("scheme_id")), str(p.get("agent_org_id")))
    row.agreement_id = ev.stream_id
    for spec in p.get("indicators") or []:
        _indicator_changed(
            row,
            str(spec.get("indicator_id")),
            {"category": spec.get("category"), "base_points": spec.get("base_points")},
        )
    state.changed(row, ev.index)


def _result(row: ScoreRow, p: dict[str, Any], ev: Event) -> None:
    values = {k: p.get(k) for k in ("target", "actual", "completion_ratio", "met")}
    _indicator_changed(row, str(p.get("indicator_id")), values | {"result_index": ev.index})


_SCORE_FIELDS = (
    "base",
    "bonus",
    "deduction",
    "final",
    "formula_id",
    "formula_version",
    "inputs_sha256",
    "peer_r_max",
    "discretionary_reason",
)


def _score(row: ScoreRow, p: dict[str, Any], ev: Event) -> None:
    values = {k: p.get(k) for k in _SCORE_FIELDS}
    _indicator_changed(row, str(p.get("indicator_id")), values | {"score_index": ev.index})


def _organisation(row: ScoreRow, p: dict[str, Any], ev: Event) -> None:
    sub_items: dict[str, Any] = orjson.loads(row.sub_items)
    sub_items[str(p.get("sub_item"))] = {
        "points": p.get("points"),
        "inspection_id": p.get("inspection_id"),
        "index": ev.index,
    }
    row.sub_items = json_text(sub_items)


def _survey(row: ScoreRow, p: dict[str, Any], _ev: Event) -> None:
    row.survey_id = p.get("survey_id")
    row.survey_composite = p.get("composite")
    points = exact(p.get("points"))
    row.survey_points = "0" if points is None else decimal_text(points)


def _adjustment(kind: str) -> Callable[[ScoreRow, dict[str, Any], Event], None]:
    def apply(row: ScoreRow, p: dict[str, Any], ev: Event) -> None:
        items: list[dict[str, Any]] = orjson.loads(row.adjustments)
        cause = p.get("cause_event_id")
        if any(a["kind"] == kind and a["cause_event_id"] == cause for a in items):
            return  # one cause counts once per scheme (SCO-2)
        items.append({"kind": kind, "points": p.get("points"), "cause_event_id": cause})
        items[-1]["index"] = ev.index
        row.adjustments = json_text(items)

    return apply


def _veto(row: ScoreRow, _p: dict[str, Any], _ev: Event) -> None:
    row.veto_applied = 1


def _on_year(
    apply: Callable[[ScoreRow, dict[str, Any], Event], None],
) -> Callable[[ScoreState, Event], None]:
    def fold(state: ScoreState, ev: Event) -> None:
        p = ev.payload
        row = state.row(str(p.get("scheme_id")), str(p.get("assessee")))
        apply(row, p, ev)
        state.changed(row, ev.index)

    return fold


def _consolidated(state: ScoreState, ev: Event) -> None:
    scheme_id = str(ev.payload.get("scheme_id"))
    for rank, item in enumerate(ev.payload.get("ranking") or [], start=1):
        row = state.row(scheme_id, str(item.get("assessee")))
        row.consolidated_score = item.get("S")
        row.consolidated_rank = rank
        row.consolidated_index = ev.index
        state.changed(row, ev.index)


SCORE_FOLDS: dict[str, Callable[[ScoreState, Event], None]] = {
    "TargetResponsibilityAgreementSigned": _agreement,
    "IndicatorResultRecorded": _on_year(_result),
    "IndicatorScoreRecorded": _on_year(_score),
    "OrganisationImplementationScored": _on_year(_organisation),
    "SurveyScoreRecorded": _on_year(_survey),
    "PenaltyPointsApplied": _on_year(_adjustment("PENALTY")),
    "BonusPointsApplied": _on_year(_adjustment("BONUS")),
    "VetoApplied": _on_year(_veto),
    "AssessmentConsolidated": _consolidated,
}


def touched_keys(events: Iterable[Event]) -> set[str]:
    """The row keys a page of events may read or change."""
    keys: set[str] = set()
    for ev in events:
        p = ev.payload
        scheme_id = str(p.get("scheme_id"))
        if ev.event_type == "TargetResponsibilityAgreementSigned":
            keys.add(score_key(scheme_id, str(p.get("agent_org_id"))))
        elif ev.event_type == "AssessmentConsolidated":
            keys.update(
                score_key(scheme_id, str(r.get("assessee"))) for r in p.get("ranking") or []
            )
        elif ev.event_type in SCORE_FOLDS:
            keys.add(score_key(scheme_id, str(p.get("assessee"))))
    return keys


class ScoreTableProjection(Projection[ScoreState]):
    """The ``ScoreTable`` projection."""

    name = NAME
    version = 1
    types = frozenset(SCORE_FOLDS)
    tables = (SCORES,)

    def empty(self) -> ScoreState:
        return ScoreState(Rows(SCORES))

    def load(self, tx: Tx, events: Sequence[Event]) -> ScoreState:
        return ScoreState(Rows(SCORES, SCORES.load(tx, touched_keys(events))))

    def fold(self, state: ScoreState, event: Event) -> None:
        SCORE_FOLDS[event.event_type](state, event)


# --------------------------------------------------------------------------- queries


def score_table(
    store: ProjectionStore,
    *,
    scheme_id: str | None = None,
    assessee: str | None = None,
    as_known_at_position: int | None = None,
    as_known_at_time: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> ReadModelPage:
    """The score table: per scheme and assessee the indicator scores with their formulas and
    causes, O, M, T, B, P, S, the veto and the difference from the consolidated S."""
    return read_page(
        store,
        NAME,
        SCORES,
        position=as_known_at_position,
        time=as_known_at_time,
        filters=[Filter("scheme_id", scheme_id), Filter("assessee", assessee)],
        limit=limit,
        after=after,
    )
