"""W3 dynamic management (动态管理) and W4 exits (``domain.md`` §4.3, §4.4; TRM-4, TRM-5).

W3 applies to every programme: reported changes, periodic reviews and village-assembly roll
reviews are recorded (facts and findings need them, §7.1); suspensions, support-mode changes,
care assessments, revaluations and classified adjustments change what is payable. W4 applies
where the programme's rule set configures it (dibao: ``gradual_exit_months`` = 12,
``voluntary_exit_max_months`` = 3).

Entitlement amounts are annual, like ``BeneficiaryEnrolled.annual_amount_fen``: the payment
rules pay the §4.2 instalment of the annual amount in force in the period (PAY-5). A
revaluation moves the entitlement by the change of the annual standard times the number of
covered persons (1 for a per-person programme; the assessed household for dibao), which is
exactly the income-test formula's change when only the standard moves.

Enrolment states change through :func:`ledger.domain.enrolments.set_status`:
``ACTIVE ⇄ SUSPENDED`` (from GRADUAL_EXIT too, returning there), ``ACTIVE → GRADUAL_EXIT``.

Tables: ``dyn.records`` (enrolment id → :class:`Dynamic`), ``dyn.roll_reviews`` (review id →
:class:`RollReview`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ledger.domain import applications, dibao_income, enrolments
from ledger.domain.enrolments import Enrolment, EnrolmentStatus
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    refuse,
    require,
)
from ledger.domain.periods import Period, month_after, parse_date, period_amount_fen
from ledger.domain.programmes import require_programme, standard, standard_in_force

RECORDS = "dyn.records"
ROLL_REVIEWS = "dyn.roll_reviews"

ACTIVE = EnrolmentStatus.ACTIVE
SUSPENDED = EnrolmentStatus.SUSPENDED
GRADUAL_EXIT = EnrolmentStatus.GRADUAL_EXIT
ONGOING = frozenset({ACTIVE, SUSPENDED, GRADUAL_EXIT, EnrolmentStatus.TERMINATION_PENDING})
"""Not terminated: reviews, adjustments and revaluations still apply."""
PAYING = frozenset({ACTIVE, GRADUAL_EXIT})
CENTRALISED = "CENTRALISED"
CARE_INSTITUTION = "CARE_INSTITUTION"


@dataclass(frozen=True, slots=True)
class Suspension:
    """Months in which nothing is payable (``last`` ``None``: until reinstated)."""

    first: Period
    last: Period | None

    def covers(self, period: Period) -> bool:
        return self.first <= period and (self.last is None or period <= self.last)


@dataclass(frozen=True, slots=True)
class Dynamic:
    """What W3 and W4 changed about one enrolment."""

    enrolment_id: str
    entitlements: tuple[tuple[Period, int], ...]
    """(effective period, annual fen), in the order decided; the latest applicable wins."""
    standard_ref: str
    """The standard the entitlement currently follows (revaluations move it)."""
    covered_count: int
    support_modes: tuple[tuple[Period, str, str | None, str], ...]
    """(effective period, support mode, institution id, payment account id)."""
    suspensions: tuple[Suspension, ...] = ()
    status_before_suspension: EnrolmentStatus = ACTIVE
    income_above_on: date | None = None
    gradual_exit: tuple[Period, Period] | None = None
    voluntary_exit: tuple[int, int] | None = None
    """(months, amount fen) granted on voluntary exit."""
    care_levels: tuple[tuple[Period, str], ...] = ()
    changes_reported: tuple[tuple[str, date, str], ...] = ()
    """(change type, observed on, event id) — e.g. a DEATH to be acted on (§7.1)."""
    reviews: tuple[tuple[str, str, date], ...] = ()
    """(review type, outcome, date) of periodic reviews."""
    flagged_by: tuple[str, ...] = ()
    """Roll reviews whose assembly flagged this enrolment as ineligible."""

    def annual_fen(self, period: Period) -> int:
        """The annual entitlement in force in ``period`` (the latest decision effective by
        then, so a later correction of the same month replaces an earlier one)."""
        amount = self.entitlements[0][1]
        best: Period | None = None
        for effective, value in self.entitlements:
            if effective <= period and (best is None or effective >= best):
                best, amount = effective, value
        return amount

    def support_mode(self, period: Period) -> tuple[str, str | None, str]:
        """(mode, institution id, account id) in force in ``period``."""
        current = self.support_modes[0]
        for change in self.support_modes:
            if change[0] <= period:
                current = change
        return current[1], current[2], current[3]


@dataclass(frozen=True, slots=True)
class RollReview:
    """A villagers' representative assembly review of the roll (N-DB-10)."""

    review_id: str
    village_org_id: str
    programme_code: str
    meeting_date: date
    flagged_enrolment_ids: tuple[str, ...]


def _records(state: DomainState) -> Table[str, Dynamic]:
    return state.table(RECORDS)


def record(state: DomainState, enrolment_id: str) -> Dynamic | None:
    """The W3/W4 record of an enrolment, or ``None`` for an unknown one."""
    return _records(state).get(enrolment_id)


def roll_review(state: DomainState, review_id: str) -> RollReview | None:
    found: RollReview | None = state.table(ROLL_REVIEWS).get(review_id)
    return found


def _update(state: DomainState, enrolment_id: str, **changes: object) -> None:
    found = _records(state).get(enrolment_id)
    if found is not None:
        _records(state).put(enrolment_id, replace(found, **changes))  # type: ignore[arg-type]


def _case(
    state: DomainState,
    directory: Directory,
    event: DomainEvent,
    allowed: frozenset[EnrolmentStatus],
) -> tuple[Enrolment, Dynamic]:
    found = enrolments.enrolment_for(state, directory, event, allowed)
    return found, _records(state)[found.enrolment_id]


def _require_from_first_period(found: Enrolment, period: Period, what: str) -> None:
    require(
        period >= found.first_payable_period,
        "ENV-8",
        f"{what} takes effect in {period}, before the enrolment's first payable period "
        f"{found.first_payable_period}",
        enrolment_id=found.enrolment_id,
        effective_period=str(period),
        first_payable_period=str(found.first_payable_period),
    )


# --- the record starts with the enrolment ---------------------------------------------------


def apply_enrolled(state: DomainState, event: DomainEvent) -> None:
    """Start the record: the approved amount from the first payable period, the covered
    persons of the income assessment (one when there is none)."""
    p = event.payload
    assessed = dibao_income.assessment(state, p["application_id"])
    first = Period.parse(p["first_payable_period"])
    _records(state).put(
        p["enrolment_id"],
        Dynamic(
            enrolment_id=p["enrolment_id"],
            entitlements=((first, p["annual_amount_fen"]),),
            standard_ref=p["standard_ref"],
            covered_count=assessed.covered_count if assessed is not None else 1,
            support_modes=(
                (first, p["support_mode"], p["institution_id"], p["payment_account_id"]),
            ),
        ),
    )


# --- facts and reviews (W3.1 to W3.3, W3.5) -----------------------------------------------------


def apply_change_reported(state: DomainState, event: DomainEvent) -> None:
    """Keep every reported change (a fact; unknown enrolments are ignored here)."""
    found = record(state, event.stream_id)
    if found is None:
        return
    change = (
        event.payload["change_type"],
        parse_date(event.payload["observed_on"]),
        event.event_id,
    )
    _update(state, event.stream_id, changes_reported=(*found.changes_reported, change))


def decide_review(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A periodic review is of an enrolment that is not terminated."""
    _case(state, directory, event, ONGOING)


def apply_review(state: DomainState, event: DomainEvent) -> None:
    found = _records(state)[event.stream_id]
    review = (event.payload["review_type"], event.payload["outcome"], event.day)
    _update(state, event.stream_id, reviews=(*found.reviews, review))


def apply_roll_reviewed(state: DomainState, event: DomainEvent) -> None:
    """Record the assembly's review and mark each flagged enrolment (W5 must follow)."""
    p = event.payload
    flagged = tuple(p["flagged_enrolment_ids"])
    state.table(ROLL_REVIEWS).put(
        p["review_id"],
        RollReview(
            review_id=p["review_id"],
            village_org_id=p["village_org_id"],
            programme_code=p["programme"],
            meeting_date=parse_date(p["meeting_date"]),
            flagged_enrolment_ids=flagged,
        ),
    )
    for enrolment_id in flagged:
        found = record(state, enrolment_id)
        if found is not None:
            _update(state, enrolment_id, flagged_by=(*found.flagged_by, p["review_id"]))


def decide_care_assessed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    found, _ = _case(state, directory, event, ONGOING)
    _require_from_first_period(
        found, Period.parse(event.payload["effective_period"]), "the care assessment"
    )


def apply_care_assessed(state: DomainState, event: DomainEvent) -> None:
    found = _records(state)[event.stream_id]
    level = (Period.parse(event.payload["effective_period"]), event.payload["level"])
    _update(state, event.stream_id, care_levels=(*found.care_levels, level))


# --- SupportModeChanged (W3.4) ------------------------------------------------------------------


def decide_support_mode_changed(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """From the mode in force to another mode the programme offers; a centralised stay
    names a care institution and respects APP-16; the new account fits (PAY-4)."""
    found, dynamic = _case(state, directory, event, ONGOING)
    p = event.payload
    period = Period.parse(p["effective_period"])
    _require_from_first_period(found, period, "the change of support mode")
    current = dynamic.support_mode(period)[0]
    require(
        p["from"] == current and p["to"] != current,
        "ENV-8",
        f"the enrolment is in {current} support in {period}; the change must go from it to "
        f"another mode (given {p['from']} → {p['to']})",
        enrolment_id=found.enrolment_id,
        current=current,
        given_from=p["from"],
        given_to=p["to"],
    )
    modes = require_programme(state, found.programme_code).support_modes
    require(
        p["to"] in modes,
        "ENV-8",
        f"programme {found.programme_code} offers {', '.join(sorted(modes))}, not {p['to']}",
        support_mode=p["to"],
    )
    if p["to"] == CENTRALISED:
        case = applications.require_application(state, found.application_id)
        require(
            not case.health_flags,
            "APP-16",
            "centralised support is not allowed for a person flagged with "
            f"{', '.join(sorted(case.health_flags))}",
            enrolment_id=found.enrolment_id,
            health_flags=sorted(case.health_flags),
        )
        require(
            directory.org_kind(p["institution_id"] or "") == CARE_INSTITUTION,
            "ENV-8",
            f"centralised support names a registered care institution, not {p['institution_id']}",
            institution_id=p["institution_id"],
        )
    else:
        require(
            p["institution_id"] is None,
            "ENV-8",
            "dispersed support names no institution",
            institution_id=p["institution_id"],
        )
    enrolments.require_fitting_account(
        state,
        {
            "support_mode": p["to"],
            "institution_id": p["institution_id"],
            "person_id": found.person_id,
            "payment_account_id": p["payment_account_id"],
        },
    )


def apply_support_mode_changed(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    found = _records(state)[event.stream_id]
    change = (
        Period.parse(p["effective_period"]),
        p["to"],
        p["institution_id"],
        p["payment_account_id"],
    )
    _update(state, event.stream_id, support_modes=(*found.support_modes, change))


# --- EntitlementAdjusted (W3.7) and EntitlementRevalued (W3.6) ------------------------------


def decide_adjusted(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new annual entitlement for a live enrolment, from a payable month on."""
    found, _ = _case(state, directory, event, ONGOING)
    _require_from_first_period(
        found, Period.parse(event.payload["effective_period"]), "the adjustment"
    )


def apply_adjusted(state: DomainState, event: DomainEvent) -> None:
    found = _records(state)[event.stream_id]
    change = (Period.parse(event.payload["effective_period"]), event.payload["amount_fen"])
    _update(state, event.stream_id, entitlements=(*found.entitlements, change))


def revalued_fen(from_fen: int, old_standard_fen: int, new_standard_fen: int, covered: int) -> int:
    """The entitlement after a standard moves from ``old`` to ``new`` (annual amounts): it
    moves by the difference for each covered person, and never below zero.

    >>> revalued_fen(1_380_000, 780_000, 840_000, 3)
    1560000
    >>> revalued_fen(130_000, 130_000, 140_000, 1)
    140000
    """
    return max(0, from_fen + (new_standard_fen - old_standard_fen) * covered)


def decide_revalued(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The cited standard is the one now in force for the enrolment's programme, mode and
    township from the effective period; ``from_fen`` is the entitlement in force then and
    ``to_fen`` the revalued one (:func:`revalued_fen`)."""
    found, dynamic = _case(state, directory, event, ONGOING)
    p = event.payload
    period = Period.parse(p["effective_period"])
    _require_from_first_period(found, period, "the revaluation")
    mode = dynamic.support_mode(period)[0]
    in_force = standard_in_force(
        state, directory, found.programme_code, mode, found.township_org_id, period
    )
    old = standard(state, dynamic.standard_ref)
    require(
        in_force is not None
        and in_force.event_id == p["standard_event_id"]
        and in_force.event_id != dynamic.standard_ref
        and old is not None,
        "ENV-8",
        f"a revaluation cites the new standard in force for {found.township_org_id} in "
        f"{period} ({in_force.event_id if in_force else 'none'}), not {p['standard_event_id']}; "
        f"the entitlement follows {dynamic.standard_ref}",
        standard_event_id=p["standard_event_id"],
        standard_in_force=in_force.event_id if in_force else None,
        current_standard_ref=dynamic.standard_ref,
    )
    assert in_force is not None and old is not None
    current = dynamic.annual_fen(period)
    expected = revalued_fen(current, old.amount_fen, in_force.amount_fen, dynamic.covered_count)
    require(
        (p["from_fen"], p["to_fen"]) == (current, expected),
        "ENV-8",
        f"revaluing from {old.amount_fen} to {in_force.amount_fen} fen a year for "
        f"{dynamic.covered_count} person(s) moves the entitlement from {current} to "
        f"{expected} fen a year, not {p['from_fen']} to {p['to_fen']}",
        enrolment_id=found.enrolment_id,
        from_fen=p["from_fen"],
        to_fen=p["to_fen"],
        expected_from_fen=current,
        expected_to_fen=expected,
    )


def apply_revalued(state: DomainState, event: DomainEvent) -> None:
    found = _records(state)[event.stream_id]
    change = (Period.parse(event.payload["effective_period"]), event.payload["to_fen"])
    _update(
        state,
        event.stream_id,
        entitlements=(*found.entitlements, change),
        standard_ref=event.payload["standard_event_id"],
    )


# --- suspension ----------------------------------------------------------------------------------


def decide_suspended(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A paying enrolment is suspended from a payable month, for a non-empty span."""
    found, _ = _case(state, directory, event, PAYING)
    p = event.payload
    first = Period.parse(p["from_period"])
    _require_from_first_period(found, first, "the suspension")
    last = p["to_period"]
    require(
        last is None or Period.parse(last) >= first,
        "ENV-5",
        f"a suspension from {first} cannot end in {last}",
        from_period=str(first),
        to_period=last,
    )


def apply_suspended(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    found = _records(state)[event.stream_id]
    enrolled = enrolments.enrolment(state, event.stream_id)
    previous = enrolled.status if enrolled is not None else ACTIVE
    last = None if p["to_period"] is None else Period.parse(p["to_period"])
    spell = Suspension(Period.parse(p["from_period"]), last)
    _update(
        state,
        event.stream_id,
        suspensions=(*found.suspensions, spell),
        status_before_suspension=previous,
    )
    enrolments.set_status(state, event.stream_id, SUSPENDED)


def decide_reinstated(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A suspended enrolment is payable again from a month after the suspension began."""
    _, dynamic = _case(state, directory, event, frozenset({SUSPENDED}))
    p = event.payload
    spell = dynamic.suspensions[-1]
    first = Period.parse(p["from_period"])
    require(
        first > spell.first and p["to_period"] is None,
        "ENV-5",
        f"a reinstatement names the first payable month again, after {spell.first} when the "
        f"suspension began, and no end (given {p['from_period']} .. {p['to_period']})",
        from_period=p["from_period"],
        suspended_from=str(spell.first),
    )


def apply_reinstated(state: DomainState, event: DomainEvent) -> None:
    found = _records(state)[event.stream_id]
    resumes = Period.parse(event.payload["from_period"])
    spell = found.suspensions[-1]
    ends = resumes.plus(-1) if spell.last is None else min(spell.last, resumes.plus(-1))
    closed = (*found.suspensions[:-1], Suspension(spell.first, ends))
    _update(state, event.stream_id, suspensions=closed)
    enrolments.set_status(state, event.stream_id, found.status_before_suspension)


# --- W4: income above the standard, gradual exit, voluntary exit ----------------------------


def _exit_rules(
    state: DomainState, found: Enrolment, period: Period
) -> dibao_income.RuleSet | None:
    return dibao_income.rule_set_in_force(state, found.programme_code, period)


def decide_income_above(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """W4.1: an active enrolment of a programme with a gradual exit; the standard cited is
    the monthly standard in force, and the income is above it (else there is no basis for
    a gradual exit, TRM-4)."""
    found, dynamic = _case(state, directory, event, frozenset({ACTIVE}))
    p = event.payload
    determined = parse_date(p["determined_at"])
    require(
        determined <= event.day,
        "ENV-5",
        f"the determination on {determined} cannot be recorded before it was made",
        determined_at=str(determined),
        business_date=str(event.day),
    )
    period = Period.of(determined)
    require(
        period >= found.first_payable_period,
        "TRM-4",
        f"income found above the standard on {determined}, before the assistance began in "
        f"{found.first_payable_period}, is no ground for a gradual exit",
        determined_at=str(determined),
        first_payable_period=str(found.first_payable_period),
    )
    rules = _exit_rules(state, found, period)
    require(
        rules is not None and rules.gradual_exit_months is not None,
        "TRM-4",
        f"programme {found.programme_code} has no gradual exit (only dibao does)",
        programme_code=found.programme_code,
    )
    mode = dynamic.support_mode(period)[0]
    in_force = standard_in_force(
        state, directory, found.programme_code, mode, found.township_org_id, period
    )
    monthly = None if in_force is None else dibao_income.monthly_standard(in_force.amount_fen)
    require(
        monthly is not None and p["standard_fen"] == monthly,
        "ENV-8",
        f"the determination compares with {p['standard_fen']} fen a month; the dibao standard "
        f"in force is {monthly} fen a month",
        standard_fen=p["standard_fen"],
        monthly_standard_fen=str(monthly),
    )
    require(
        p["per_capita_income_fen"] > p["standard_fen"],
        "TRM-4",
        f"a per-capita income of {p['per_capita_income_fen']} fen a month is not above the "
        f"standard of {p['standard_fen']} fen a month",
        per_capita_income_fen=p["per_capita_income_fen"],
        standard_fen=p["standard_fen"],
    )


def apply_income_above(state: DomainState, event: DomainEvent) -> None:
    _update(state, event.stream_id, income_above_on=parse_date(event.payload["determined_at"]))


def gradual_exit_window(determined_on: date, months: int) -> tuple[Period, Period]:
    """First and last payable month of a gradual exit: from the month after the
    determination, ``months`` months (§5.13).

    >>> [str(p) for p in gradual_exit_window(date(2023, 5, 20), 12)]
    ['2023-06', '2024-05']
    """
    first = month_after(determined_on)
    return first, first.plus(months - 1)


def decide_gradual_exit(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """TRM-4: only where the rule set has a gradual exit (dibao), only after an
    ``IncomeAboveStandardDetermined``, for exactly the configured months (12)."""
    found, dynamic = _case(state, directory, event, frozenset({ACTIVE}))
    p = event.payload
    evidence = {"enrolment_id": found.enrolment_id, "programme_code": found.programme_code}
    rules = _exit_rules(state, found, Period.of(event.day))
    months = None if rules is None else rules.gradual_exit_months
    if months is None:
        raise refuse(
            "TRM-4",
            f"programme {found.programme_code} has no gradual exit (only dibao does)",
            **evidence,
        )
    if dynamic.income_above_on is None:
        raise refuse(
            "TRM-4",
            f"a gradual exit of {found.enrolment_id} needs a determination that the household's "
            "income is above the dibao standard",
            **evidence,
        )
    first, last = gradual_exit_window(dynamic.income_above_on, months)
    require(
        (p["first_period"], p["last_period"]) == (str(first), str(last)),
        "TRM-4",
        f"income was found above the standard on {dynamic.income_above_on}, so the gradual "
        f"exit runs {first} .. {last} ({months} months), not {p['first_period']} .. "
        f"{p['last_period']}",
        first_period=p["first_period"],
        last_period=p["last_period"],
        expected_first_period=str(first),
        expected_last_period=str(last),
        months=months,
        **evidence,
    )


def apply_gradual_exit(state: DomainState, event: DomainEvent) -> None:
    window = (
        Period.parse(event.payload["first_period"]),
        Period.parse(event.payload["last_period"]),
    )
    _update(state, event.stream_id, gradual_exit=window)
    enrolments.set_status(state, event.stream_id, GRADUAL_EXIT)


def monthly_amount_fen(dynamic: Dynamic, period: Period) -> int:
    """The monthly amount in force in ``period``: the monthly instalment of the annual
    entitlement (what a voluntary exit grants per month, N-DB-6)."""
    return period_amount_fen(dynamic.annual_fen(period), "MONTHLY", period)


def decide_voluntary_exit(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """TRM-5: 1 to the configured maximum (3) months, each at the current monthly amount;
    once per enrolment."""
    found, dynamic = _case(state, directory, event, PAYING)
    p = event.payload
    period = Period.of(event.day)
    rules = _exit_rules(state, found, period)
    most = None if rules is None else rules.voluntary_exit_max_months
    evidence = {"enrolment_id": found.enrolment_id, "months": p["months"]}
    require(
        most is not None,
        "TRM-5",
        f"programme {found.programme_code} grants no voluntary-exit payment (only dibao does)",
        programme_code=found.programme_code,
        **evidence,
    )
    assert most is not None
    require(
        1 <= p["months"] <= most,
        "TRM-5",
        f"a voluntary exit grants 1 to {most} months, not {p['months']}",
        max_months=most,
        **evidence,
    )
    monthly = monthly_amount_fen(dynamic, period)
    require(
        p["amount_fen"] == p["months"] * monthly,
        "TRM-5",
        f"{p['months']} month(s) at the current {monthly} fen a month is "
        f"{p['months'] * monthly} fen, not {p['amount_fen']}",
        amount_fen=p["amount_fen"],
        monthly_fen=monthly,
        expected_fen=p["months"] * monthly,
        **evidence,
    )
    require(
        dynamic.voluntary_exit is None,
        "ENV-7",
        f"a voluntary exit was already granted on {found.enrolment_id}",
        **evidence,
    )


def apply_voluntary_exit(state: DomainState, event: DomainEvent) -> None:
    granted = (event.payload["months"], event.payload["amount_fen"])
    _update(state, event.stream_id, voluntary_exit=granted)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("BeneficiaryEnrolled", apply=apply_enrolled)
    rules.register("CircumstanceChangeReported", apply=apply_change_reported)  # a fact
    rules.register("RollReviewedByVillageAssembly", apply=apply_roll_reviewed)  # a fact
    for event_type, apply, decide in (
        ("PeriodicReviewCompleted", apply_review, decide_review),
        ("CareDependencyAssessed", apply_care_assessed, decide_care_assessed),
        ("SupportModeChanged", apply_support_mode_changed, decide_support_mode_changed),
        ("EntitlementAdjusted", apply_adjusted, decide_adjusted),
        ("EntitlementRevalued", apply_revalued, decide_revalued),
        ("BeneficiarySuspended", apply_suspended, decide_suspended),
        ("BeneficiaryReinstated", apply_reinstated, decide_reinstated),
        ("IncomeAboveStandardDetermined", apply_income_above, decide_income_above),
        ("GradualExitStarted", apply_gradual_exit, decide_gradual_exit),
        ("VoluntaryExitGranted", apply_voluntary_exit, decide_voluntary_exit),
    ):
        rules.register(event_type, apply=apply, decide=decide)
