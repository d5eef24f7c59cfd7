"""Eligibility rule sets and the dibao income test (``domain.md`` §3.1.2, §6.2, Q13).

A programme whose rule set in force has the test ``INCOME_BELOW_STANDARD`` (dibao) is
*income-tested*: its applications carry a ``HouseholdIncomeAssessed`` and the approval grants
the computed entitlement rather than the flat standard. Everything the formula needs is data:
the standard in force (an annual amount, ``BenefitStandardPublished``), and the rule set's
allowed disregards (N-DB-9) and classified-assistance increments (分类施保, N-DB-2).

The formula, per month, for the covered unit of ``n`` persons (the whole household, or one
person treated as a single-person household, N-DB-7)::

    net income  = max(0, monthly income - Σ disregards)
    gap         = n * (annual standard / 12) - net income       (exact rational)
    eligible    ⇔ gap > 0                    (per-capita net income below the standard)
    monthly     = ceil(gap) + Σ increment(category of each covered member)   when eligible
    annual      = 12 * monthly               (so every monthly instalment is exact, §4.2)

The gap is rounded *up* to the fen because the standard is a guaranteed floor (§5.0).

Tables: ``dib.rule_sets`` (rule set id → :class:`RuleSet`), ``dib.assessments`` (application
id → :class:`IncomeAssessment`, the latest).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Table,
    refuse,
    require,
)
from ledger.domain.periods import Period
from ledger.domain.programmes import require_programme

RULE_SETS = "dib.rule_sets"
ASSESSMENTS = "dib.assessments"

INCOME_TEST = "INCOME_BELOW_STANDARD"
SINGLE_PERSON = "SINGLE_PERSON"
MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One published eligibility rule set."""

    rule_set_id: str
    version: int
    position: int
    programme_code: str
    test: str
    disregard_kinds: frozenset[str]
    increments: tuple[tuple[str, int], ...]
    """(hardship category, monthly fen per covered person of that category)."""
    gradual_exit_months: int | None
    voluntary_exit_max_months: int | None
    effective_from: Period

    def increment_fen(self, category: str) -> int:
        """The monthly increment for a person of ``category`` (0 when none is configured)."""
        return dict(self.increments).get(category, 0)


@dataclass(frozen=True, slots=True)
class IncomeAssessment:
    """The latest ``HouseholdIncomeAssessed`` of an application."""

    event_id: str
    rule_set_id: str
    household_treatment: str
    covered_person_ids: tuple[str, ...]
    monthly_income_fen: int
    disregards_fen: int
    categories: tuple[tuple[str, str], ...]
    """(person id, hardship category) of covered members."""

    @property
    def covered_count(self) -> int:
        return len(self.covered_person_ids)

    @property
    def net_income_fen(self) -> int:
        """Monthly income after the disregards, never below zero."""
        return max(0, self.monthly_income_fen - self.disregards_fen)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """The result of the income test against one annual standard."""

    gap: Fraction
    """n * monthly standard - net income (positive when eligible)."""
    increments_fen: int
    monthly_fen: int
    annual_fen: int

    @property
    def eligible(self) -> bool:
        return self.gap > 0


def _rule_sets(state: DomainState) -> Table[str, RuleSet]:
    return state.table(RULE_SETS)


def _assessments(state: DomainState) -> Table[str, IncomeAssessment]:
    return state.table(ASSESSMENTS)


# --- queries -----------------------------------------------------------------------------


def rule_set(state: DomainState, rule_set_id: str) -> RuleSet | None:
    """The rule set ``rule_set_id`` (its latest version), or ``None``."""
    return _rule_sets(state).get(rule_set_id)


def rule_set_in_force(state: DomainState, programme_code: str, period: Period) -> RuleSet | None:
    """The programme's rule set in force in ``period``: the latest ``effective_from`` not
    after it, then the latest publication."""
    candidates = [
        r
        for r in _rule_sets(state).values()
        if r.programme_code == programme_code and r.effective_from <= period
    ]
    return max(candidates, key=lambda r: (r.effective_from, r.position), default=None)


def income_tested(state: DomainState, programme_code: str, period: Period) -> bool:
    """Whether the programme grants an income-based entitlement in ``period`` (dibao)."""
    found = rule_set_in_force(state, programme_code, period)
    return found is not None and found.test == INCOME_TEST


def assessment(state: DomainState, application_id: str) -> IncomeAssessment | None:
    """The latest income assessment of an application, or ``None``."""
    return _assessments(state).get(application_id)


def monthly_standard(annual_standard_fen: int) -> Fraction:
    """The monthly dibao standard of an annual standard (exact)."""
    return Fraction(annual_standard_fen, MONTHS_PER_YEAR)


def entitlement(found: IncomeAssessment, rules: RuleSet, annual_standard_fen: int) -> Entitlement:
    """The income-test entitlement of ``found`` under ``rules`` and a standard (see the
    module docstring).

    >>> a = IncomeAssessment("e", "r", "NORMAL", ("p1", "p2", "p3"), 120_000, 30_000,
    ...                      (("p3", "SEVERELY_DISABLED"),))
    >>> r = RuleSet("r", 1, 0, "DIBAO_RURAL", INCOME_TEST, frozenset({"ILLNESS"}),
    ...             (("SEVERELY_DISABLED", 10_000),), 12, 3, Period(2023, 7))
    >>> entitlement(a, r, 780_000).monthly_fen
    115000
    """
    gap = found.covered_count * monthly_standard(annual_standard_fen) - found.net_income_fen
    if gap <= 0:
        return Entitlement(gap=gap, increments_fen=0, monthly_fen=0, annual_fen=0)
    covered = set(found.covered_person_ids)
    increments = sum(rules.increment_fen(c) for person, c in found.categories if person in covered)
    monthly = math.ceil(gap) + increments
    return Entitlement(
        gap=gap, increments_fen=increments, monthly_fen=monthly, annual_fen=monthly * 12
    )


# --- EligibilityRuleSetPublished ------------------------------------------------------------


def decide_rule_set_published(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """A rule set of a defined programme, on its own stream, whose versions only grow, with
    one increment per category."""
    p = event.payload
    require(
        p["rule_set_id"] == event.stream_id,
        "ENV-7",
        f"rule set {p['rule_set_id']} is published on the stream named by its id",
        rule_set_id=p["rule_set_id"],
        stream_id=event.stream_id,
    )
    require_programme(state, p["programme_code"])
    earlier = rule_set(state, p["rule_set_id"])
    require(
        earlier is None
        or (earlier.programme_code == p["programme_code"] and p["version"] > earlier.version),
        "ENV-7",
        f"a new version of rule set {p['rule_set_id']} keeps its programme and raises the "
        f"version (last: {earlier.version if earlier else None}, given: {p['version']})",
        rule_set_id=p["rule_set_id"],
        version=p["version"],
    )
    categories = [i["category"] for i in p["classified_increments"]]
    require(
        len(categories) == len(set(categories)),
        "ENV-5",
        "each hardship category has at most one increment",
        categories=categories,
    )


def apply_rule_set_published(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _rule_sets(state).put(
        p["rule_set_id"],
        RuleSet(
            rule_set_id=p["rule_set_id"],
            version=p["version"],
            position=event.position,
            programme_code=p["programme_code"],
            test=p["test"],
            disregard_kinds=frozenset(p["disregard_kinds"]),
            increments=tuple((i["category"], i["monthly_fen"]) for i in p["classified_increments"]),
            gradual_exit_months=p["gradual_exit_months"],
            voluntary_exit_max_months=p["voluntary_exit_max_months"],
            effective_from=Period.parse(p["effective_from"]),
        ),
    )


# --- HouseholdIncomeAssessed (the parts that need no application) -----------------------------


def require_assessment_fits(
    state: DomainState, event: DomainEvent, programme_code: str, household: frozenset[str]
) -> RuleSet:
    """The assessment cites the programme's income-test rule set in force, deducts only
    allowed disregards and covers members of the household (one for SINGLE_PERSON)."""
    p: Mapping[str, Any] = event.payload
    in_force = rule_set_in_force(state, programme_code, Period.of(event.day))
    require(
        in_force is not None
        and in_force.test == INCOME_TEST
        and in_force.rule_set_id == p["rule_set_id"],
        "ENV-8",
        f"the assessment cites rule set {p['rule_set_id']}; the income-test rule set in force "
        f"for {programme_code} is {in_force.rule_set_id if in_force else 'none'}",
        rule_set_id=p["rule_set_id"],
        rule_set_in_force=in_force.rule_set_id if in_force else None,
    )
    assert in_force is not None
    kinds = {d["kind"] for d in p["disregards"]}
    require(
        kinds <= in_force.disregard_kinds,
        "ENV-8",
        "only the disregards the rule set allows may be deducted "
        f"(not allowed: {', '.join(sorted(kinds - in_force.disregard_kinds))})",
        disallowed=sorted(kinds - in_force.disregard_kinds),
    )
    covered = frozenset(p["covered_person_ids"])
    outside = sorted(covered - household) + sorted(
        c["person_id"] for c in p["member_categories"] if c["person_id"] not in covered
    )
    require(
        not outside,
        "ENV-8",
        "the assessment covers members of the household only, and categorises covered "
        f"persons only (not: {', '.join(outside)})",
        outside=outside,
    )
    if p["household_treatment"] == SINGLE_PERSON:
        require(
            len(covered) == 1,
            "ENV-8",
            "a single-person-household assessment covers exactly one person",
            covered=sorted(covered),
        )
    return in_force


def apply_income_assessed(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    _assessments(state).put(
        event.stream_id,
        IncomeAssessment(
            event_id=event.event_id,
            rule_set_id=p["rule_set_id"],
            household_treatment=p["household_treatment"],
            covered_person_ids=tuple(p["covered_person_ids"]),
            monthly_income_fen=p["monthly_income_fen"],
            disregards_fen=sum(d["amount_fen"] for d in p["disregards"]),
            categories=tuple((c["person_id"], c["category"]) for c in p["member_categories"]),
        ),
    )


def require_rule_set(state: DomainState, rule_set_id: str) -> RuleSet:
    """The rule set ``rule_set_id``; ENV-8 when it was never published."""
    found = rule_set(state, rule_set_id)
    if found is None:
        raise refuse(
            "ENV-8", f"rule set {rule_set_id} was never published", rule_set_id=rule_set_id
        )
    return found
