"""Hardship households: appraisal, selection, plan and exceptions (W7, 004 篇十二; CAP-4).

``HouseholdAssessed`` records the appraisal (摸底评议); ``HouseholdSelectedForAssistance``
admits a household whose per-capita disposable income is strictly below 1.5 times the
poverty line (CAP-4, N-HA-3); ``HouseholdPlanApproved`` records its plan (一户一策);
``ExceptionApproved`` lets it hold one more special preferential policy in a year (N-HA-11),
signed by the township and co-approved by the district civil-affairs bureau.

Tables: ``assist.assessments`` and ``assist.selections`` ((household, year) →
:class:`HouseholdIncome`), ``assist.plans`` ((household, year) → policy codes),
``assist.exceptions`` ((household, year, policy) → event id).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ledger.domain.assistance_caps import component
from ledger.domain.model import Directory, DomainEvent, DomainState, refuse, require

ASSESSMENTS = "assist.assessments"
SELECTIONS = "assist.selections"
PLANS = "assist.plans"
EXCEPTIONS = "assist.exceptions"

POVERTY_LINE_MULTIPLE = Fraction(3, 2)
"""N-HA-3: per-capita income below 1.5 times the poverty line (strictly below, ``[I]``)."""

DISTRICT_ORG_KINDS = frozenset({"GOVERNMENT", "DEPARTMENT"})
"""The co-approver acts for the district government or one of its bureaus."""


@dataclass(frozen=True, slots=True)
class HouseholdIncome:
    """An appraisal or selection: the income compared and the line it was compared with."""

    event_id: str
    household_id: str
    year: int
    household_size: int
    per_capita_income_fen: int
    poverty_line_fen: int


def hardship_threshold_fen(poverty_line_fen: int) -> Fraction:
    """The exact income threshold: 1.5 x the poverty line (5,550 元 for 3,700 元)."""
    return POVERTY_LINE_MULTIPLE * poverty_line_fen


def hardship_eligible(per_capita_income_fen: int, poverty_line_fen: int) -> bool:
    """CAP-4 test: per-capita income strictly below 1.5 x the poverty line (EX-HA-ELIG)."""
    return per_capita_income_fen < hardship_threshold_fen(poverty_line_fen)


def selection(state: DomainState, household_id: str, year: int) -> HouseholdIncome | None:
    """The household's selection for ``year``, or ``None``."""
    found: HouseholdIncome | None = state.table(SELECTIONS).get((household_id, year))
    return found


def exceptions_for(state: DomainState, household_id: str, year: int) -> frozenset[str]:
    """The extra policies approved as exceptions for a household and year."""
    return frozenset(
        policy
        for (household, on_year, policy), _event_id in state.table(EXCEPTIONS).items()
        if household == household_id and on_year == year
    )


def _income(event: DomainEvent) -> HouseholdIncome:
    p = event.payload
    return HouseholdIncome(
        event_id=event.event_id,
        household_id=p["household_id"],
        year=p["year"],
        household_size=p["household_size"],
        per_capita_income_fen=p["per_capita_income_fen"],
        poverty_line_fen=p["poverty_line_fen"],
    )


def _require_household_stream(event: DomainEvent) -> None:
    require(
        event.payload["household_id"] == event.stream_id,
        "ENV-7",
        "a household's events are recorded on the stream named by its id",
        household_id=event.payload["household_id"],
        stream_id=event.stream_id,
    )


# --- HouseholdAssessed ----------------------------------------------------------------------


def decide_assessed(_state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """An appraisal is recorded on its household's stream (any income may be appraised)."""
    _require_household_stream(event)


def apply_assessed(state: DomainState, event: DomainEvent) -> None:
    """Keep the latest appraisal per household and year."""
    income = _income(event)
    state.table(ASSESSMENTS).put((income.household_id, income.year), income)


# --- HouseholdSelectedForAssistance (CAP-4) ---------------------------------------------------


def decide_selected(_state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """CAP-4: per-capita income strictly below 1.5 x the poverty line at selection."""
    _require_household_stream(event)
    p = event.payload
    threshold = hardship_threshold_fen(p["poverty_line_fen"])
    require(
        hardship_eligible(p["per_capita_income_fen"], p["poverty_line_fen"]),
        "CAP-4",
        f"household {p['household_id']} has {p['per_capita_income_fen']} fen per person a "
        f"year, not below 1.5 times the poverty line of {p['poverty_line_fen']} fen "
        f"({threshold} fen)",
        household_id=p["household_id"],
        per_capita_income_fen=p["per_capita_income_fen"],
        poverty_line_fen=p["poverty_line_fen"],
        threshold_fen=str(threshold),
    )


def apply_selected(state: DomainState, event: DomainEvent) -> None:
    """The household is selected for the year."""
    income = _income(event)
    state.table(SELECTIONS).put((income.household_id, income.year), income)


# --- HouseholdPlanApproved -------------------------------------------------------------------


def decide_plan(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """A plan is for a selected household and lists defined components."""
    _require_household_stream(event)
    p = event.payload
    require(
        selection(state, p["household_id"], p["year"]) is not None,
        "ENV-8",
        f"household {p['household_id']} was not selected for assistance in {p['year']}",
        household_id=p["household_id"],
        year=p["year"],
    )
    unknown = sorted(code for code in p["policies"] if component(state, code) is None)
    require(
        not unknown,
        "ENV-8",
        f"the plan names undefined benefit components: {', '.join(unknown)}",
        unknown=unknown,
    )


def apply_plan(state: DomainState, event: DomainEvent) -> None:
    """Store the plan's policies; a later plan for the same year replaces it."""
    p = event.payload
    state.table(PLANS).put((p["household_id"], p["year"]), tuple(p["policies"]))


# --- ExceptionApproved (two signatures) --------------------------------------------------------


def decide_exception(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The extra policy is a special policy, co-approved by the district above the township."""
    _require_household_stream(event)
    p = event.payload
    extra = component(state, p["extra_policy_code"])
    require(
        extra is not None and extra.is_special_policy,
        "ENV-8",
        f"{p['extra_policy_code']} is not a defined special preferential policy",
        extra_policy_code=p["extra_policy_code"],
    )
    require_district_co_approver(directory, event, p["co_approver_actor_id"])


def require_district_co_approver(directory: Directory, event: DomainEvent, co_actor: str) -> None:
    """The co-approver is another person acting for the government of the district directly
    above the signing township, or for one of its bureaus (N-HA-11: township *and* district).
    """
    co_org = directory.actor_org(co_actor)
    kind = None if co_org is None else directory.org_kind(co_org)
    if co_org is None or kind not in DISTRICT_ORG_KINDS:
        raise refuse(
            "CAP-3",
            f"co-approver {co_actor} does not act for a district government or bureau",
            co_approver_actor_id=co_actor,
            co_approver_org_id=co_org,
            co_approver_org_kind=kind,
        )
    district = co_org if kind == "GOVERNMENT" else directory.org_parent(co_org)
    township_parent = directory.org_parent(event.org_id)
    require(
        district is not None and district == township_parent,
        "CAP-3",
        f"co-approver {co_actor} acts for {co_org}, not for the district above the signing "
        f"township {event.org_id}",
        co_approver_org_id=co_org,
        district_org_id=district,
        township_org_id=event.org_id,
        township_parent_org_id=township_parent,
    )
    require(
        directory.actor_person(co_actor) != directory.actor_person(event.actor_id),
        "CAP-3",
        "the township signer and the district co-approver must be different people",
        co_approver_actor_id=co_actor,
        actor_id=event.actor_id,
    )


def apply_exception(state: DomainState, event: DomainEvent) -> None:
    """Record the exception (CAP-3 lets this extra policy through for the household and year)."""
    p = event.payload
    state.table(EXCEPTIONS).put(
        (p["household_id"], p["year"], p["extra_policy_code"]), event.event_id
    )
