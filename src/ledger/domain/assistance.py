"""Medical, temporary and capped assistance rules (W6, W7; CAP-1..CAP-5; ``domain.md`` §4.6-4.7).

* ``BenefitComponentDefined`` / ``BenefitGranted``: the capped components and their caps
  (:mod:`ledger.domain.assistance_caps`); a hardship-assistance grant also needs the household
  to have been selected that year (CAP-4, :mod:`ledger.domain.assistance_households`).
* Temporary assistance (临时救助, W6): a grant of a ``TEMP_ASSISTANCE`` component is a case;
  the fast track is a township grant flagged ``fast_track`` (paid from the township reserve).
  Each month a township's cases are approved in one batch (``TempAssistanceMonthlyApproval``)
  and spot-checked by the county (``SpotCheckCompleted``); a month with cases but without
  either is what ``AF-TA-NO-MONTHLY-APPROVAL`` reports (:func:`months_missing_oversight`).
  The city sets its subsidy to each township reserve (``ReserveSubsidyAdjusted``).

Tables: ``assist.monthly_approvals`` ((township, month) → case ids), ``assist.spot_checks``
((programme, township, month) → spot-check id), ``assist.reserve_subsidies`` (township →
((effective_from, amount_fen), …)).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import assistance_caps as caps
from ledger.domain import assistance_households as households
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    refuse,
    require,
    require_scope,
)
from ledger.domain.periods import Period
from ledger.errors import AuthorizationError

MONTHLY_APPROVALS = "assist.monthly_approvals"
SPOT_CHECKS = "assist.spot_checks"
RESERVE_SUBSIDIES = "assist.reserve_subsidies"

PAYER_ROLES = {"DISTRICT": "county_approver", "TOWNSHIP": "township_reviewer"}
"""Who grants a component paid by each level (W7: "township or county")."""

MONTHLY_PROGRAMMES = frozenset({"TEMP_ASSISTANCE", "MEDICAL_AID"})
"""N-MA-3, N-TA-1: approved monthly and spot-checked monthly."""


# --- BenefitGranted ------------------------------------------------------------------------


def decide_grant(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """A grant within every cap of its component (CAP-1..CAP-5)."""
    comp = caps.require_grant_references(state, event)
    _require_payer_role(event, comp)
    grant = caps.grant_from(state, event)
    basis = event.payload["basis"]
    if comp.programme_code == "HARDSHIP_ASSISTANCE":
        _require_selected(state, grant)
    caps.decide_cap_5(state, comp, grant)
    caps.decide_cap_1(state, comp, grant, basis)
    caps.decide_cap_2(state, comp, grant, basis)
    allowed_extra = households.exceptions_for(state, grant.household_id, grant.period.year)
    caps.decide_cap_3(state, comp, grant, allowed_extra)


def _require_payer_role(event: DomainEvent, comp: caps.Component) -> None:
    """A district-paid component is granted by the county (district) approver, a township-paid
    one by the township: each level signs for its own money (ENV-2)."""
    expected = PAYER_ROLES[comp.payer_level]
    if event.role != expected:
        raise AuthorizationError(
            f"{comp.code} is paid by the {comp.payer_level.lower()}: it is granted by a "
            f"{expected}, not a {event.role}",
            reason="payer_level_role",
            component_code=comp.code,
            payer_level=comp.payer_level,
            role=event.role,
        )


def _require_selected(state: DomainState, grant: caps.Grant) -> None:
    """CAP-4 at grant time: hardship assistance goes to households selected that year."""
    year = grant.period.year
    require(
        households.selection(state, grant.household_id, year) is not None,
        "CAP-4",
        f"household {grant.household_id} was not selected for hardship assistance in {year} "
        "(per-capita income below 1.5 times the poverty line)",
        household_id=grant.household_id,
        year=year,
    )


# --- temporary assistance: cases and monthly oversight ---------------------------------------


def cases_of(state: DomainState, programme_code: str, org_id: str, month: Period) -> set[str]:
    """The grant ids of a programme recorded by ``org_id`` for ``month``."""
    return {
        g.grant_id
        for g in caps.grants(state).values()
        if g.programme_code == programme_code and g.org_id == org_id and g.period == month
    }


def months_missing_oversight(state: DomainState) -> list[tuple[str, str, str, str]]:
    """(programme, org, month, what is missing) for each month with temporary or medical
    assistance cases but no monthly approval or no spot check (``AF-TA-NO-MONTHLY-APPROVAL``)."""
    months = {
        (g.programme_code, g.org_id, g.period)
        for g in caps.grants(state).values()
        if g.programme_code in MONTHLY_PROGRAMMES
    }
    missing: list[tuple[str, str, str, str]] = []
    for programme_code, org_id, month in sorted(months):
        if (org_id, str(month)) not in state.table(MONTHLY_APPROVALS):
            missing.append((programme_code, org_id, str(month), "MONTHLY_APPROVAL"))
        if (programme_code, org_id, str(month)) not in state.table(SPOT_CHECKS):
            missing.append((programme_code, org_id, str(month), "SPOT_CHECK"))
    return missing


def decide_monthly_approval(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """One approval per township and month, by its signer, of that month's recorded cases."""
    p = event.payload
    township, month = p["township_org_id"], Period.parse(p["month"])
    require(
        event.stream_id == f"{township}.{month}" and event.version == 1,
        "ENV-7",
        f"the {month} approval of {township} is recorded once, on stream {township}.{month}",
        stream_id=event.stream_id,
        version=event.version,
    )
    require_scope(directory, event, township)
    require(
        p["approver"] == event.actor_id,
        "ENV-8",
        f"the approver named ({p['approver']}) is not the signer ({event.actor_id})",
        approver=p["approver"],
        actor_id=event.actor_id,
    )
    known = set().union(*(cases_of(state, code, township, month) for code in MONTHLY_PROGRAMMES))
    unknown = sorted(set(p["case_ids"]) - known)
    require(
        not unknown,
        "ENV-8",
        f"cases not recorded for {township} in {month}: {', '.join(unknown)}",
        unknown_case_ids=unknown,
    )


def apply_monthly_approval(state: DomainState, event: DomainEvent) -> None:
    """Record that the township's month was approved."""
    p = event.payload
    state.table(MONTHLY_APPROVALS).put(
        (p["township_org_id"], p["month"]), tuple(sorted(p["case_ids"]))
    )


def decide_spot_check(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A county spot check of recorded cases, with one result per sampled case."""
    p = event.payload
    require(
        p["spot_check_id"] == event.stream_id and event.version == 1,
        "ENV-7",
        f"spot check {p['spot_check_id']} is recorded once, on its own stream",
        stream_id=event.stream_id,
        version=event.version,
    )
    township, month = p["township_org_id"], Period.parse(p["month"])
    require_scope(directory, event, township)
    sampled = set(p["sampled_case_ids"])
    results = [r["case_id"] for r in p["results"]]
    require(
        len(results) == len(set(results)) and set(results) == sampled,
        "ENV-7",
        "a spot check gives exactly one result per sampled case",
        sampled_case_ids=sorted(sampled),
        result_case_ids=sorted(results),
    )
    unknown = sorted(sampled - cases_of(state, p["programme"], township, month))
    require(
        not unknown,
        "ENV-8",
        f"sampled cases not recorded for {township} in {month}: {', '.join(unknown)}",
        unknown_case_ids=unknown,
    )


def apply_spot_check(state: DomainState, event: DomainEvent) -> None:
    """Record that the township's month was spot-checked."""
    p = event.payload
    state.table(SPOT_CHECKS).put(
        (p["programme"], p["township_org_id"], p["month"]), p["spot_check_id"]
    )


# --- ReserveSubsidyAdjusted ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReserveSubsidy:
    """The city's subsidy to a township reserve from a month on."""

    effective_from: Period
    amount_fen: int
    event_id: str


def decide_reserve_subsidy(_state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The subsidy is for a registered township within the city's scope."""
    township = event.payload["township_org_id"]
    if not directory.org_exists(township):
        raise refuse("ENV-8", f"{township} is not a registered organisation", township=township)
    require(
        event.stream_id == township,
        "ENV-7",
        "a township's reserve subsidy is recorded on the stream named by the township",
        stream_id=event.stream_id,
        township_org_id=township,
    )
    require_scope(directory, event, township)


def apply_reserve_subsidy(state: DomainState, event: DomainEvent) -> None:
    """Add the adjustment to the township's history."""
    p = event.payload
    table = state.table(RESERVE_SUBSIDIES)
    history: tuple[ReserveSubsidy, ...] = table.get(p["township_org_id"]) or ()
    entry = ReserveSubsidy(Period.parse(p["effective_from"]), p["amount_fen"], event.event_id)
    table.put(p["township_org_id"], (*history, entry))


def reserve_subsidy_in_force(state: DomainState, township: str, month: Period) -> int | None:
    """The city's subsidy to ``township``'s reserve in ``month`` (latest adjustment wins)."""
    history: tuple[ReserveSubsidy, ...] = state.table(RESERVE_SUBSIDIES).get(township) or ()
    applicable = [e for e in history if e.effective_from <= month]
    if not applicable:
        return None
    return max(applicable, key=lambda e: e.effective_from).amount_fen


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register(
        "BenefitComponentDefined",
        apply=caps.apply_component_defined,
        decide=caps.decide_component_defined,
    )
    rules.register("BenefitGranted", apply=caps.apply_grant, decide=decide_grant)
    rules.register(
        "HouseholdAssessed", apply=households.apply_assessed, decide=households.decide_assessed
    )
    rules.register(
        "HouseholdSelectedForAssistance",
        apply=households.apply_selected,
        decide=households.decide_selected,
    )
    rules.register(
        "HouseholdPlanApproved", apply=households.apply_plan, decide=households.decide_plan
    )
    rules.register(
        "ExceptionApproved", apply=households.apply_exception, decide=households.decide_exception
    )
    rules.register(
        "TempAssistanceMonthlyApproval",
        apply=apply_monthly_approval,
        decide=decide_monthly_approval,
    )
    rules.register("SpotCheckCompleted", apply=apply_spot_check, decide=decide_spot_check)
    rules.register(
        "ReserveSubsidyAdjusted", apply=apply_reserve_subsidy, decide=decide_reserve_subsidy
    )
