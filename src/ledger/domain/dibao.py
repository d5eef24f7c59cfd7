"""Minimum living allowance (dibao): W1 by configuration, the income test, and the W3/W4 rules.

Dibao runs through the same W1 machinery as 特困 (:mod:`ledger.domain.applications`); what
differs is configuration. ``ProgrammeDefined`` sets the procedure (three-level review with two
notices, 三级两次公示: the village appraises, the township's preliminary opinion is notice #1,
the county approves, the RESULT_PUBLICATION is notice #2), and an ``EligibilityRuleSetPublished``
with the test ``INCOME_BELOW_STANDARD`` makes the programme income-tested
(:mod:`ledger.domain.dibao_income`). This module adds, for income-tested programmes:

* ``HouseholdIncomeAssessed`` on an application under investigation (SOD-1, SOD-4 for the
  assessor; the rule set in force; only allowed disregards);
* on ``ApplicationApproved``: APP-15 (an assessment exists and the per-capita net income is
  below the standard) and the granted annual amount is exactly the income-test entitlement
  against the standard the approval cites.

Dynamic management and exits (W3, W4) are in :mod:`ledger.domain.dibao_dynamic`, registered
from here because ``build_rules`` wires this module.
"""

from __future__ import annotations

from ledger.domain import applications, dibao_dynamic, dibao_income
from ledger.domain.applications import Status
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
from ledger.domain.programmes import standard

ASSESSABLE = frozenset({Status.ACCEPTED, Status.REINVESTIGATING, Status.INVESTIGATED})
"""An income assessment belongs to the investigation (W1.5), before the opinion."""


def decide_income_assessed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """An income assessment on an income-tested application under investigation, by an
    investigator who is neither a reviewer of the case nor a filed relative."""
    found = applications.application(state, event.stream_id)
    if found is None:
        raise refuse(
            "APP-0",
            f"HouseholdIncomeAssessed on application {event.stream_id}, which was never submitted",
            application_id=event.stream_id,
        )
    require(
        found.status in ASSESSABLE,
        "APP-5",
        f"application {found.application_id} is {found.status}; household income is assessed "
        "during the investigation (accepted, or re-opened by an upheld objection)",
        application_id=found.application_id,
        status=str(found.status),
    )
    require_scope(directory, event, found.township_org_id)
    applications.require_not_related(directory, found, event.actor_id, "investigator")
    applications.require_no_shared_person(
        found,
        frozenset({directory.actor_person(event.actor_id)}),
        applications.persons_of(directory, found.reviewer_actor_ids),
        "investigator",
    )
    household = found.member_person_ids | {found.applicant_person_id}
    dibao_income.require_assessment_fits(state, event, found.programme_code, household)


def decide_income_tested_approval(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """APP-15 and the amount for an income-tested programme: the approval grants 12 times
    the monthly entitlement computed from the latest assessment and the cited standard."""
    found = applications.require_application(state, event.stream_id)
    p = event.payload
    period = Period.parse(p["first_payable_period"])
    if not dibao_income.income_tested(state, found.programme_code, period):
        return
    assessed = dibao_income.assessment(state, found.application_id)
    if assessed is None:
        raise refuse(
            "APP-15",
            f"application {found.application_id} to income-tested programme "
            f"{found.programme_code} has no household income assessment",
            application_id=found.application_id,
        )
    cited = standard(state, p["standard_ref"])
    if cited is None:  # applications refuses first with ENV-8; kept for direct callers
        raise refuse("ENV-8", f"standard {p['standard_ref']} does not exist")
    rules = dibao_income.require_rule_set(state, assessed.rule_set_id)
    due = dibao_income.entitlement(assessed, rules, cited.amount_fen)
    evidence = {
        "application_id": found.application_id,
        "covered_persons": assessed.covered_count,
        "net_monthly_income_fen": assessed.net_income_fen,
        "annual_standard_fen": cited.amount_fen,
    }
    require(
        due.eligible,
        "APP-15",
        f"the household's net income of {assessed.net_income_fen} fen a month for "
        f"{assessed.covered_count} person(s) is not below the dibao standard "
        f"({cited.amount_fen} fen a year per person)",
        **evidence,
    )
    require(
        p["household_treatment"] == assessed.household_treatment,
        "ENV-8",
        f"the approval treats the household as {p['household_treatment']}; it was assessed "
        f"as {assessed.household_treatment}",
        household_treatment=p["household_treatment"],
        assessed_treatment=assessed.household_treatment,
    )
    require(
        p["annual_amount_fen"] == due.annual_fen,
        "ENV-8",
        f"the approval grants {p['annual_amount_fen']} fen a year; the income test gives "
        f"{due.monthly_fen} fen a month ({due.annual_fen} a year, of which "
        f"{due.increments_fen} a month classified assistance)",
        annual_amount_fen=p["annual_amount_fen"],
        entitlement_annual_fen=due.annual_fen,
        entitlement_monthly_fen=due.monthly_fen,
        **evidence,
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register(
        "EligibilityRuleSetPublished",
        apply=dibao_income.apply_rule_set_published,
        decide=dibao_income.decide_rule_set_published,
    )
    rules.register(
        "HouseholdIncomeAssessed",
        apply=dibao_income.apply_income_assessed,
        decide=decide_income_assessed,
    )
    rules.register("ApplicationApproved", decide=decide_income_tested_approval)
    dibao_dynamic.register(rules)
