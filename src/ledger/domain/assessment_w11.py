"""W10.5, W11 and W15.11: implementation plans, scheduling meetings, bulletins, the mid-year
assessment and result feedback (``domain.md`` §4.10, §4.11, §4.15; SOD-3, SCO-6).

Plans, meetings and bulletins are facts (§4.0): only their structure is checked (ENV-8: the
agreement, unit or ranking they name exists). The mid-year assessment and the feedback are
decisions of the assessment office.

Soft findings raised here (the event is kept): AF-TGT-MILESTONE (a mid-year value below a
milestone due by its date), AF-SCO-MISMATCH (a bulletin ranking that is not the order of its
scores, or not the published ranking it cites).

Tables: ``w11.plans`` (agreement id → tuple of (org id, event id)), ``w11.midyear``
((scheme id, assessee) → event id).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from ledger.domain.assessment_state import (
    RANKINGS,
    Agreement,
    PublishedRanking,
    agreement_of,
    agreements,
    pair,
    require_scheme,
    require_year_stream,
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
from ledger.domain.scoring_rank import RankInput, rank_order

PLANS = "w11.plans"
MIDYEAR = "w11.midyear"


# --- W10.5 implementation plans -----------------------------------------------------------------


def _plan_units(agreement: Agreement) -> set[str]:
    """The agent and every unit its indicators were decomposed to."""
    units = {agreement.agent_org_id}
    for _, children in agreement.decompositions:
        units |= {org for org, _ in children}
    return units


def decide_plan(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-8: the agreement exists and the filing unit is its agent or a decomposition unit."""
    agreement = agreements(state).get(event.stream_id)
    if agreement is None:
        raise refuse(
            "ENV-8",
            f"implementation plan filed under {event.stream_id}, which is no signed agreement",
            agreement_id=event.stream_id,
        )
    org_id = event.payload["org_id"]
    require(
        org_id in _plan_units(agreement),
        "ENV-8",
        f"{org_id} is neither the agent of agreement {agreement.agreement_id} nor a unit its "
        "targets were decomposed to",
        org_id=org_id,
    )
    require_scope(directory, event, org_id)


def apply_plan(state: DomainState, event: DomainEvent) -> None:
    plans = state.table(PLANS)
    filed: tuple[tuple[str, str], ...] = plans.get(event.stream_id) or ()
    plans.put(event.stream_id, (*filed, (event.payload["org_id"], event.event_id)))


def plans_filed(state: DomainState, agreement_id: str) -> tuple[tuple[str, str], ...]:
    """(org id, event id) of every implementation plan filed under the agreement."""
    found: tuple[tuple[str, str], ...] | None = state.table(PLANS).get(agreement_id)
    return found or ()


# --- W11 meetings and bulletins -------------------------------------------------------------------


def _require_own_stream(event: DomainEvent, org_field: str) -> None:
    org_id = event.payload[org_field]
    require(
        event.stream_id == org_id,
        "ENV-8",
        f"{event.event_type} of {org_id} belongs on its assessment stream, not {event.stream_id}",
        stream_id=event.stream_id,
    )


def decide_meeting(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-8: on the organiser's stream; the organiser and attendees are registered."""
    del state
    _require_own_stream(event, "organiser_org_id")
    require_scope(directory, event, event.payload["organiser_org_id"])
    unknown = [o for o in event.payload["attendee_org_ids"] if not directory.org_exists(o)]
    require(not unknown, "ENV-8", f"unregistered attendee units: {unknown}", unknown=unknown)


def decide_bulletin(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-8: on the publisher's stream; the scope unit, a cited scheme and ranking exist."""
    _require_own_stream(event, "publisher_org_id")
    require_scope(directory, event, event.payload["publisher_org_id"])
    scope = event.payload["scope_org_id"]
    require(directory.org_exists(scope), "ENV-8", f"scope unit {scope} is not registered")
    if event.payload["scheme_id"] is not None:
        require_scheme(state, event)
    cited = event.payload["ranking_event_id"]
    require(
        cited is None or isinstance(state.table(RANKINGS).get(cited), PublishedRanking),
        "ENV-8",
        f"bulletin cites {cited}, which is not a published ranking",
        ranking_event_id=cited,
    )


def bulletin_mismatch(state: DomainState, event: DomainEvent) -> str | None:
    """Why a bulletin's printed ranking is wrong, if it is: not the order of its own scores,
    or not the order of the published ranking it cites."""
    rows = event.payload["ranking"] or []
    printed = [r["assessee"] for r in rows]
    by_score = [
        x.assessee
        for x in rank_order([RankInput(r["assessee"], Fraction(r["score"])) for r in rows])
    ]
    if printed != by_score:
        return f"printed order {printed} is not the order of its scores {by_score}"
    cited = event.payload["ranking_event_id"]
    published = None if cited is None else state.table(RANKINGS).get(cited)
    if isinstance(published, PublishedRanking) and rows and printed != list(published.order):
        return f"printed order {printed} differs from ranking {cited}: {list(published.order)}"
    return None


def apply_bulletin(state: DomainState, event: DomainEvent) -> None:
    """A bulletin is a fact and is kept; a wrong ranking in it raises AF-SCO-MISMATCH."""
    problem = bulletin_mismatch(state, event)
    if problem is not None:
        note_soft_finding(
            state,
            event,
            "SCO-6",
            "AF-SCO-MISMATCH",
            f"bulletin {event.payload['period']}: {problem}",
            period=event.payload["period"],
        )


# --- W11 mid-year assessment ---------------------------------------------------------------------


def decide_midyear(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-8: scheme, stream, agreement, indicators and scheme year; SOD-3: not the assessee."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    agreement = agreement_of(state, p["scheme_id"], p["assessee"])
    if agreement is None:
        raise refuse(
            "ENV-8",
            f"{p['assessee']} signed no agreement under scheme {p['scheme_id']}",
            assessee=p["assessee"],
        )
    require(
        event.org_id != p["assessee"],
        "SOD-3",
        f"{event.actor_id} acts for the assessee {p['assessee']} and cannot assess it",
        actor_org_id=event.org_id,
    )
    as_of = parse_date(p["as_of"])
    require(
        as_of.year == scheme.config.year,
        "ENV-8",
        f"mid-year check as of {as_of} is outside the scheme year {scheme.config.year}",
        as_of=p["as_of"],
    )
    unknown = [
        row["indicator_id"]
        for row in p["progress_summary"]
        if pair(agreement.indicators, row["indicator_id"]) is None
    ]
    require(
        not unknown,
        "ENV-8",
        f"agreement {agreement.agreement_id} has no indicator(s) {unknown}",
        unknown=unknown,
    )


def missed_milestones(
    agreement: Agreement, summary: list[dict[str, str]], as_of: date
) -> list[tuple[str, Fraction, Fraction, str]]:
    """(indicator, value, milestone value, milestone date) of each value below a milestone
    due on or before ``as_of`` (N-CI-3: beds ≥ 60 % of the target by 30 June)."""
    missed = []
    for row in summary:
        spec = pair(agreement.indicators, row["indicator_id"])
        value = Fraction(row["value"])
        for day, fraction in spec.milestones if spec else ():
            due = fraction * spec.target if spec else Fraction(0)
            if parse_date(day) <= as_of and value < due:
                missed.append((row["indicator_id"], value, due, day))
    return missed


def apply_midyear(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    state.table(MIDYEAR).put((p["scheme_id"], p["assessee"]), event.event_id)
    agreement = agreement_of(state, p["scheme_id"], p["assessee"])
    if agreement is None:
        return
    missed = missed_milestones(agreement, list(p["progress_summary"]), parse_date(p["as_of"]))
    if missed:
        # One finding per event (keyed by rule): it lists every milestone missed.
        note_soft_finding(
            state,
            event,
            "W11",
            "AF-TGT-MILESTONE",
            f"{p['assessee']} on {p['as_of']}: "
            + "; ".join(f"{i} at {v}, below {due} due {day}" for i, v, due, day in missed),
            indicator_ids=",".join(i for i, _, _, _ in missed),
            values=",".join(str(v) for _, v, _, _ in missed),
            milestones=",".join(str(due) for _, _, due, _ in missed),
        )


# --- W15.11 result feedback ----------------------------------------------------------------------


def decide_notified(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """ENV-7: the cited consolidation is the scheme's current one; SCO-6: S and rank as
    consolidated for the assessee (ENV-8 if it is not in the ranking)."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    require(
        scheme.consolidated_event_id is not None
        and p["consolidation_event_id"] == scheme.consolidated_event_id,
        "ENV-7",
        f"scheme {p['scheme_id']}'s current consolidation is {scheme.consolidated_event_id}, "
        f"not {p['consolidation_event_id']}: no result to notify yet",
        current=scheme.consolidated_event_id,
    )
    rows = [dict(row) for row in scheme.consolidated_rows]
    order = [str(row["assessee"]) for row in rows]
    require(
        p["assessee"] in order,
        "ENV-8",
        f"{p['assessee']} is not in the consolidated ranking of {p['scheme_id']}",
        assessee=p["assessee"],
    )
    rank = order.index(p["assessee"]) + 1
    expected_s = Fraction(str(rows[rank - 1]["S"]))
    require(
        Fraction(p["S"]) == expected_s and p["rank"] == rank,
        "SCO-6",
        f"{p['assessee']} was consolidated at S = {rows[rank - 1]['S']}, rank {rank}; the "
        f"notification says S = {p['S']}, rank {p['rank']}",
        expected_S=str(rows[rank - 1]["S"]),
        expected_rank=rank,
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("ImplementationPlanFiled", apply=apply_plan, decide=decide_plan)
    rules.register("SchedulingMeetingHeld", decide=decide_meeting)
    rules.register("BulletinPublished", apply=apply_bulletin, decide=decide_bulletin)
    rules.register("MidYearAssessmentRecorded", apply=apply_midyear, decide=decide_midyear)
    rules.register("AssessmentResultNotified", decide=decide_notified)
