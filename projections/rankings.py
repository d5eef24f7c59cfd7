"""Rankings, awards and sanctions (``domain.md`` §6.5 ``Ranking`` and ``AwardsAndSanctions``),
bitemporal.

One versioned table with three kinds of row:

``SCHEME`` (key ``S|{scheme_id}``)
    the consolidated ranking as recorded (``AssessmentConsolidated``: S, O, M, T, B, P, veto
    per assessee, best first), the tie-break decisions (``TieBrokenByDecision``), the order
    F-RANK gives on the recorded figures (S desc, T desc, P asc, then the decisions:
    :func:`ledger.domain.scoring_rank.rank_order`) and whether it equals the recorded order
    (SCO-6), the proposed award lists and the log indexes of the proposal, the leading
    group's approval and the government's ratification (AWD-5), and period rankings (W16).
``ASSESSEE`` (key ``A|{scheme_id}|{assessee}``)
    the unit's rank and S, veto (``VetoApplied``), awards granted, last place, grade, award
    eligibility revoked (AWD-7), cash rewards and fines (AWD-6, integer fen).
``ORGANISATION`` (key ``O|{org_id}``)
    sanctions on the unit's ``assessment`` stream that name no scheme: warnings,
    accountability referrals, admonitions, public self-criticism, each with its causes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Self

import orjson

from ledger.domain.scoring_rank import RankInput, rank_order
from ledger.projections.base import Projection, State
from ledger.projections.errors import QueryError
from ledger.projections.events import Event, fen
from ledger.projections.inspections import json_text
from ledger.projections.read_models import Filter, ReadModelPage, read_page
from ledger.projections.scores import ScoreTableProjection, exact
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table
from ledger.projections.targets import TargetProgressProjection

if TYPE_CHECKING:  # only for annotations: store.py imports this module to register it
    from ledger.projections.store import ProjectionStore

NAME = "rankings"
SCHEME, ASSESSEE, ORGANISATION = "SCHEME", "ASSESSEE", "ORGANISATION"


def scheme_key(scheme_id: str) -> str:
    return f"S|{scheme_id}"


def assessee_key(scheme_id: str, assessee: str) -> str:
    return f"A|{scheme_id}|{assessee}"


def organisation_key(org_id: str) -> str:
    return f"O|{org_id}"


@dataclass(slots=True)
class AwardRow:
    """One scheme, one assessee's year in a scheme, or one organisation (see ``kind``)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("award_key", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("scheme_id", "TEXT"),
        ("subject", "TEXT"),
        ("year", "BIGINT"),
        ("ranking", "TEXT NOT NULL"),
        ("consolidated_index", "BIGINT"),
        ("tie_decisions", "TEXT NOT NULL"),
        ("recomputed_order", "TEXT NOT NULL"),
        ("order_matches", "BIGINT"),
        ("proposal", "TEXT"),
        ("proposed_index", "BIGINT"),
        ("approved_index", "BIGINT"),
        ("ratified_index", "BIGINT"),
        ("period_rankings", "TEXT NOT NULL"),
        ("rank", "BIGINT"),
        ("annual_score", "TEXT"),
        ("vetoed", "BIGINT NOT NULL"),
        ("failing_indicator_ids", "TEXT NOT NULL"),
        ("awards", "TEXT NOT NULL"),
        ("last_place", "BIGINT NOT NULL"),
        ("grade", "TEXT"),
        ("revoked", "BIGINT NOT NULL"),
        ("revocation_causes", "TEXT NOT NULL"),
        ("cash", "TEXT NOT NULL"),
        ("rewards_fen", "BIGINT NOT NULL"),
        ("fines_fen", "BIGINT NOT NULL"),
        ("sanctions", "TEXT NOT NULL"),
    )

    award_key: str
    kind: str
    scheme_id: str | None = None
    subject: str | None = None
    year: int | None = None
    ranking: str = "[]"
    consolidated_index: int | None = None
    tie_decisions: str = "[]"
    recomputed_order: str = "[]"
    order_matches: int | None = None
    proposal: str | None = None
    proposed_index: int | None = None
    approved_index: int | None = None
    ratified_index: int | None = None
    period_rankings: str = "{}"
    rank: int | None = None
    annual_score: str | None = None
    vetoed: int = 0
    failing_indicator_ids: str = "[]"
    awards: str = "[]"
    last_place: int = 0
    grade: str | None = None
    revoked: int = 0
    revocation_causes: str = "[]"
    cash: str = "[]"
    rewards_fen: int = 0
    fines_fen: int = 0
    sanctions: str = "[]"
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


AWARDS = Table(
    "proj_rankings",
    AwardRow,
    versioned=True,
    indexes=("(kind, scheme_id, award_key) WHERE known_to IS NULL",),
)


class AwardState(State):
    """The working copy of the rankings table."""

    def __init__(self, rows: Rows[AwardRow]) -> None:
        self.rows = rows

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.rows,)

    def _row(self, key: str, make: Callable[[], AwardRow]) -> AwardRow:
        found = self.rows.get(key)
        if found is None:
            found = make()
            self.rows.rows[key] = found
        return found

    def scheme(self, scheme_id: str) -> AwardRow:
        key = scheme_key(scheme_id)
        return self._row(key, lambda: AwardRow(key, SCHEME, scheme_id))

    def assessee(self, scheme_id: str, assessee: str) -> AwardRow:
        key = assessee_key(scheme_id, assessee)
        return self._row(key, lambda: AwardRow(key, ASSESSEE, scheme_id, assessee))

    def organisation(self, org_id: str) -> AwardRow:
        key = organisation_key(org_id)
        return self._row(key, lambda: AwardRow(key, ORGANISATION, None, org_id))

    def touch(self, row: AwardRow, index: int) -> None:
        self.rows.touch(row.award_key, index)


# --------------------------------------------------------------------------- the recomputation


def decided_order(decisions: list[dict[str, Any]]) -> list[str]:
    """The tie-break orders flattened, later decisions first (they refine earlier ones), as
    the domain reads them."""
    seen: list[str] = []
    for decision in reversed(decisions):
        seen += [a for a in decision.get("order") or [] if a not in seen]
    return seen


def recomputed_order(ranking: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> list[str]:
    """F-RANK's order of the recorded rows (S desc, T desc, P asc, decisions, id)."""
    items = [
        RankInput(
            assessee=str(r.get("assessee")),
            score=exact(r.get("S")) or Fraction(0),
            tasks=exact(r.get("T")) or Fraction(0),
            penalty=exact(r.get("P")) or Fraction(0),
        )
        for r in ranking
    ]
    return [x.assessee for x in rank_order(items, decided_order(decisions))]


def _rerank(row: AwardRow) -> None:
    ranking: list[dict[str, Any]] = orjson.loads(row.ranking)
    if not ranking:
        return
    order = recomputed_order(ranking, orjson.loads(row.tie_decisions))
    row.recomputed_order = json_text(order)
    row.order_matches = int(order == [str(r.get("assessee")) for r in ranking])


# --------------------------------------------------------------------------- pure folds


def _published(state: AwardState, ev: Event) -> None:
    year = ev.payload.get("year")
    row = state.scheme(str(ev.payload.get("scheme_id")))
    row.year = year if isinstance(year, int) else None
    state.touch(row, ev.index)


def _consolidated(state: AwardState, ev: Event) -> None:
    scheme_id = str(ev.payload.get("scheme_id"))
    ranking = list(ev.payload.get("ranking") or [])
    row = state.scheme(scheme_id)
    row.ranking = json_text(ranking)
    row.consolidated_index = ev.index
    _rerank(row)
    state.touch(row, ev.index)
    for position, item in enumerate(ranking, start=1):
        unit = state.assessee(scheme_id, str(item.get("assessee")))
        unit.rank = position
        unit.annual_score = item.get("S")
        unit.vetoed = max(unit.vetoed, int(item.get("vetoed") is True))
        failing = set(orjson.loads(unit.failing_indicator_ids))
        unit.failing_indicator_ids = json_text(
            sorted(failing | set(item.get("failing_indicator_ids") or []))
        )
        state.touch(unit, ev.index)


def _tie(state: AwardState, ev: Event) -> None:
    row = state.scheme(str(ev.payload.get("scheme_id")))
    decisions: list[dict[str, Any]] = orjson.loads(row.tie_decisions)
    decisions.append(
        {"tied": ev.payload.get("tied"), "order": ev.payload.get("order"), "index": ev.index}
    )
    row.tie_decisions = json_text(decisions)
    _rerank(row)
    state.touch(row, ev.index)


def _proposed(state: AwardState, ev: Event) -> None:
    p = ev.payload
    row = state.scheme(str(p.get("scheme_id")))
    lists = ("comprehensive", "single_item", "last_place", "individuals")
    row.proposal = json_text({name: p.get(name) or [] for name in lists})
    row.proposed_index = ev.index
    state.touch(row, ev.index)


def _step(column: str) -> Callable[[AwardState, Event], None]:
    def fold(state: AwardState, ev: Event) -> None:
        row = state.scheme(str(ev.payload.get("scheme_id")))
        setattr(row, column, ev.index)
        state.touch(row, ev.index)

    return fold


def _period_ranking(state: AwardState, ev: Event) -> None:
    row = state.scheme(str(ev.payload.get("scheme_id")))
    periods: dict[str, Any] = orjson.loads(row.period_rankings)
    periods[str(ev.payload.get("period"))] = {
        "ranking": ev.payload.get("ranking") or [],
        "index": ev.index,
    }
    row.period_rankings = json_text(periods)
    state.touch(row, ev.index)


def _appended(text: str, item: dict[str, Any]) -> str:
    items: list[Any] = orjson.loads(text)
    items.append(item)
    return json_text(items)


def _veto(unit: AwardRow, p: dict[str, Any], _ev: Event) -> None:
    unit.vetoed = 1
    failing = set(orjson.loads(unit.failing_indicator_ids)) | set(
        p.get("failing_indicator_ids") or []
    )
    unit.failing_indicator_ids = json_text(sorted(failing))


def _award(unit: AwardRow, p: dict[str, Any], ev: Event) -> None:
    award = {k: p.get(k) for k in ("award_type", "category", "person_ref", "basis_event_ids")}
    unit.awards = _appended(unit.awards, award | {"index": ev.index})


def _last_place(unit: AwardRow, _p: dict[str, Any], _ev: Event) -> None:
    unit.last_place = 1


def _grade(unit: AwardRow, p: dict[str, Any], _ev: Event) -> None:
    unit.grade = p.get("grade")


def _revoked(unit: AwardRow, p: dict[str, Any], _ev: Event) -> None:
    unit.revoked = 1
    causes = set(orjson.loads(unit.revocation_causes)) | set(p.get("cause_event_ids") or [])
    unit.revocation_causes = json_text(sorted(causes))


def _cash(kind: str) -> Callable[[AwardRow, dict[str, Any], Event], None]:
    def apply(unit: AwardRow, p: dict[str, Any], ev: Event) -> None:
        amount = fen(p)
        entry = {
            "kind": kind,
            "amount_fen": amount,
            "position": p.get("position"),
            "ranking_event_id": p.get("ranking_event_id"),
            "index": ev.index,
        }
        unit.cash = _appended(unit.cash, entry)
        if kind == "REWARD":
            unit.rewards_fen += amount
        else:
            unit.fines_fen += amount

    return apply


def _on_assessee(
    apply: Callable[[AwardRow, dict[str, Any], Event], None],
) -> Callable[[AwardState, Event], None]:
    def fold(state: AwardState, ev: Event) -> None:
        p = ev.payload
        unit = state.assessee(str(p.get("scheme_id")), str(p.get("assessee")))
        apply(unit, p, ev)
        state.touch(unit, ev.index)

    return fold


def _sanction(state: AwardState, ev: Event) -> None:
    p = ev.payload
    row = state.organisation(str(p.get("target_org_id")))
    entry = {
        "type": ev.event_type,
        "persons": p.get("persons"),
        "referred_to_org_id": p.get("referred_to_org_id"),
        "cause_event_ids": p.get("cause_event_ids") or [],
        "recorded_at": ev.recorded_at,
        "index": ev.index,
    }
    row.sanctions = _appended(row.sanctions, entry)
    state.touch(row, ev.index)


SANCTIONS = (
    "WarningIssued",
    "AccountabilityReferred",
    "AdmonitionHeld",
    "PublicSelfCriticismRequired",
)

AWARD_FOLDS: dict[str, Callable[[AwardState, Event], None]] = {
    "AssessmentSchemePublished": _published,
    "AssessmentConsolidated": _consolidated,
    "TieBrokenByDecision": _tie,
    "AdvancedListProposed": _proposed,
    "AssessmentResultsApproved": _step("approved_index"),
    "AwardsRatified": _step("ratified_index"),
    "PeriodRankingPublished": _period_ranking,
    "VetoApplied": _on_assessee(_veto),
    "AwardGranted": _on_assessee(_award),
    "LastPlaceDesignated": _on_assessee(_last_place),
    "GradeAssigned": _on_assessee(_grade),
    "AwardEligibilityRevoked": _on_assessee(_revoked),
    "MonetaryRewardGranted": _on_assessee(_cash("REWARD")),
    "MonetaryPenaltyImposed": _on_assessee(_cash("FINE")),
    **dict.fromkeys(SANCTIONS, _sanction),
}
_SCHEME_EVENTS = frozenset(
    {
        "AssessmentSchemePublished",
        "TieBrokenByDecision",
        "AdvancedListProposed",
        "AssessmentResultsApproved",
        "AwardsRatified",
        "PeriodRankingPublished",
    }
)


def touched_keys(events: Iterable[Event]) -> set[str]:
    """The row keys a page of events may read or change."""
    keys: set[str] = set()
    for ev in events:
        p = ev.payload
        scheme_id = str(p.get("scheme_id"))
        if ev.event_type == "AssessmentConsolidated":
            keys.add(scheme_key(scheme_id))
            keys.update(
                assessee_key(scheme_id, str(r.get("assessee"))) for r in p.get("ranking") or []
            )
        elif ev.event_type in _SCHEME_EVENTS:
            keys.add(scheme_key(scheme_id))
        elif ev.event_type in SANCTIONS:
            keys.add(organisation_key(str(p.get("target_org_id"))))
        elif ev.event_type in AWARD_FOLDS:
            keys.add(assessee_key(scheme_id, str(p.get("assessee"))))
    return keys


class RankingsProjection(Projection[AwardState]):
    """The ``Ranking`` and ``AwardsAndSanctions`` projection."""

    name = NAME
    version = 1
    types = frozenset(AWARD_FOLDS)
    tables = (AWARDS,)

    def empty(self) -> AwardState:
        return AwardState(Rows(AWARDS))

    def load(self, tx: Tx, events: Sequence[Event]) -> AwardState:
        return AwardState(Rows(AWARDS, AWARDS.load(tx, touched_keys(events))))

    def fold(self, state: AwardState, event: Event) -> None:
        AWARD_FOLDS[event.event_type](state, event)


# --------------------------------------------------------------------------- queries


SCHEME_COLUMNS = (
    "award_key",
    "kind",
    "scheme_id",
    "year",
    "ranking",
    "consolidated_index",
    "tie_decisions",
    "recomputed_order",
    "order_matches",
    "proposal",
    "proposed_index",
    "approved_index",
    "ratified_index",
    "period_rankings",
    "known_from",
)
"""The columns a SCHEME row fills (the others belong to assessees and organisations)."""
UNIT_COLUMNS = (
    "award_key",
    "kind",
    "scheme_id",
    "subject",
    "rank",
    "annual_score",
    "vetoed",
    "failing_indicator_ids",
    "awards",
    "last_place",
    "grade",
    "revoked",
    "revocation_causes",
    "cash",
    "rewards_fen",
    "fines_fen",
    "sanctions",
    "known_from",
)
"""The columns an ASSESSEE or ORGANISATION row fills."""


def _only(page: ReadModelPage, columns: tuple[str, ...]) -> ReadModelPage:
    """``page`` with each row cut to ``columns`` (the ones its kind fills)."""
    rows = [{name: row[name] for name in columns} for row in page.rows]
    return replace(page, rows=rows)


def rankings(
    store: ProjectionStore,
    *,
    scheme_id: str | None = None,
    as_known_at_position: int | None = None,
    as_known_at_time: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> ReadModelPage:
    """One row per scheme: the consolidated ranking as recorded, F-RANK's order of it and
    whether they agree, tie-break decisions, the proposed lists and their approval."""
    page = read_page(
        store,
        NAME,
        AWARDS,
        position=as_known_at_position,
        time=as_known_at_time,
        filters=[Filter("kind", SCHEME), Filter("scheme_id", scheme_id)],
        limit=limit,
        after=after,
    )
    return _only(page, SCHEME_COLUMNS)


def awards_and_sanctions(
    store: ProjectionStore,
    *,
    scheme_id: str | None = None,
    subject: str | None = None,
    kind: str | None = None,
    as_known_at_position: int | None = None,
    as_known_at_time: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> ReadModelPage:
    """Per assessee of a scheme its rank, veto, awards, last place, grade, revocation and
    cash (``kind`` ASSESSEE), and per organisation its sanctions (``kind`` ORGANISATION);
    ``subject`` is the assessee or organisation id."""
    if kind is not None and kind not in (ASSESSEE, ORGANISATION):
        raise QueryError(f"kind must be {ASSESSEE} or {ORGANISATION}", kind=kind)
    filters = [
        Filter("kind", SCHEME, "!="),
        Filter("kind", kind),
        Filter("scheme_id", scheme_id),
        Filter("subject", subject),
    ]
    page = read_page(
        store,
        NAME,
        AWARDS,
        position=as_known_at_position,
        time=as_known_at_time,
        filters=filters,
        limit=limit,
        after=after,
    )
    return _only(page, UNIT_COLUMNS)


def assessment_projections() -> tuple[Projection[Any], ...]:
    """The assessment read models: score table, rankings with awards and sanctions, target
    progress (registered in the store's default list)."""
    return (ScoreTableProjection(), RankingsProjection(), TargetProgressProjection())
