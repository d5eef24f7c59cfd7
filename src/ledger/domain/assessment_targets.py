"""W10-W11 and W15.1: schemes, responsibilities, agreements, decomposition, progress and
self-assessment (``domain.md`` §4.10, §4.11, §4.15; SCO-1, SCO-7, SOD-3).

Soft findings raised here (the event is kept): AF-TGT-DECOMPOSITION (children add up to less
than the parent), AF-TGT-MILESTONE (progress below a milestone on its date), AF-SCO-LATE
(self-assessment after the scheme's deadline, SCO-7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from ledger.domain.assessment_state import (
    ASSESSEES,
    Agreement,
    IndicatorSpec,
    Scheme,
    agreement_of,
    agreements,
    pair,
    put_record,
    record_of,
    require_scheme,
    schemes,
    with_pair,
    year_id,
)
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    note_soft_finding,
    refuse,
    require,
    require_scope,
)
from ledger.domain.periods import parse_date
from ledger.domain.scoring_scheme import scheme_config, scheme_problems

LEADING_GROUP = "LEADING_GROUP"

# --- W10.1 scheme --------------------------------------------------------------------------------


def decide_scheme(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A scheme is published once, approved by the leading group, and adds up (SCO-1)."""
    p = event.payload
    require(
        event.stream_id == p["scheme_id"],
        "ENV-8",
        f"scheme {p['scheme_id']} belongs on its own stream, not {event.stream_id}",
        scheme_id=p["scheme_id"],
    )
    require(
        p["scheme_id"] not in schemes(state),
        "ENV-7",
        f"scheme {p['scheme_id']} is already published; publish a new scheme id instead",
        scheme_id=p["scheme_id"],
    )
    approver_org = directory.actor_org(p["approved_by_actor_id"])
    require(
        approver_org is not None and directory.org_kind(approver_org) == LEADING_GROUP,
        "ENV-8",
        f"scheme approver {p['approved_by_actor_id']} is not an actor of a leading group",
        approved_by_actor_id=p["approved_by_actor_id"],
    )
    problems = scheme_problems(p)
    require(
        not problems,
        "SCO-1",
        f"scheme {p['scheme_id']} does not add up: " + "; ".join(problems),
        problems=problems,
    )


def apply_scheme(state: DomainState, event: DomainEvent) -> None:
    schemes(state).put(
        event.payload["scheme_id"], Scheme(scheme_config(event.payload), event.event_id)
    )


def decide_responsibility(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The work area is a category of the scheme and every named unit is registered."""
    p = event.payload
    scheme = require_scheme(state, event)
    require(
        p["work_area"] in scheme.config.categories,
        "ENV-8",
        f"work area {p['work_area']} is not a category of scheme {p['scheme_id']}",
        work_area=p["work_area"],
        categories=sorted(scheme.config.categories),
    )
    for org in (*p["lead_org_ids"], *p["responsible_org_ids"], *p["assisting_org_ids"]):
        require(
            directory.org_exists(org), "ENV-8", f"organisation {org} is not registered", org_id=org
        )


# --- W10.3 agreement -----------------------------------------------------------------------------


def _indicator_specs(payload: Mapping[str, Any]) -> list[IndicatorSpec]:
    return [
        IndicatorSpec(
            indicator_id=i["indicator_id"],
            category=i["category"],
            target=Fraction(i["target_value"]),
            base_points=Fraction(i["base_points"]),
            bonus_eligible=i["bonus_eligible"],
            measurable_by_ratio=i["measurable_by_ratio"],
            scopes=tuple(i["scopes"]),
            milestones=tuple((m["date"], Fraction(m["fraction"])) for m in i["milestones"]),
        )
        for i in payload["indicators"]
    ]


def agreement_problems(scheme: Scheme, specs: list[IndicatorSpec]) -> list[str]:
    """SCO-1 for an agreement: known categories, base points adding up to each weight."""
    categories = scheme.config.categories
    problems = [
        f"indicator {s.indicator_id} is in category {s.category}, which the scheme lacks"
        for s in specs
        if s.category not in categories
    ]
    totals: dict[str, Fraction] = {}
    for s in specs:
        totals[s.category] = totals.get(s.category, Fraction(0)) + s.base_points
    for category, weight in sorted(categories.items()):
        got = totals.get(category, Fraction(0))
        if got != weight:
            problems.append(f"base points of {category} add up to {got}, not its weight {weight}")
    ids = [s.indicator_id for s in specs]
    problems += [
        f"indicator {i} appears twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    problems += [
        f"indicator {s.indicator_id} has a non-positive target" for s in specs if s.target <= 0
    ]
    return problems


def decide_agreement(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Once per agreement id and per (scheme, agent); the indicators add up (SCO-1)."""
    p = event.payload
    scheme = require_scheme(state, event)
    require(
        event.stream_id == p["agreement_id"] and p["agreement_id"] not in agreements(state),
        "ENV-7",
        f"agreement {p['agreement_id']} is already signed or is not on its own stream",
        agreement_id=p["agreement_id"],
    )
    for org in (p["principal_org_id"], p["agent_org_id"]):
        require(
            directory.org_exists(org), "ENV-8", f"organisation {org} is not registered", org_id=org
        )
    existing = agreement_of(state, p["scheme_id"], p["agent_org_id"])
    require(
        existing is None,
        "ENV-7",
        f"{p['agent_org_id']} already signed agreement "
        f"{existing.agreement_id if existing else ''} under scheme {p['scheme_id']}",
        agent_org_id=p["agent_org_id"],
    )
    problems = agreement_problems(scheme, _indicator_specs(p))
    require(
        not problems,
        "SCO-1",
        f"agreement {p['agreement_id']} does not fit scheme {p['scheme_id']}: "
        + "; ".join(problems),
        problems=problems,
    )


def apply_agreement(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    specs = tuple((s.indicator_id, s) for s in _indicator_specs(p))
    agreements(state).put(
        p["agreement_id"],
        Agreement(
            p["agreement_id"], p["scheme_id"], p["principal_org_id"], p["agent_org_id"], specs
        ),
    )
    listed = state.table(ASSESSEES)
    current: tuple[tuple[str, str], ...] = listed.get(p["scheme_id"]) or ()
    listed.put(p["scheme_id"], with_pair(current, p["agent_org_id"], p["agreement_id"]))


def _require_agreement(state: DomainState, event: DomainEvent) -> Agreement:
    found = agreements(state).get(event.stream_id)
    if found is None:
        raise refuse(
            "ENV-8",
            f"{event.event_type} on agreement {event.stream_id}, which was never signed",
            agreement_id=event.stream_id,
        )
    return found


def _require_indicator(
    agreement: Agreement, indicator_id: str, event: DomainEvent
) -> IndicatorSpec:
    spec = pair(agreement.indicators, indicator_id)
    if spec is None:
        raise refuse(
            "ENV-8",
            f"{event.event_type} names indicator {indicator_id}, which agreement "
            f"{agreement.agreement_id} does not contain",
            indicator_id=indicator_id,
        )
    return spec


# --- W10.4 decomposition -------------------------------------------------------------------------


def decide_decomposed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The agent decomposes its own indicator over units inside it."""
    agreement = _require_agreement(state, event)
    _require_indicator(agreement, event.payload["parent_indicator_id"], event)
    require_scope(directory, event, agreement.agent_org_id)
    for assignment in event.payload["assignments"]:
        require(
            assignment["org_id"] != agreement.agent_org_id
            and directory.is_within(assignment["org_id"], agreement.agent_org_id),
            "ENV-8",
            f"{assignment['org_id']} is not a unit under {agreement.agent_org_id}",
            org_id=assignment["org_id"],
        )


def apply_decomposed(state: DomainState, event: DomainEvent) -> None:
    """Keep the assignments; children below the parent raise AF-TGT-DECOMPOSITION (soft)."""
    agreement = _require_agreement(state, event)
    parent_id = event.payload["parent_indicator_id"]
    children = tuple(
        (a["org_id"], Fraction(a["target_value"])) for a in event.payload["assignments"]
    )
    decompositions = with_pair(agreement.decompositions, parent_id, children)
    agreements(state).put(agreement.agreement_id, replace(agreement, decompositions=decompositions))
    spec = pair(agreement.indicators, parent_id)
    total = sum((t for _, t in children), Fraction(0))
    if spec is not None and total < spec.target:
        note_soft_finding(
            state,
            event,
            "W10.4",
            "AF-TGT-DECOMPOSITION",
            f"children of {parent_id} add up to {total}, below the parent target {spec.target}",
            parent_indicator_id=parent_id,
            children_total=str(total),
            parent_target=str(spec.target),
        )


# --- W11 progress --------------------------------------------------------------------------------


def apply_progress(state: DomainState, event: DomainEvent) -> None:
    """Keep the latest value; below a milestone on its date raises AF-TGT-MILESTONE (soft).
    Progress is a fact: a report on an unknown indicator is kept by the log, not folded."""
    agreement = agreements(state).get(event.stream_id)
    p = event.payload
    spec = None if agreement is None else pair(agreement.indicators, p["indicator_id"])
    if agreement is None or spec is None:
        return
    value = Fraction(p["value"])
    progress = with_pair(agreement.progress, f"{p['indicator_id']}@{p['period']}", value)
    agreements(state).put(agreement.agreement_id, replace(agreement, progress=progress))
    for day, fraction in spec.milestones:
        if day == p["as_of"] and value < fraction * spec.target:
            note_soft_finding(
                state,
                event,
                "W11",
                "AF-TGT-MILESTONE",
                f"{p['indicator_id']} at {value} on {day}, below the milestone "
                f"{fraction} of {spec.target}",
                indicator_id=p["indicator_id"],
                value=str(value),
                milestone=str(fraction * spec.target),
            )


def decide_progress_verified(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Verified by someone outside the assessee (SOD-3) on an indicator of the agreement."""
    agreement = _require_agreement(state, event)
    _require_indicator(agreement, event.payload["indicator_id"], event)
    require(
        not directory.is_within(event.org_id, agreement.agent_org_id),
        "SOD-3",
        f"{event.actor_id} acts for {event.org_id}, inside the assessee {agreement.agent_org_id}, "
        "and cannot verify its progress",
        actor_org_id=event.org_id,
        assessee=agreement.agent_org_id,
    )


# --- W15.1 self-assessment -----------------------------------------------------------------------


def apply_self_assessment(state: DomainState, event: DomainEvent) -> None:
    """Keep the self-scores (AF-SCO-SELF-INFLATION compares them); late raises AF-SCO-LATE."""
    p = event.payload
    scheme = schemes(state).get(p["scheme_id"])
    if scheme is None or event.stream_id != year_id(p["scheme_id"], p["assessee"]):
        return
    record = record_of(state, p["scheme_id"], p["assessee"])
    rounds = with_pair(record.self_assessments, p["round"], event.event_id)
    put_record(state, replace(record, self_assessments=rounds))
    name = "self_check" if p["round"] == "YEAR_END" else "mid_year_self_check"
    deadline = scheme.config.deadline(name)
    submitted = parse_date(p["submitted_at"])
    if deadline is not None and submitted > deadline:
        note_soft_finding(
            state,
            event,
            "SCO-7",
            "AF-SCO-LATE",
            f"{p['round']} self-assessment of {p['assessee']} submitted {submitted}, after the "
            f"deadline {deadline}",
            deadline=deadline.isoformat(),
            submitted_at=submitted.isoformat(),
        )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("AssessmentSchemePublished", apply=apply_scheme, decide=decide_scheme)
    rules.register("ResponsibilityAssigned", decide=decide_responsibility)
    rules.register(
        "TargetResponsibilityAgreementSigned", apply=apply_agreement, decide=decide_agreement
    )
    rules.register("TargetDecomposed", apply=apply_decomposed, decide=decide_decomposed)
    rules.register("ProgressReported", apply=apply_progress)
    rules.register("ProgressVerified", decide=decide_progress_verified)
    # A self-assessment is a fact (§4.0): never refused; one off its stream is not folded.
    rules.register("SelfAssessmentSubmitted", apply=apply_self_assessment)
