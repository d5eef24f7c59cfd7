"""What the assessment rules keep in :class:`~ledger.domain.model.DomainState` (W10-W16).

Everything a recomputation needs is here, so that a refusal can name the expected and the
recorded value: the scheme in force, each assessee's agreement and indicators, results, scores,
organisation points, survey points, cited point adjustments and revoked eligibility.

Tables:

* ``asm.schemes``: scheme id → :class:`Scheme`
* ``asm.agreements``: agreement id → :class:`Agreement`
* ``asm.assessees``: scheme id → tuple of (assessee, agreement id), in signing order
* ``asm.years``: (scheme id, assessee) → :class:`AssesseeRecord`
* ``asm.peer_results``: (scheme id, indicator id) → tuple of assessees with a result
* ``asm.used_causes``: (scheme id, cause event id) → the adjustment event that used it
* ``asm.rankings``: ranking event id → :class:`PublishedRanking` (consolidated or periodic)
* ``asm.revoked``: (assessee, year) → the revoking event id
* ``asm.cash``: (ranking event id, assessee) → ``"REWARD"`` or ``"FINE"`` event id pair
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from ledger.domain.model import DomainEvent, DomainState, Table, refuse, require
from ledger.domain.scoring import IndicatorInput
from ledger.domain.scoring_replay import AssesseeYear
from ledger.domain.scoring_scheme import SchemeConfig

SCHEMES = "asm.schemes"
AGREEMENTS = "asm.agreements"
ASSESSEES = "asm.assessees"
YEARS = "asm.years"
PEER_RESULTS = "asm.peer_results"
USED_CAUSES = "asm.used_causes"
RANKINGS = "asm.rankings"
REVOKED = "asm.revoked"
CASH = "asm.cash"

V = TypeVar("V")
Pairs = tuple[tuple[str, V], ...]


def with_pair(pairs: Pairs[V], key: str, value: V) -> Pairs[V]:
    """``pairs`` with ``key`` set to ``value`` (replacing an earlier value, keeping order)."""
    kept = tuple((k, v) for k, v in pairs if k != key)
    return (*kept, (key, value))


def pair(pairs: Pairs[V], key: str) -> V | None:
    """The value of ``key`` in ``pairs``, if any."""
    for k, v in pairs:
        if k == key:
            return v
    return None


@dataclass(frozen=True, slots=True)
class Proposal:
    """An ``AdvancedListProposed`` (what ratified awards must come from)."""

    comprehensive: tuple[str, ...]
    single_item: tuple[tuple[str, str], ...]
    """(category, assessee) pairs."""
    last_place: tuple[str, ...]
    individuals: tuple[tuple[str, str], ...]
    """(org id, person ref) pairs."""


@dataclass(frozen=True, slots=True)
class Scheme:
    """A published scheme and the milestones of its year-end assessment."""

    config: SchemeConfig
    event_id: str
    consolidated_event_id: str | None = None
    consolidated_rows: tuple[tuple[tuple[str, object], ...], ...] = ()
    """The consolidated ranking rows in canonical form (what the award lists must still fit)."""
    tie_orders: tuple[tuple[str, ...], ...] = ()
    proposal_event_id: str | None = None
    proposal: Proposal | None = None
    approval_event_id: str | None = None
    ratified_event_id: str | None = None

    @property
    def decided_order(self) -> tuple[str, ...]:
        """The tie-break decisions flattened, later decisions first (they refine earlier)."""
        seen: list[str] = []
        for order in reversed(self.tie_orders):
            seen += [a for a in order if a not in seen]
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator of an agreement."""

    indicator_id: str
    category: str
    target: Fraction
    base_points: Fraction
    bonus_eligible: bool
    measurable_by_ratio: bool
    scopes: tuple[str, ...]
    milestones: tuple[tuple[str, Fraction], ...]
    """(date ``YYYY-MM-DD``, fraction of the target) pairs."""


@dataclass(frozen=True, slots=True)
class Agreement:
    """A signed target-responsibility agreement; the agent is the assessee."""

    agreement_id: str
    scheme_id: str
    principal_org_id: str
    agent_org_id: str
    indicators: Pairs[IndicatorSpec]
    decompositions: Pairs[tuple[tuple[str, Fraction], ...]] = ()
    """Parent indicator id → (child org, child target) assignments."""
    progress: Pairs[Fraction] = ()
    """``"{indicator}@{period}"`` → latest reported value."""


@dataclass(frozen=True, slots=True)
class Result:
    """An ``IndicatorResultRecorded``."""

    target: Fraction
    actual: Fraction
    met: bool
    event_id: str


@dataclass(frozen=True, slots=True)
class RecordedScore:
    """An ``IndicatorScoreRecorded`` (the values as recorded)."""

    bonus: Decimal
    deduction: Decimal
    final: Decimal
    discretionary: Fraction
    event_id: str


@dataclass(frozen=True, slots=True)
class AssesseeRecord:
    """One assessee's year in one scheme, as recorded so far."""

    scheme_id: str
    assessee: str
    sub_items: Pairs[Fraction] = ()
    survey_points: Fraction | None = None
    results: Pairs[Result] = ()
    scores: Pairs[RecordedScore] = ()
    penalty: Fraction = Fraction(0)
    bonus_points: Fraction = Fraction(0)
    self_assessments: Pairs[str] = ()
    """Round → the self-assessment event id (latest)."""


@dataclass(frozen=True, slots=True)
class PublishedRanking:
    """A consolidated or periodic ranking, best first, as the cash rules read it."""

    scheme_id: str
    order: tuple[str, ...]


# --- accessors -----------------------------------------------------------------------------------


def schemes(state: DomainState) -> Table[str, Scheme]:
    return state.table(SCHEMES)


def agreements(state: DomainState) -> Table[str, Agreement]:
    return state.table(AGREEMENTS)


def years(state: DomainState) -> Table[tuple[str, str], AssesseeRecord]:
    return state.table(YEARS)


def year_id(scheme_id: str, assessee: str) -> str:
    """The ``assessment_year`` stream id of an assessee in a scheme."""
    return f"{scheme_id}:{assessee}"


def require_scheme(state: DomainState, event: DomainEvent) -> Scheme:
    """The scheme the payload names; refuses ENV-8 when it was never published."""
    scheme_id = event.payload["scheme_id"]
    found = schemes(state).get(scheme_id)
    if found is None:
        raise refuse(
            "ENV-8",
            f"{event.event_type} names scheme {scheme_id}, which was never published",
            scheme_id=scheme_id,
        )
    return found


def require_year_stream(event: DomainEvent) -> None:
    """Per-assessee events go on the ``{scheme_id}:{assessee}`` stream (ENV-8)."""
    expected = year_id(event.payload["scheme_id"], event.payload["assessee"])
    require(
        event.stream_id == expected,
        "ENV-8",
        f"{event.event_type} for {event.payload['assessee']} in scheme "
        f"{event.payload['scheme_id']} belongs on stream {expected}, not {event.stream_id}",
        expected_stream_id=expected,
        stream_id=event.stream_id,
    )


def agreement_of(state: DomainState, scheme_id: str, assessee: str) -> Agreement | None:
    """The assessee's agreement in the scheme, if it signed one."""
    listed: tuple[tuple[str, str], ...] = state.table(ASSESSEES).get(scheme_id) or ()
    agreement_id = pair(listed, assessee)
    return None if agreement_id is None else agreements(state).get(agreement_id)


def assessees(state: DomainState, scheme_id: str) -> tuple[str, ...]:
    """Every assessee with an agreement in the scheme, in signing order."""
    listed: tuple[tuple[str, str], ...] = state.table(ASSESSEES).get(scheme_id) or ()
    return tuple(a for a, _ in listed)


def record_of(state: DomainState, scheme_id: str, assessee: str) -> AssesseeRecord:
    """The assessee's record (an empty one before anything was recorded)."""
    return years(state).get((scheme_id, assessee)) or AssesseeRecord(scheme_id, assessee)


def put_record(state: DomainState, record: AssesseeRecord) -> None:
    """Store the assessee's new record (records are immutable: build it with ``replace``)."""
    years(state).put((record.scheme_id, record.assessee), record)


def indicator_input(
    assessee: str, spec: IndicatorSpec, result: Result, discretionary: Fraction = Fraction(0)
) -> IndicatorInput:
    """The F-BONUS / F-SHORT inputs of one recorded result."""
    return IndicatorInput(
        assessee=assessee,
        indicator_id=spec.indicator_id,
        target=result.target,
        actual=result.actual,
        base_points=spec.base_points,
        bonus_eligible=spec.bonus_eligible,
        measurable_by_ratio=spec.measurable_by_ratio,
        met_if_not_ratio=result.met,
        discretionary=discretionary,
        category=spec.category,
    )


def peer_inputs(state: DomainState, scheme_id: str, indicator_id: str) -> list[IndicatorInput]:
    """The recorded results of every assessee on one indicator (the F-BONUS peer group)."""
    peers: tuple[str, ...] = state.table(PEER_RESULTS).get((scheme_id, indicator_id)) or ()
    inputs = []
    for assessee in peers:
        agreement = agreement_of(state, scheme_id, assessee)
        result = pair(record_of(state, scheme_id, assessee).results, indicator_id)
        spec = None if agreement is None else pair(agreement.indicators, indicator_id)
        if spec is not None and result is not None:
            inputs.append(indicator_input(assessee, spec, result))
    return inputs


def assessee_year(state: DomainState, scheme_id: str, assessee: str, year: int) -> AssesseeYear:
    """The plain recomputation inputs of one assessee (every indicator must have a result)."""
    record = record_of(state, scheme_id, assessee)
    agreement = agreement_of(state, scheme_id, assessee)
    indicators = []
    for indicator_id, spec in agreement.indicators if agreement else ():
        result = pair(record.results, indicator_id)
        score = pair(record.scores, indicator_id)
        if result is not None:
            cut = score.discretionary if score is not None else Fraction(0)
            indicators.append(indicator_input(assessee, spec, result, cut))
    return AssesseeYear(
        assessee=assessee,
        sub_item_points=dict(record.sub_items),
        survey_points=record.survey_points or Fraction(0),
        indicators=indicators,
        penalty=record.penalty,
        bonus_points=record.bonus_points,
        revoked=(assessee, year) in state.table(REVOKED),
    )
