"""SCO-8 (soft → ``AF-INS-TOO-FEW``): an inspection-based annual score needs at least
``min_inspections`` scored inspections (``domain.md`` §5.6 F-INSP, N-SV-5: "每年不少于4次").

Where the annual score is recorded: a ``GradeAssigned`` is the year-end overall evaluation
(年終總評) of a scheme, graded by the F-INSP grade rule. A scheme is *inspection-based* when
inspections are planned under it (``InspectionPlanned.scheme_id``) or when its cadence is
published (``InspectionCadencePublished``); for such a scheme, a grade of an assessee with
fewer scored inspections (``InspectionScoreRecorded`` for that assessee under the scheme)
than the minimum is recorded and noted, citing the count and the rule's source.

The minimum is the scheme's ``InspectionCadencePublished``, else :data:`DEFAULT_MIN_INSPECTIONS`.
This module only adds apply functions beside the owners' (:mod:`supervision_inspections`,
:mod:`assessment_results`): it keeps its own counts.

Tables: ``sla.inspection_schemes`` (inspection id → scheme id), ``sla.scored_inspections``
((scheme id, org id) → inspection ids), ``sla.cadences`` (scheme id → :class:`Cadence`),
``sla.inspected_schemes`` (scheme id → its first planned inspection).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.assessment_state import require_scheme
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    note_soft_finding,
    require,
)

INSPECTION_SCHEMES = "sla.inspection_schemes"
SCORED = "sla.scored_inspections"
CADENCES = "sla.cadences"
INSPECTED = "sla.inspected_schemes"

DEFAULT_MIN_INSPECTIONS = 4
"""004 篇三 (N-SV-5): at least 4 unscheduled checks a year, when no cadence is published."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """The minimum of scored inspections for a scheme; ``event_id`` ``None``: the default."""

    min_inspections: int = DEFAULT_MIN_INSPECTIONS
    event_id: str | None = None


def _schemes(state: DomainState) -> Table[str, str]:
    return state.table(INSPECTION_SCHEMES)


def _scored(state: DomainState) -> Table[tuple[str, str], tuple[str, ...]]:
    return state.table(SCORED)


def _cadences(state: DomainState) -> Table[str, Cadence]:
    return state.table(CADENCES)


def _inspected(state: DomainState) -> Table[str, str]:
    """Scheme id → the first inspection planned under it."""
    return state.table(INSPECTED)


def scored_inspections(state: DomainState, scheme_id: str, org_id: str) -> tuple[str, ...]:
    """The inspections under ``scheme_id`` that scored ``org_id``."""
    return _scored(state).get((scheme_id, org_id)) or ()


def is_inspection_based(state: DomainState, scheme_id: str) -> bool:
    """Inspections are planned under the scheme, or its cadence is published."""
    return scheme_id in _cadences(state) or scheme_id in _inspected(state)


def decide_cadence(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """Published for a published scheme, on the scheme's cadence stream."""
    require_scheme(state, event)
    scheme_id = event.payload["scheme_id"]
    require(
        event.stream_id == scheme_id,
        "ENV-8",
        f"the cadence of {scheme_id} goes on inspection_cadence stream {scheme_id}, not "
        f"{event.stream_id}",
        scheme_id=scheme_id,
    )


def apply_cadence(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _cadences(state).put(p["scheme_id"], Cadence(p["min_inspections"], event.event_id))


def apply_planned(state: DomainState, event: DomainEvent) -> None:
    scheme_id = event.payload["scheme_id"]
    if scheme_id is None:
        return
    _schemes(state).put(event.payload["inspection_id"], scheme_id)
    if scheme_id not in _inspected(state):
        _inspected(state).put(scheme_id, event.payload["inspection_id"])


def apply_scored(state: DomainState, event: DomainEvent) -> None:
    scheme_id = _schemes(state).get(event.stream_id)
    if scheme_id is None:
        return
    key = (scheme_id, event.payload["target_org_id"])
    _scored(state).put(key, (*scored_inspections(state, *key), event.stream_id))


def apply_grade(state: DomainState, event: DomainEvent) -> None:
    """SCO-8: note a grade of an inspection-based scheme built on too few inspections."""
    scheme_id, assessee = event.payload["scheme_id"], event.payload["assessee"]
    if not is_inspection_based(state, scheme_id):
        return
    cadence = _cadences(state).get(scheme_id) or Cadence()
    scored = scored_inspections(state, scheme_id, assessee)
    if len(scored) >= cadence.min_inspections:
        return
    note_soft_finding(
        state,
        event,
        "SCO-8",
        "AF-INS-TOO-FEW",
        f"annual score of {assessee} in scheme {scheme_id} rests on {len(scored)} scored "
        f"inspection(s); at least {cadence.min_inspections} are required",
        scheme_id=scheme_id,
        assessee=assessee,
        scored=len(scored),
        min_inspections=cadence.min_inspections,
        inspection_ids=scored,
        limit_event_id=cadence.event_id,
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules`` (after the owners')."""
    rules.register("InspectionCadencePublished", apply=apply_cadence, decide=decide_cadence)
    rules.register("InspectionPlanned", apply=apply_planned)
    rules.register("InspectionScoreRecorded", apply=apply_scored)
    rules.register("GradeAssigned", apply=apply_grade)
