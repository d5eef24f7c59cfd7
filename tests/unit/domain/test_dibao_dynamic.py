"""W3 dynamic management and W4 exits on a dibao enrolment: what becomes payable (PAY-1,
PAY-2, PAY-5), the gradual exit (TRM-4, §5.13) and the voluntary exit (TRM-5)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ledger.domain import dibao_dynamic, enrolments, payments
from ledger.domain.enrolments import EnrolmentStatus
from ledger.domain.periods import Period
from ledger.errors import RuleViolation

from .case_builders import (
    DIBAO,
    SHA_A,
    Case,
    DibaoCase,
    World,
    dibao_world,
    open_dibao_fund,
    prepare_payment,
    publish_standard,
    refused,
)
from .money_builders import MoneyLedger
from .money_builders import refused as refused_money

MONTHLY = 115_000
"""The household's monthly entitlement (see ``income_payload``)."""


@pytest.fixture
def enrolled() -> tuple[World, str]:
    world, seeded = dibao_world()
    enrolment_id = DibaoCase(world, seeded).to_enrolled()
    open_dibao_fund(world)
    return world, enrolment_id


def emit(
    world: World, event_type: str, enrolment_id: str, payload: dict[str, Any], **kw: Any
) -> Any:
    kw.setdefault("actor", "approver-1")
    kw.setdefault("on", "2024-04-15")
    return world.emit(event_type, enrolment_id, payload, **kw)


def status(world: World, enrolment_id: str) -> EnrolmentStatus:
    found = enrolments.enrolment(world.state, enrolment_id)
    assert found is not None
    return found.status


# --- EntitlementAdjusted, EntitlementRevalued (PAY-5) ------------------------------------------


def test_an_income_change_lowers_what_is_payable_from_its_effective_month(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    adjust = {"reason": "INCOME_CHANGE", "amount_fen": 1_020_000, "effective_period": "2024-06"}
    emit(world, "EntitlementAdjusted", enrolment_id, {**adjust, "evidence": [SHA_A]})
    prepare_payment(world, enrolment_id, "2024-05", MONTHLY)
    with pytest.raises(RuleViolation) as caught:
        prepare_payment(world, enrolment_id, "2024-06", MONTHLY)
    assert caught.value.code == "PAY-5"
    assert caught.value.evidence["due_fen"] == 85_000
    prepare_payment(world, enrolment_id, "2024-06", 85_000)


def test_a_classified_adjustment_raises_it(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    emit(
        world,
        "EntitlementAdjusted",
        enrolment_id,
        {
            "reason": "CLASSIFIED_ASSISTANCE",
            "amount_fen": 1_440_000,
            "effective_period": "2024-05",
            "evidence": [SHA_A],
        },
    )
    prepare_payment(world, enrolment_id, "2024-05", 120_000)


def test_an_adjustment_before_the_first_payable_period_is_refused(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    with refused("ENV-8"):
        emit(
            world,
            "EntitlementAdjusted",
            enrolment_id,
            {
                "reason": "CORRECTION",
                "amount_fen": 1,
                "effective_period": "2024-03",
                "evidence": [],
            },
        )


def test_a_revaluation_follows_the_new_standard_for_every_covered_person(
    enrolled: tuple[World, str],
) -> None:
    """700 元 instead of 650 元 a month: +50 元 for each of the 3 persons: 1,300 元 a month."""
    world, enrolment_id = enrolled
    new = publish_standard(
        world, "std-dibao-2024", programme_code=DIBAO, amount_fen=840_000, effective_from="2024-07"
    )
    payload = {
        "standard_event_id": new.event_id,
        "from_fen": 1_380_000,
        "to_fen": 1_380_000 + 600_000,
        "effective_period": "2024-07",
    }
    with refused("ENV-8"):
        emit(world, "EntitlementRevalued", enrolment_id, payload, actor="ledger-1")
    emit(
        world,
        "EntitlementRevalued",
        enrolment_id,
        {**payload, "to_fen": 1_560_000},
        actor="ledger-1",
    )
    prepare_payment(world, enrolment_id, "2024-06", MONTHLY)
    with refused("PAY-5"):
        prepare_payment(world, enrolment_id, "2024-07", MONTHLY)
    prepare_payment(world, enrolment_id, "2024-07", 130_000)
    with refused("ENV-8"):  # already follows that standard
        emit(
            world,
            "EntitlementRevalued",
            enrolment_id,
            {**payload, "from_fen": 1_560_000, "to_fen": 1_560_000},
            actor="ledger-1",
        )


# --- suspension (PAY-1) -----------------------------------------------------------------------


def test_suspended_months_are_not_payable(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    spell = {"reason": "whereabouts unknown", "to_period": None}
    emit(world, "BeneficiarySuspended", enrolment_id, {**spell, "from_period": "2024-05"})
    assert status(world, enrolment_id) == EnrolmentStatus.SUSPENDED
    prepare_payment(world, enrolment_id, "2024-04", MONTHLY)
    with refused("PAY-1"):
        prepare_payment(world, enrolment_id, "2024-05", MONTHLY)
    with refused("ENV-5"):
        emit(world, "BeneficiaryReinstated", enrolment_id, {**spell, "from_period": "2024-05"})
    emit(world, "BeneficiaryReinstated", enrolment_id, {**spell, "from_period": "2024-07"})
    assert status(world, enrolment_id) == EnrolmentStatus.ACTIVE
    with refused("PAY-1"):
        prepare_payment(world, enrolment_id, "2024-06", MONTHLY)
    prepare_payment(world, enrolment_id, "2024-07", MONTHLY)


def test_only_a_suspended_enrolment_is_reinstated(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    with refused("ENV-7"):
        emit(
            world,
            "BeneficiaryReinstated",
            enrolment_id,
            {"reason": "back", "from_period": "2024-05", "to_period": None},
        )


# --- W4: gradual exit (TRM-4, PAY-2) -------------------------------------------------------------


def income_above(world: World, enrolment_id: str, determined_at: str, income: int = 70_000) -> None:
    emit(
        world,
        "IncomeAboveStandardDetermined",
        enrolment_id,
        {"determined_at": determined_at, "per_capita_income_fen": income, "standard_fen": 65_000},
        actor="inv-1",
        on=determined_at,
    )


def start_exit(world: World, enrolment_id: str, first: str, last: str) -> None:
    emit(
        world,
        "GradualExitStarted",
        enrolment_id,
        {"first_period": first, "last_period": last},
        on="2024-05-25",
    )


def test_the_gradual_exit_runs_twelve_months_from_the_month_after_the_determination() -> None:
    """§5.13: determined on 2023-05-20, the exit runs 2023-06 .. 2024-05."""
    first, last = dibao_dynamic.gradual_exit_window(date(2023, 5, 20), 12)
    assert (str(first), str(last)) == ("2023-06", "2024-05")
    assert first.months_until(last) == 11


def test_a_gradual_exit_needs_a_determination_trm_4(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    with refused("TRM-4"):
        start_exit(world, enrolment_id, "2024-06", "2025-05")


def test_a_gradual_exit_is_exactly_twelve_months_trm_4(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    income_above(world, enrolment_id, "2024-05-20")
    with refused("TRM-4"):
        start_exit(world, enrolment_id, "2024-06", "2025-04")
    with refused("TRM-4"):
        start_exit(world, enrolment_id, "2024-05", "2025-04")
    start_exit(world, enrolment_id, "2024-06", "2025-05")
    assert status(world, enrolment_id) == EnrolmentStatus.GRADUAL_EXIT


def test_gradual_exit_months_stay_payable_until_the_last_period_pay_2(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    income_above(world, enrolment_id, "2024-05-20")
    start_exit(world, enrolment_id, "2024-06", "2025-05")
    prepare_payment(world, enrolment_id, "2024-06", MONTHLY)
    open_dibao_fund_2025(world)
    prepare_payment(world, enrolment_id, "2025-05", MONTHLY, fund_id="fund-dibao-2025")
    with refused("PAY-2"):
        prepare_payment(world, enrolment_id, "2025-06", MONTHLY, fund_id="fund-dibao-2025")
    # W4.3: the end of the exit is proposed for termination from the GRADUAL_EXIT state.
    emit(
        world,
        "TerminationProposed",
        enrolment_id,
        {"reason_code": "GRADUAL_EXIT_ENDED", "evidence": [], "death_date": None},
        on="2025-06-02",
    )
    assert status(world, enrolment_id) == EnrolmentStatus.TERMINATION_PENDING


def open_dibao_fund_2025(world: World) -> None:
    fund = "fund-dibao-2025"
    world.emit(
        "FundAccountOpened",
        fund,
        {
            "fund_account_id": fund,
            "owner_org_id": "county-1",
            "bank_account_ref_hmac": SHA_A,
            "ledger_id": f"book-{fund}",
            "programme_codes": [DIBAO],
            "purposes": ["BASIC_LIVING"],
            "fiscal_year": 2025,
        },
        actor="finance-1",
        on="2025-01-02",
    )
    world.emit(
        "FundAppropriated",
        fund,
        {
            "appropriation_id": "ap-2025",
            "source": "PROVINCIAL_SUBSIDY",
            "amount_fen": 5_000_000,
            "document_ref": "caishe-2025-1",
            "is_matching_fund": False,
        },
        actor="finance-1",
        on="2025-01-03",
    )
    world.emit(
        "FundReceived",
        fund,
        {"appropriation_id": "ap-2025", "amount_fen": 5_000_000, "value_date": "2025-01-05"},
        actor="finance-1",
        on="2025-01-05",
    )


def test_income_not_above_the_standard_is_no_ground_for_a_gradual_exit_trm_4(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    with refused("TRM-4"):
        income_above(world, enrolment_id, "2024-05-20", income=65_000)
    with refused("TRM-4"):  # before the assistance period began
        income_above(world, enrolment_id, "2024-03-20")


def test_tekun_has_no_gradual_exit_trm_4() -> None:
    world, seeded = dibao_world()
    case = Case(world, seeded, "tk-1").to_forwarded().sample().spot_check().approve()
    enrolment_id = case.enrol(case.register_account())
    with refused("TRM-4"):
        world.emit(
            "IncomeAboveStandardDetermined",
            enrolment_id,
            {"determined_at": "2024-05-20", "per_capita_income_fen": 9, "standard_fen": 1},
            actor="inv-1",
            on="2024-05-20",
        )
    with refused("TRM-4"):
        start_exit(world, enrolment_id, "2024-06", "2025-05")


# --- W4: voluntary exit (TRM-5) ------------------------------------------------------------------


def test_a_voluntary_exit_grants_one_to_three_months_trm_5(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    with refused("TRM-5"):
        emit(world, "VoluntaryExitGranted", enrolment_id, {"months": 4, "amount_fen": 460_000})
    with refused("TRM-5"):
        emit(world, "VoluntaryExitGranted", enrolment_id, {"months": 2, "amount_fen": 200_000})
    emit(world, "VoluntaryExitGranted", enrolment_id, {"months": 2, "amount_fen": 230_000})
    found = dibao_dynamic.record(world.state, enrolment_id)
    assert found is not None and found.voluntary_exit == (2, 230_000)
    with refused("ENV-7"):
        emit(world, "VoluntaryExitGranted", enrolment_id, {"months": 1, "amount_fen": MONTHLY})
    # The termination follows without a notice (VOLUNTARY is a waived reason).
    emit(
        world,
        "TerminationProposed",
        enrolment_id,
        {"reason_code": "VOLUNTARY", "evidence": [], "death_date": None},
    )
    emit(
        world,
        "TerminationDecided",
        enrolment_id,
        {"effective_period": "2024-05", "reasons": ["asked to leave"], "notice_id": None},
    )
    assert status(world, enrolment_id) == EnrolmentStatus.TERMINATED
    with refused("PAY-2"):
        prepare_payment(world, enrolment_id, "2024-05", MONTHLY)


def test_tekun_grants_no_voluntary_exit_payment_trm_5() -> None:
    world, seeded = dibao_world()
    case = Case(world, seeded, "tk-1").to_forwarded().sample().spot_check().approve()
    enrolment_id = case.enrol(case.register_account())
    with refused("TRM-5"):
        emit(world, "VoluntaryExitGranted", enrolment_id, {"months": 1, "amount_fen": 10_833})


# --- facts and reviews ---------------------------------------------------------------------------


def test_reports_reviews_and_assembly_flags_are_kept_for_the_auditors(
    enrolled: tuple[World, str],
) -> None:
    world, enrolment_id = enrolled
    emit(
        world,
        "CircumstanceChangeReported",
        enrolment_id,
        {"change_type": "DEATH", "observed_on": "2024-05-03", "evidence": [SHA_A]},
        actor="vcm-1",
    )
    emit(
        world,
        "PeriodicReviewCompleted",
        enrolment_id,
        {"review_type": "ANNUAL_SPOT_CHECK", "outcome": "PROPOSE_TERMINATION"},
        actor="checker-1",
    )
    world.emit(
        "RollReviewedByVillageAssembly",
        "rr-2024",
        {
            "review_id": "rr-2024",
            "village_org_id": "village-1",
            "programme": DIBAO,
            "meeting_date": "2024-06-01",
            "flagged_enrolment_ids": [enrolment_id, "enr-unknown"],
            "minutes_sha256": SHA_A,
        },
        actor="vcm-1",
        on="2024-06-01",
    )
    found = dibao_dynamic.record(world.state, enrolment_id)
    assert found is not None
    assert [c[:2] for c in found.changes_reported] == [("DEATH", date(2024, 5, 3))]
    assert [r[:2] for r in found.reviews] == [("ANNUAL_SPOT_CHECK", "PROPOSE_TERMINATION")]
    assert found.flagged_by == ("rr-2024",)


def test_a_support_mode_change_starts_from_the_mode_in_force(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    with refused("ENV-8"):
        emit(
            world,
            "SupportModeChanged",
            enrolment_id,
            {
                "from": "CENTRALISED",
                "to": "DISPERSED",
                "institution_id": None,
                "effective_period": "2024-06",
                "payment_account_id": "acct-db-1",
            },
        )


def test_care_dependency_is_recorded_from_its_month(enrolled: tuple[World, str]) -> None:
    world, enrolment_id = enrolled
    emit(
        world,
        "CareDependencyAssessed",
        enrolment_id,
        {"level": "PARTIAL", "effective_period": "2024-06"},
    )
    found = dibao_dynamic.record(world.state, enrolment_id)
    assert found is not None and found.care_levels == ((Period(2024, 6), "PARTIAL"),)


def test_the_section_5_13_exit_pays_2024_05_and_refuses_2024_06_pay_2() -> None:
    """§5.13 exactly: income above the standard on 2023-05-20, exit 2023-06 .. 2024-05, so
    2024-05 is the last payable period and 2024-06 is refused (payment rules alone)."""
    ledger = MoneyLedger()
    ledger.define_programme(DIBAO, "MONTHLY")
    fund = ledger.open_fund("fund-db", programmes=(DIBAO,), purposes=("BASIC_LIVING",))
    ledger.fund(fund, 1_000_000)
    person = ledger.enrol(DIBAO, annual_amount_fen=780_000, first_payable_period="2023-01")
    first, last = dibao_dynamic.gradual_exit_window(date(2023, 5, 20), 12)
    ledger.emit(
        "GradualExitStarted",
        person.enrolment_id,
        {"first_period": str(first), "last_period": str(last)},
        actor="approver-county",
    )
    found = payments.enrolment(ledger.state, person.enrolment_id)
    assert found is not None
    assert payments.enrolment_status(found, Period(2024, 5)) == "GRADUAL_EXIT"
    ledger.pay(fund, "2024-05", [person], programme_code=DIBAO)
    with refused_money("PAY-2") as caught:
        ledger.prepare(fund, "2024-06", [ledger.line_for(person, "2024-06")], programme_code=DIBAO)
    assert caught.value.evidence["last_payable_period"] == "2024-05"
