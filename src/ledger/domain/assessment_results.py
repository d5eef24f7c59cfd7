"""W15.7-W15.10 and W16: consolidation, ties, award lists, approval, ratification, awards,
last place, grades, revoked eligibility, period rankings and cash (``domain.md`` §4.15,
§4.16, §5.11; SCO-3, SCO-5, SCO-6, SCO-7, AWD-1..AWD-7).

The consolidated ranking and the award lists are recomputed with
:func:`~ledger.domain.scoring_replay.recompute_assessment` from what the ledger holds; a
recorded ranking or list that differs is refused and the refusal names what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from ledger.domain.assessment_state import (
    CASH,
    RANKINGS,
    REVOKED,
    Proposal,
    PublishedRanking,
    Scheme,
    agreement_of,
    assessee_year,
    assessees,
    pair,
    record_of,
    require_scheme,
    require_year_stream,
    schemes,
)
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    note_soft_finding,
    refuse,
    require,
)
from ledger.domain.scoring import inspection_grade
from ledger.domain.scoring_rank import (
    RankInput,
    cash_entries,
    individual_quota_problems,
    rank_order,
)
from ledger.domain.scoring_replay import (
    Recomputation,
    points_text,
    ranking_rows,
    recompute_assessment,
)

CITABLE = "sup.citable"
"""Events a sanction may cite (folded by :mod:`ledger.domain.supervision_notices`)."""


def _scheme_stream(state: DomainState, event: DomainEvent) -> Scheme:
    scheme = require_scheme(state, event)
    require(
        event.stream_id == scheme.config.scheme_id,
        "ENV-8",
        f"{event.event_type} belongs on the stream of scheme {scheme.config.scheme_id}",
        stream_id=event.stream_id,
    )
    return scheme


# --- W15.7 consolidation -------------------------------------------------------------------------


def missing_components(state: DomainState, scheme: Scheme) -> list[str]:
    """SCO-5: every assessee has O (every sub-item), M, and a result and a score for every
    indicator of its agreement."""
    missing = []
    scheme_id = scheme.config.scheme_id
    for assessee in assessees(state, scheme_id):
        record = record_of(state, scheme_id, assessee)
        lacking = [s for s in scheme.config.sub_items if pair(record.sub_items, s) is None]
        if record.survey_points is None:
            lacking.append("public survey")
        agreement = agreement_of(state, scheme_id, assessee)
        for indicator_id, _ in agreement.indicators if agreement else ():
            if (
                pair(record.results, indicator_id) is None
                or pair(record.scores, indicator_id) is None
            ):
                lacking.append(f"indicator {indicator_id}")
        if lacking:
            missing.append(f"{assessee}: {', '.join(lacking)}")
    return missing


def recompute(state: DomainState, scheme: Scheme) -> Recomputation:
    """The scheme's recomputation from the ledger's current state."""
    config = scheme.config
    years = [
        assessee_year(state, config.scheme_id, a, config.year)
        for a in assessees(state, config.scheme_id)
    ]
    return recompute_assessment(config.rules, config.quotas, years, scheme.decided_order)


def stale_scores(state: DomainState, scheme: Scheme, result: Recomputation) -> list[str]:
    """Recorded indicator scores that no longer equal the recomputation (e.g. a bonus computed
    before a peer's higher over-completion was recorded)."""
    stale = []
    for (assessee, indicator_id), expected in sorted(result.scores.items()):
        recorded = pair(record_of(state, scheme.config.scheme_id, assessee).scores, indicator_id)
        if recorded is not None and recorded.final != expected.final:
            stale.append(
                f"{assessee}/{indicator_id}: recorded {recorded.final}, expected {expected.final}"
            )
    return stale


def _first_difference(expected: list[dict[str, Any]], recorded: Sequence[Any]) -> str:
    for i, (want, got) in enumerate(zip(expected, recorded, strict=False)):
        if want != got:
            return f"row {i + 1}: expected {want}, recorded {got}"
    return f"expected {len(expected)} rows, recorded {len(recorded)}"


def _frozen(rows: list[dict[str, Any]]) -> tuple[tuple[tuple[str, object], ...], ...]:
    """Rows as nested tuples (immutable state values)."""
    return tuple(
        tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in row.items()))
        for row in rows
    )


def _normalised(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows with numbers in canonical form (``"5.50"`` and ``"5.5"`` are the same value)."""
    numeric = ("S", "O", "M", "T", "B", "P")
    return [
        {
            **row,
            **{k: points_text(Fraction(row[k])) for k in numeric},
            "failing_indicator_ids": sorted(row["failing_indicator_ids"]),
        }
        for row in rows
    ]


def decide_consolidated(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """SCO-5 completeness, SCO-3 freshness of every score, SCO-6 ranking equality."""
    del directory
    scheme = _scheme_stream(state, event)
    require(
        scheme.proposal_event_id is None,
        "ENV-7",
        f"scheme {scheme.config.scheme_id} already has a proposed award list",
        proposal_event_id=scheme.proposal_event_id,
    )
    missing = missing_components(state, scheme)
    require(not missing, "SCO-5", "consolidation lacks " + "; ".join(missing), missing=missing)
    result = recompute(state, scheme)
    stale = stale_scores(state, scheme, result)
    require(
        not stale,
        "SCO-3",
        "recorded indicator scores differ from the recomputation (record corrected scores "
        "first): " + "; ".join(stale),
        stale=stale,
    )
    expected = ranking_rows(result)
    recorded = event.payload["ranking"]
    require(
        _normalised(expected) == _normalised(recorded),
        "SCO-6",
        "the consolidated ranking differs from the recomputation: "
        + _first_difference(_normalised(expected), _normalised(recorded)),
        expected=expected,
    )


def apply_consolidated(state: DomainState, event: DomainEvent) -> None:
    scheme = require_scheme(state, event)
    rows = _frozen(_normalised(event.payload["ranking"]))
    consolidated = replace(scheme, consolidated_event_id=event.event_id, consolidated_rows=rows)
    schemes(state).put(scheme.config.scheme_id, consolidated)
    order = tuple(row["assessee"] for row in event.payload["ranking"])
    state.table(RANKINGS).put(event.event_id, PublishedRanking(scheme.config.scheme_id, order))
    deadline = scheme.config.deadline("consolidation")
    if deadline is not None and event.day > deadline:
        note_soft_finding(
            state,
            event,
            "SCO-7",
            "AF-SCO-LATE",
            f"scheme {scheme.config.scheme_id} consolidated on {event.day}, after {deadline}",
            deadline=deadline.isoformat(),
            day=event.day.isoformat(),
        )


def decide_lead_aggregate(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The category is one of the scheme's."""
    del directory
    scheme = _scheme_stream(state, event)
    category = event.payload["category"]
    require(
        category in scheme.config.categories,
        "ENV-8",
        f"{category} is not a category of scheme {scheme.config.scheme_id}",
        category=category,
    )


def apply_lead_aggregate(state: DomainState, event: DomainEvent) -> None:
    """After the lead units' deadline (20 January) the aggregate raises AF-SCO-LATE."""
    scheme = require_scheme(state, event)
    deadline = scheme.config.deadline("lead")
    if deadline is not None and event.day > deadline:
        note_soft_finding(
            state,
            event,
            "SCO-7",
            "AF-SCO-LATE",
            f"{event.payload['category']} aggregate submitted {event.day}, after {deadline}",
            deadline=deadline.isoformat(),
            day=event.day.isoformat(),
        )


def failing_indicators(state: DomainState, scheme_id: str, assessee: str) -> list[str]:
    """The indicators whose recorded result is not met (the veto's grounds)."""
    results = record_of(state, scheme_id, assessee).results
    return sorted(indicator_id for indicator_id, result in results if not result.met)


def decide_veto(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The veto names exactly the assessee's unmet indicators (SCO-6)."""
    del directory
    require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    expected = failing_indicators(state, p["scheme_id"], p["assessee"])
    require(
        sorted(p["failing_indicator_ids"]) == expected,
        "SCO-6",
        f"{p['assessee']} failed {expected or 'no indicator'}; the veto names "
        f"{sorted(p['failing_indicator_ids'])}",
        expected=expected,
        recorded=sorted(p["failing_indicator_ids"]),
    )


# --- ties ----------------------------------------------------------------------------------------


def decide_tie(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The decision orders exactly the tied units: assessees of the scheme equal on S, T and
    P (Q14). A period ranking's units that are not assessees stay in id order."""
    del directory
    scheme = _scheme_stream(state, event)
    p = event.payload
    require(
        set(p["order"]) == set(p["tied"]),
        "ENV-8",
        "a tie-break orders exactly the tied units",
        tied=p["tied"],
        order=p["order"],
    )
    unknown = sorted(set(p["tied"]) - set(assessees(state, scheme.config.scheme_id)))
    require(
        not unknown,
        "ENV-8",
        f"{', '.join(unknown)} are not assessees of the scheme",
        unknown=unknown,
    )
    annual = recompute(state, scheme).annual
    figures = {a: (annual[a].total, annual[a].tasks, annual[a].penalty) for a in p["tied"]}
    require(
        len(set(figures.values())) == 1,
        "ENV-8",
        "only units equal on S, T and P can be ordered by decision: "
        + "; ".join(
            f"{a} S={points_text(f[0])} T={points_text(f[1])} P={points_text(f[2])}"
            for a, f in figures.items()
        ),
        tied=p["tied"],
    )


def apply_tie(state: DomainState, event: DomainEvent) -> None:
    scheme = require_scheme(state, event)
    orders = (*scheme.tie_orders, tuple(event.payload["order"]))
    schemes(state).put(scheme.config.scheme_id, replace(scheme, tie_orders=orders))


# --- W15.8 award lists ---------------------------------------------------------------------------


def _proposal(payload: Any) -> Proposal:
    return Proposal(
        comprehensive=tuple(payload["comprehensive"]),
        single_item=tuple((x["category"], x["assessee"]) for x in payload["single_item"]),
        last_place=tuple(payload["last_place"]),
        individuals=tuple((x["org_id"], x["person_ref"]) for x in payload["individuals"]),
    )


def _award_checks(scheme: Scheme, result: Recomputation, proposal: Proposal) -> None:
    """AWD-7, AWD-1, AWD-3, AWD-2, AWD-4 and the comprehensive list itself (SCO-6)."""
    ranking = result.ranking
    awarded = {*proposal.comprehensive, *(a for _, a in proposal.single_item)}
    revoked = sorted(awarded & ranking.revoked)
    require(
        not revoked,
        "AWD-7",
        f"{', '.join(revoked)} lost award eligibility this year",
        assessees=revoked,
    )
    vetoed = sorted(set(proposal.comprehensive) & ranking.vetoed)
    require(
        not vetoed,
        "AWD-1",
        f"{', '.join(vetoed)} missed a target (one-vote veto) and cannot be comprehensive winners",
        vetoed=vetoed,
    )
    require(
        not ranking.undecided_ties,
        "AWD-3",
        "units tied on S, T and P straddle an award boundary; the leading group must record "
        "a TieBrokenByDecision first: " + "; ".join(", ".join(t) for t in ranking.undecided_ties),
        ties=[list(t) for t in ranking.undecided_ties],
    )
    config = scheme.config
    individuals: dict[str, int] = {}
    for org, _ in proposal.individuals:
        individuals[org] = individuals.get(org, 0) + 1
    problems = individual_quota_problems(
        individuals, config.individual_quotas, config.individual_default
    )
    require(
        not problems, "AWD-3", "advanced individuals: " + "; ".join(problems), problems=problems
    )
    _list_checks(result, proposal)


def _list_checks(result: Recomputation, proposal: Proposal) -> None:
    ranking = result.ranking
    comprehensive = set(proposal.comprehensive)
    repeated = sorted({a for _, a in proposal.single_item} & comprehensive)
    expected_single = sorted((c, a) for c, winners in ranking.single_item.items() for a in winners)
    require(
        not repeated and sorted(proposal.single_item) == expected_single,
        "AWD-2",
        f"single-item awards must go to the best non-comprehensive units {expected_single}; "
        f"proposed {sorted(proposal.single_item)}",
        expected=[list(x) for x in expected_single],
    )
    require(
        tuple(proposal.last_place) == ranking.last_place,
        "AWD-4",
        f"last place must be {list(ranking.last_place) or 'nobody (every unit met every target)'}"
        f"; proposed {list(proposal.last_place)}",
        expected=list(ranking.last_place),
    )
    require(
        tuple(proposal.comprehensive) == ranking.comprehensive,
        "AWD-3" if len(proposal.comprehensive) > len(ranking.comprehensive) else "SCO-6",
        f"comprehensive awards must be {list(ranking.comprehensive)} (top eligible by S, within "
        f"the quota); proposed {list(proposal.comprehensive)}",
        expected=list(ranking.comprehensive),
    )


def decide_proposed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The lists equal F-RANK on the consolidated ranking (AWD-1..AWD-4, AWD-7)."""
    del directory
    scheme = _scheme_stream(state, event)
    require(
        scheme.consolidated_event_id is not None,
        "ENV-7",
        f"scheme {scheme.config.scheme_id} is not consolidated yet",
        scheme_id=scheme.config.scheme_id,
    )
    result = recompute(state, scheme)
    require(
        _frozen(_normalised(ranking_rows(result))) == scheme.consolidated_rows,
        "SCO-6",
        f"scores of scheme {scheme.config.scheme_id} changed after its consolidation "
        f"{scheme.consolidated_event_id}; consolidate again before proposing awards",
        consolidated_event_id=scheme.consolidated_event_id,
    )
    _award_checks(scheme, result, _proposal(event.payload))


def apply_proposed(state: DomainState, event: DomainEvent) -> None:
    scheme = require_scheme(state, event)
    schemes(state).put(
        scheme.config.scheme_id,
        replace(scheme, proposal_event_id=event.event_id, proposal=_proposal(event.payload)),
    )


def decide_approved(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The leading group approves the scheme's latest proposal."""
    del directory
    scheme = _scheme_stream(state, event)
    require(
        scheme.proposal_event_id is not None
        and event.payload["proposal_event_id"] == scheme.proposal_event_id,
        "ENV-8",
        f"approval must cite the proposal {scheme.proposal_event_id} of the scheme",
        expected=scheme.proposal_event_id,
    )


def apply_approved(state: DomainState, event: DomainEvent) -> None:
    scheme = require_scheme(state, event)
    schemes(state).put(scheme.config.scheme_id, replace(scheme, approval_event_id=event.event_id))


def decide_ratified(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """AWD-5: ratification follows the leading group's approval."""
    del directory
    scheme = _scheme_stream(state, event)
    require(
        scheme.approval_event_id is not None
        and event.payload["approval_event_id"] == scheme.approval_event_id,
        "AWD-5",
        f"ratification must cite the leading group's approval {scheme.approval_event_id}",
        expected=scheme.approval_event_id,
    )


def apply_ratified(state: DomainState, event: DomainEvent) -> None:
    scheme = require_scheme(state, event)
    schemes(state).put(scheme.config.scheme_id, replace(scheme, ratified_event_id=event.event_id))


# --- W15.10 awards, last place, grade ------------------------------------------------------------


def _ratified(scheme: Scheme, event: DomainEvent) -> Proposal:
    proposal = scheme.proposal
    if scheme.ratified_event_id is None or proposal is None:
        raise refuse(
            "AWD-5",
            f"{event.event_type} requires AwardsRatified of scheme {scheme.config.scheme_id}",
            scheme_id=scheme.config.scheme_id,
        )
    return proposal


def _not_revoked(state: DomainState, scheme: Scheme, assessee: str) -> None:
    revoked_by = state.table(REVOKED).get((assessee, scheme.config.year))
    require(
        revoked_by is None,
        "AWD-7",
        f"{assessee} lost its award eligibility for {scheme.config.year} ({revoked_by})",
        revoked_by=revoked_by,
    )


def decide_award(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """AWD-5 ratified list, AWD-7 eligibility, AWD-1 veto."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    proposal = _ratified(scheme, event)
    _not_revoked(state, scheme, p["assessee"])
    kind = p["award_type"]
    if kind == "COMPREHENSIVE":
        failing = recompute(state, scheme).ranking.vetoed
        require(p["assessee"] not in failing, "AWD-1", f"{p['assessee']} missed a target (veto)")
        listed = p["assessee"] in proposal.comprehensive
    elif kind == "SINGLE_ITEM":
        listed = (p["category"], p["assessee"]) in proposal.single_item
    else:
        listed = (p["assessee"], p["person_ref"]) in proposal.individuals
    require(
        listed,
        "AWD-5",
        f"{kind} award to {p['assessee']} is not on the ratified list of {scheme.config.scheme_id}",
        award_type=kind,
    )


def decide_last_place(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """AWD-4: the ratified last place (the lowest S; none when everyone met every target)."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    proposal = _ratified(scheme, event)
    require(
        event.payload["assessee"] in proposal.last_place,
        "AWD-4",
        f"{event.payload['assessee']} is not the last place; the ratified list names "
        f"{list(proposal.last_place) or 'nobody'}",
        expected=list(proposal.last_place),
    )


def decide_grade(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The grade follows from S, the rank and the acceptances by the scheme's thresholds."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    require(
        scheme.consolidated_event_id is not None,
        "ENV-7",
        f"scheme {scheme.config.scheme_id} is not consolidated yet",
    )
    p = event.payload
    result = recompute(state, scheme)
    annual = result.annual.get(p["assessee"])
    if annual is None:
        raise refuse("ENV-8", f"{p['assessee']} is not an assessee of the scheme")
    position = result.ranking.order.index(p["assessee"]) + 1
    expected = inspection_grade(
        annual.total,
        position,
        passed_city=p["passed_city_acceptance"],
        passed_provincial=p["passed_provincial_acceptance"],
        thresholds=scheme.config.grade_thresholds,
    )
    require(
        p["grade"] == expected,
        "SCO-6",
        f"{p['assessee']} with S = {annual.total} at rank {position} grades {expected}, not "
        f"{p['grade']}",
        expected=str(expected),
        recorded=p["grade"],
    )


# --- W16 revoked eligibility, period rankings, cash ---------------------------------------------


def decide_revoked(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The year is the scheme's and every cause is a recorded citable event of the unit."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    require(
        p["year"] == scheme.config.year,
        "ENV-8",
        f"scheme {scheme.config.scheme_id} assesses {scheme.config.year}, not {p['year']}",
    )
    citable = state.table(CITABLE)
    for cause in p["cause_event_ids"]:
        found = citable.get(cause)
        about_unit = found is not None and getattr(found, "target_org_id", None) in {
            None,
            p["assessee"],
        }
        require(
            about_unit or cause in state.table(RANKINGS),
            "ENV-8",
            f"{cause} is not a recorded ranking, criticism, notice or escalation about "
            f"{p['assessee']}",
            cause_event_id=cause,
        )


def apply_revoked(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    state.table(REVOKED).put((p["assessee"], p["year"]), event.event_id)


def decide_period_ranking(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """SCO-6: the published order is the order of its scores (ties by recorded decisions,
    then by assessee id)."""
    del directory
    scheme = _scheme_stream(state, event)
    rows = event.payload["ranking"]
    items = [RankInput(r["assessee"], Fraction(r["score"])) for r in rows]
    expected = [x.assessee for x in rank_order(items, scheme.decided_order)]
    published = [r["assessee"] for r in rows]
    require(
        len(set(published)) == len(published) and published == expected,
        "SCO-6",
        f"period ranking {event.payload['period']} lists {published}; its scores order "
        f"them {expected}",
        expected=expected,
    )


def apply_period_ranking(state: DomainState, event: DomainEvent) -> None:
    order = tuple(r["assessee"] for r in event.payload["ranking"])
    state.table(RANKINGS).put(event.event_id, PublishedRanking(event.payload["scheme_id"], order))


def decide_cash(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """AWD-6: the amount is the schedule's for the position in the cited ranking, and a unit
    is not both rewarded and fined in one ranking; AWD-7 for rewards."""
    del directory
    scheme = require_scheme(state, event)
    require_year_stream(event)
    p = event.payload
    ranking = state.table(RANKINGS).get(p["ranking_event_id"])
    require(
        isinstance(ranking, PublishedRanking) and ranking.scheme_id == p["scheme_id"],
        "ENV-8",
        f"{p['ranking_event_id']} is not a ranking of scheme {p['scheme_id']}",
    )
    kind = "REWARD" if event.event_type == "MonetaryRewardGranted" else "FINE"
    if kind == "REWARD":
        _not_revoked(state, scheme, p["assessee"])
    order = ranking.order if isinstance(ranking, PublishedRanking) else ()
    entries = {(e.assessee, e.kind): e for e in cash_entries(order, scheme.config.cash)}
    entry = entries.get((p["assessee"], kind))
    require(
        entry is not None
        and entry.position == p["position"]
        and entry.amount_fen == p["amount_fen"],
        "AWD-6",
        f"the schedule gives {p['assessee']} "
        + (f"{entry.amount_fen} fen as {kind} #{entry.position}" if entry else f"no {kind}")
        + f" in ranking {p['ranking_event_id']}; recorded {p['amount_fen']} fen at "
        f"#{p['position']}",
        expected_amount_fen=entry.amount_fen if entry else None,
        expected_position=entry.position if entry else None,
    )
    already = state.table(CASH).get((p["ranking_event_id"], p["assessee"]))
    require(
        already is None,
        "AWD-6",
        f"{p['assessee']} already has a cash decision ({already}) in ranking "
        f"{p['ranking_event_id']}",
        existing_event_id=already,
    )


def apply_cash(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    state.table(CASH).put((p["ranking_event_id"], p["assessee"]), event.event_id)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("AssessmentConsolidated", apply=apply_consolidated, decide=decide_consolidated)
    rules.register("TieBrokenByDecision", apply=apply_tie, decide=decide_tie)
    rules.register(
        "LeadUnitAggregateSubmitted", apply=apply_lead_aggregate, decide=decide_lead_aggregate
    )
    rules.register("VetoApplied", decide=decide_veto)
    rules.register("AdvancedListProposed", apply=apply_proposed, decide=decide_proposed)
    rules.register("AssessmentResultsApproved", apply=apply_approved, decide=decide_approved)
    rules.register("AwardsRatified", apply=apply_ratified, decide=decide_ratified)
    rules.register("AwardGranted", decide=decide_award)
    rules.register("LastPlaceDesignated", decide=decide_last_place)
    rules.register("GradeAssigned", decide=decide_grade)
    rules.register("AwardEligibilityRevoked", apply=apply_revoked, decide=decide_revoked)
    rules.register(
        "PeriodRankingPublished", apply=apply_period_ranking, decide=decide_period_ranking
    )
    for event_type in ("MonetaryRewardGranted", "MonetaryPenaltyImposed"):
        rules.register(event_type, apply=apply_cash, decide=decide_cash)
