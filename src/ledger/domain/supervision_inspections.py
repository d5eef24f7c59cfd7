"""W12: inspections from plan to report (``domain.md`` §4.12, INS-1..6, SOD-6).

States (ENV-7 refuses any other transition)::

    PLANNED → CONDUCTED → REPORTED        (InspectionNotified only while PLANNED and ANNOUNCED)

An UNANNOUNCED plan is **hidden** from its targets until the visit is conducted (INS-3):
:func:`is_plan_hidden_from` tells the API and projection layers whether to withhold it.

Findings and visits are facts (§4.0): they are recorded even when they do not fit (an unknown
inspection, a repeated finding id); the misfit lands in ``sup.unmatched_facts`` for the audit
findings to surface.

Tables: ``sup.inspections`` (inspection id → :class:`Inspection`), ``sup.findings`` (finding id
→ :class:`Finding`), ``sup.used_score_causes`` (cause event id → the score event that used it),
``sup.unmatched_facts`` (event id → why it did not fit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    note_soft_finding,
    refuse,
    require,
)
from ledger.domain.periods import parse_date
from ledger.domain.supervision_points import INSPECTION_SCHEDULE, points_for

INSPECTIONS = "sup.inspections"
FINDINGS = "sup.findings"
USED_SCORE_CAUSES = "sup.used_score_causes"
UNMATCHED_FACTS = "sup.unmatched_facts"
FINDING_EVENTS = "sup.finding_events"
SANCTIONS = "sup.sanctions"
"""Criticisms, commendations and exposures by event id (folded by :mod:`supervision_notices`)."""

MIN_TEAM = 2
REPORT_DAYS = 1
PLAN_READER_ROLES = frozenset(
    {"inspector", "inspection_team_lead", "auditor", "discipline_inspector"}
)
"""Roles that may read an UNANNOUNCED plan before the visit (INS-3)."""


class InspectionStatus(StrEnum):
    PLANNED = "PLANNED"
    CONDUCTED = "CONDUCTED"
    REPORTED = "REPORTED"


@dataclass(frozen=True, slots=True)
class Inspection:
    """One planned inspection as the rules need it."""

    inspection_id: str
    type: str
    mode: str
    target_org_ids: tuple[str, ...]
    team_actor_ids: frozenset[str]
    status: InspectionStatus
    planned_event_id: str
    notified_org_ids: frozenset[str] = frozenset()
    started_at: datetime | None = None
    ended_at: datetime | None = None
    report_event_id: str | None = None
    scored_org_ids: frozenset[str] = frozenset()

    @property
    def hidden(self) -> bool:
        """Unannounced and not yet conducted: the targets must not see the plan."""
        return self.mode == "UNANNOUNCED" and self.started_at is None


@dataclass(frozen=True, slots=True)
class Finding:
    """A ``FindingRecorded`` (what notices cite and AF-RECT-RECURRING compares)."""

    finding_id: str
    inspection_id: str
    target_org_id: str
    category: str
    location: str | None
    severity: str
    day: date
    event_id: str
    has_evidence: bool


@dataclass(frozen=True, slots=True)
class Sanction:
    """A criticism, commendation or media exposure of a unit (what deductions may cite)."""

    event_id: str
    event_type: str
    target_org_id: str
    issuer_level: str | None
    item: str | None
    day: date
    related_to: str | None
    cause_event_ids: tuple[str, ...] = ()


def sanction(state: DomainState, event_id: str) -> Sanction | None:
    """The criticism, commendation or exposure recorded by ``event_id``, if any."""
    found: Sanction | None = state.table(SANCTIONS).get(event_id)
    return found


def _inspections(state: DomainState) -> Table[str, Inspection]:
    return state.table(INSPECTIONS)


def _findings(state: DomainState) -> Table[str, Finding]:
    return state.table(FINDINGS)


def inspection(state: DomainState, inspection_id: str) -> Inspection | None:
    """The inspection planned under ``inspection_id``, if any."""
    return _inspections(state).get(inspection_id)


def finding(state: DomainState, finding_id: str) -> Finding | None:
    """The finding recorded under ``finding_id``, if any."""
    return _findings(state).get(finding_id)


def is_plan_hidden(state: DomainState, inspection_id: str) -> bool:
    """The plan is UNANNOUNCED and the visit has not been conducted yet (INS-3)."""
    found = inspection(state, inspection_id)
    return found is not None and found.hidden


def is_plan_hidden_from(
    state: DomainState, inspection_id: str, org_id: str, directory: Directory | None = None
) -> bool:
    """Whether an actor of ``org_id`` must not see the plan: it is still hidden and ``org_id``
    is one of its targets (or, given the org tree, inside one of them)."""
    found = inspection(state, inspection_id)
    if found is None or not found.hidden:
        return False
    if directory is None:
        return org_id in found.target_org_ids
    return any(directory.is_within(org_id, target) for target in found.target_org_ids)


def note_unmatched(state: DomainState, event: DomainEvent, why: str) -> None:
    """Keep a fact that does not fit the state, for the audit findings (§4.0)."""
    state.table(UNMATCHED_FACTS).put(event.event_id, (event.event_type, event.stream_id, why))


def _require_inspection(state: DomainState, event: DomainEvent) -> Inspection:
    found = inspection(state, event.stream_id)
    if found is None:
        raise refuse(
            "ENV-7",
            f"{event.event_type} on inspection {event.stream_id}, which was never planned",
            inspection_id=event.stream_id,
            event_type=event.event_type,
        )
    return found


def _require_status(found: Inspection, event: DomainEvent, allowed: Iterable[str]) -> None:
    allowed = sorted(allowed)
    require(
        found.status in allowed,
        "ENV-7",
        f"{event.event_type} is not allowed on inspection {found.inspection_id} in state "
        f"{found.status} (allowed in: {', '.join(allowed)})",
        inspection_id=found.inspection_id,
        status=str(found.status),
        allowed=allowed,
    )


def _require_target(found: Inspection, target_org_id: str, event: DomainEvent) -> None:
    require(
        target_org_id in found.target_org_ids,
        "ENV-8",
        f"{event.event_type} names {target_org_id}, which is not a target of inspection "
        f"{found.inspection_id}",
        target_org_id=target_org_id,
        target_org_ids=list(found.target_org_ids),
    )


# --- W12.1 plan ----------------------------------------------------------------------------------


def decide_planned(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """INS-1, INS-2, SOD-6, and the plan's references."""
    p = event.payload
    require(
        p["inspection_id"] == event.stream_id and inspection(state, event.stream_id) is None,
        "ENV-7",
        f"inspection {p['inspection_id']} is already planned, or is not this stream's subject "
        f"({event.stream_id})",
        inspection_id=p["inspection_id"],
        stream_id=event.stream_id,
    )
    window = p["window"]
    require(
        parse_date(window["start"]) <= parse_date(window["end"]),
        "ENV-5",
        f"the inspection window ends ({window['end']}) before it starts ({window['start']})",
        window=dict(window),
    )
    for target in p["target_org_ids"]:
        require(
            directory.org_exists(target),
            "ENV-8",
            f"target organisation {target} is not registered",
            target_org_id=target,
        )
    _require_team(directory, p["team_actor_ids"], p["target_org_ids"])
    require(
        p["type"] != "SPECIAL" or p["mode"] == "ANNOUNCED",
        "INS-2",
        "a SPECIAL inspection must be ANNOUNCED: the lagging units are told in advance "
        "(事先告知被督查村委)",
        type=p["type"],
        mode=p["mode"],
    )


def _require_team(directory: Directory, team: list[str], targets: list[str]) -> None:
    # Two accounts of one person are one inspector: INS-1 counts natural persons.
    persons = {directory.actor_person(actor) for actor in team}
    require(
        len(persons) >= MIN_TEAM,
        "INS-1",
        f"an inspection team needs at least {MIN_TEAM} inspectors (2人一组); this one has "
        f"{len(persons)} person(s)",
        team_actor_ids=list(team),
        persons=len(persons),
        minimum=MIN_TEAM,
    )
    for actor in team:
        org = directory.actor_org(actor)
        require(
            org is not None,
            "ENV-8",
            f"team member {actor} is not a registered actor",
            actor_id=actor,
        )
        assert org is not None  # for the type checker: required just above
        inside = [t for t in targets if directory.is_within(org, t)]
        require(
            not inside,
            "SOD-6",
            f"inspector {actor} belongs to {org}, inside target {', '.join(inside)}: inspectors "
            "are cross-paired and never inspect their own unit (交叉配对)",
            actor_id=actor,
            actor_org_id=org,
            target_org_ids=inside,
        )


def apply_planned(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _inspections(state).put(
        event.stream_id,
        Inspection(
            inspection_id=event.stream_id,
            type=p["type"],
            mode=p["mode"],
            target_org_ids=tuple(p["target_org_ids"]),
            team_actor_ids=frozenset(p["team_actor_ids"]),
            status=InspectionStatus.PLANNED,
            planned_event_id=event.event_id,
        ),
    )


# --- W12.2 notify --------------------------------------------------------------------------------


def decide_notified(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """INS-3: an unannounced visit is never announced; announce before the visit."""
    found = _require_inspection(state, event)
    require(
        found.mode == "ANNOUNCED",
        "INS-3",
        f"inspection {found.inspection_id} is UNANNOUNCED (暗访): its target must not be notified",
        inspection_id=found.inspection_id,
        mode=found.mode,
    )
    _require_status(found, event, [InspectionStatus.PLANNED])
    _require_target(found, event.payload["target_org_id"], event)


def apply_notified(state: DomainState, event: DomainEvent) -> None:
    found = inspection(state, event.stream_id)
    if found is not None:
        notified = found.notified_org_ids | {event.payload["target_org_id"]}
        _inspections(state).put(found.inspection_id, replace(found, notified_org_ids=notified))


# --- W12.3 / W12.4 facts -------------------------------------------------------------------------


def apply_conducted(state: DomainState, event: DomainEvent) -> None:
    """A visit (fact): the first one ends the plan's secrecy; the window spans all visits."""
    found = inspection(state, event.stream_id)
    if found is None:
        note_unmatched(state, event, "visit on an inspection that was never planned")
        return
    started = datetime.fromisoformat(event.payload["started_at"])
    ended = datetime.fromisoformat(event.payload["ended_at"])
    if found.started_at is not None:
        started = min(started, found.started_at)
    if found.ended_at is not None:
        ended = max(ended, found.ended_at)
    status = InspectionStatus.CONDUCTED if found.status == "PLANNED" else found.status
    _inspections(state).put(
        found.inspection_id, replace(found, started_at=started, ended_at=ended, status=status)
    )


def apply_finding(state: DomainState, event: DomainEvent) -> None:
    """A finding (fact); INS-6 (soft) when it carries no evidence hash."""
    p = event.payload
    if not p["evidence"]:
        note_soft_finding(
            state,
            event,
            "INS-6",
            "AF-INS-NO-EVIDENCE",
            f"finding {p['finding_id']} carries no photo, video or document evidence "
            "(摄像资料和文字材料)",
            finding_id=p["finding_id"],
        )
    if p["finding_id"] in _findings(state):
        note_unmatched(state, event, f"finding id {p['finding_id']} was already recorded")
        return
    if inspection(state, event.stream_id) is None:
        note_unmatched(state, event, "finding on an inspection that was never planned")
    _findings(state).put(
        p["finding_id"],
        Finding(
            finding_id=p["finding_id"],
            inspection_id=event.stream_id,
            target_org_id=p["target_org_id"],
            category=p["category"],
            location=p["location"],
            severity=p["severity"],
            day=event.day,
            event_id=event.event_id,
            has_evidence=bool(p["evidence"]),
        ),
    )
    state.table(FINDING_EVENTS).put(event.event_id, p["finding_id"])


# --- W12.5 score ---------------------------------------------------------------------------------


def _cause_points(state: DomainState, cause_id: str, target_org_id: str) -> Decimal | None:
    """The scheduled deduction for a cited cause, or ``None`` for a discretionary one (a
    finding of this target); raises ENV-8 if the cause is unknown or about another unit."""
    cited = sanction(state, cause_id)
    if cited is not None:
        require(
            cited.target_org_id == target_org_id,
            "ENV-8",
            f"item deduction cites {cause_id}, which concerns {cited.target_org_id}, not "
            f"{target_org_id}",
            cause_event_id=cause_id,
        )
        scheduled = points_for(
            cited.event_type, cited.issuer_level, cited.item, schedule=INSPECTION_SCHEDULE
        )
        return -scheduled
    finding_id = state.table(FINDING_EVENTS).get(cause_id)
    found = None if finding_id is None else finding(state, finding_id)
    require(
        found is not None and found.target_org_id == target_org_id,
        "ENV-8",
        f"item deduction cites {cause_id}, which is not a criticism, media exposure or finding "
        f"of {target_org_id}",
        cause_event_id=cause_id,
    )
    return None


def decide_scored(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """F-INSP: single = raw - Σ item deductions; each deduction cites a cause once (SCO-2)."""
    found = _require_inspection(state, event)
    _require_status(found, event, [InspectionStatus.CONDUCTED, InspectionStatus.REPORTED])
    p = event.payload
    _require_target(found, p["target_org_id"], event)
    require(
        p["target_org_id"] not in found.scored_org_ids,
        "ENV-7",
        f"{p['target_org_id']} already has a score for inspection {found.inspection_id}",
        target_org_id=p["target_org_id"],
    )
    used = state.table(USED_SCORE_CAUSES)
    seen: set[str] = set()
    for item in p["item_deductions"]:
        cause = item["cause_event_id"]
        require(
            cause not in seen and cause not in used,
            "SCO-2",
            f"cause {cause} is already counted as a deduction (one cause counts once)",
            cause_event_id=cause,
            counted_by=used.get(cause),
        )
        seen.add(cause)
        scheduled = _cause_points(state, cause, p["target_org_id"])
        require(
            scheduled is None or Decimal(item["points"]) == scheduled,
            "SCO-2",
            f"item deduction for {cause} is {item['points']} points; the schedule "
            f"({INSPECTION_SCHEDULE.name}) gives {scheduled}",
            cause_event_id=cause,
            points=item["points"],
            scheduled=str(scheduled),
        )
    _require_single_score(p)


def _require_single_score(p: Mapping[str, Any]) -> None:
    deducted = sum((Decimal(i["points"]) for i in p["item_deductions"]), Decimal(0))
    expected = Decimal(p["raw_score"]) - deducted
    require(
        Decimal(p["single_score"]) == expected,
        "SCO-2",
        f"single score {p['single_score']} ≠ raw {p['raw_score']} - deductions {deducted} = "
        f"{expected} (单次考核分=单次考核得分-单项扣分)",
        raw_score=p["raw_score"],
        deductions=str(deducted),
        single_score=p["single_score"],
        expected=str(expected),
    )


def apply_scored(state: DomainState, event: DomainEvent) -> None:
    found = inspection(state, event.stream_id)
    if found is None:
        return
    target = event.payload["target_org_id"]
    _inspections(state).put(
        found.inspection_id, replace(found, scored_org_ids=found.scored_org_ids | {target})
    )
    used = state.table(USED_SCORE_CAUSES)
    for item in event.payload["item_deductions"]:
        used.put(item["cause_event_id"], event.event_id)


# --- W12.6 report --------------------------------------------------------------------------------


def decide_report(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """INS-4: signed by exactly the team, each co-signature by a team member."""
    found = _require_inspection(state, event)
    _require_status(found, event, [InspectionStatus.CONDUCTED])
    p = event.payload
    signers = frozenset(p["signer_actor_ids"])
    require(
        signers == found.team_actor_ids,
        "INS-4",
        "the report must be signed by every team member and only by them (签字认可): "
        f"missing {sorted(found.team_actor_ids - signers)}, not on the team "
        f"{sorted(signers - found.team_actor_ids)}",
        team_actor_ids=sorted(found.team_actor_ids),
        signer_actor_ids=sorted(signers),
    )
    cosigners = [c["actor_id"] for c in p["cosignatures"]]
    require(
        sorted(cosigners) == sorted(found.team_actor_ids),
        "INS-4",
        "there must be exactly one co-signature per team member: "
        f"co-signed by {sorted(cosigners)}, team {sorted(found.team_actor_ids)}",
        cosigner_actor_ids=sorted(cosigners),
        team_actor_ids=sorted(found.team_actor_ids),
    )


def apply_report(state: DomainState, event: DomainEvent) -> None:
    """Record the report; INS-5 (soft) when it comes more than 1 day after the visit."""
    found = inspection(state, event.stream_id)
    if found is None:
        return
    if found.ended_at is not None:
        due = found.ended_at.date() + timedelta(days=REPORT_DAYS)
        if event.day > due:
            note_soft_finding(
                state,
                event,
                "INS-5",
                "AF-INS-LATE-REPORT",
                f"report on {event.day}, due by {due}: more than {REPORT_DAYS} day after the "
                f"visit ended ({found.ended_at.isoformat()})",
                ended_at=found.ended_at.isoformat(),
                due=due.isoformat(),
                submitted=event.day.isoformat(),
                late_days=(event.day - due).days,
            )
    _inspections(state).put(
        found.inspection_id,
        replace(found, status=InspectionStatus.REPORTED, report_event_id=event.event_id),
    )


def register(rules: Rules) -> None:
    """Add the W12 decide and apply functions to ``rules``."""
    rules.register("InspectionPlanned", apply=apply_planned, decide=decide_planned)
    rules.register("InspectionNotified", apply=apply_notified, decide=decide_notified)
    rules.register("InspectionScoreRecorded", apply=apply_scored, decide=decide_scored)
    rules.register("InspectionReportSubmitted", apply=apply_report, decide=decide_report)
    # Facts: always folded, never refused (domain.md §4.0).
    rules.register("InspectionConducted", apply=apply_conducted)
    rules.register("FindingRecorded", apply=apply_finding)
