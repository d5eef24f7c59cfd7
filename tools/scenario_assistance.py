"""Workflow steps of the capped and one-off benefits for the city demo (``domain.md`` §4.7,
W6, W7): the components as configuration, hardship households appraised and selected
(CAP-4) with one plan each, hospital top-ups within their caps (CAP-1, CAP-2, CAP-5),
medical assistance, temporary assistance through the fast track with its monthly approval
and spot check, price subsidies and preferential care (优抚) paid monthly.

The district (county) pays what its approver grants; the township pays what its reviewer
grants from its reserve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.domain.periods import Period
from ledger.tools.scenario import County, Desk, Township, digest

POVERTY_LINE_FEN = 370_000
"""N-HA-2: 3,700 元 per person per year (the hardship appraisals cite it)."""

COMPONENTS: dict[str, dict[str, Any]] = {
    # N-HA-5: the district adds 2,000 元 a month in hospital, at most 20,000 a year, and
    # all levels together stay below the out-of-pocket cost.
    "HOSP_DISTRICT": {
        "programme_code": "HARDSHIP_ASSISTANCE",
        "payer_level": "DISTRICT",
        "beneficiary": "PERSON",
        "amount_rule": "PER_MONTH_CAP",
        "cap_fen": 200_000,
        "period_cap_fen": 2_000_000,
        "period": "YEAR",
        "must_be_less_than_out_of_pocket": True,
    },
    # N-HA-5: the township adds 2,000 元 once an episode.
    "HOSP_TOWNSHIP": {
        "programme_code": "HARDSHIP_ASSISTANCE",
        "payer_level": "TOWNSHIP",
        "beneficiary": "PERSON",
        "amount_rule": "ONE_OFF",
        "cap_fen": 200_000,
        "period": "EPISODE",
        "must_be_less_than_out_of_pocket": True,
    },
    # Medical assistance (医疗救助) after insurance, at most 10,000 元 an episode.
    "MEDICAL_AID_INPATIENT": {
        "programme_code": "MEDICAL_AID",
        "payer_level": "DISTRICT",
        "beneficiary": "PERSON",
        "amount_rule": "CAP",
        "cap_fen": 1_000_000,
        "period": "EPISODE",
        "must_be_less_than_out_of_pocket": True,
    },
    # N-TA-*: temporary assistance from the township reserve, at most 3,000 元 a year.
    "TEMP_CASH": {
        "programme_code": "TEMP_ASSISTANCE",
        "payer_level": "TOWNSHIP",
        "beneficiary": "HOUSEHOLD",
        "amount_rule": "CAP",
        "cap_fen": 300_000,
        "period": "YEAR",
    },
    # The price-linked subsidy (价格临时补贴): 30 元 a person a month when triggered.
    "PRICE_SUBSIDY_MONTHLY": {
        "programme_code": "PRICE_SUBSIDY",
        "payer_level": "DISTRICT",
        "beneficiary": "PERSON",
        "amount_rule": "FIXED",
        "cap_fen": 3_000,
        "period": "MONTH",
    },
    # Regular preferential-care allowance (定期抚恤补助): 1,200 元 a month.
    "PREFERENTIAL_CARE_MONTHLY": {
        "programme_code": "PREFERENTIAL_CARE",
        "payer_level": "DISTRICT",
        "beneficiary": "PERSON",
        "amount_rule": "FIXED",
        "cap_fen": 120_000,
        "period": "MONTH",
    },
}


def define_components(desk: Desk, government: str, day: date) -> None:
    """Every component as configuration, by the city government."""
    for code, fields in COMPONENTS.items():
        desk.emit(
            desk.signers[government],
            ("benefit_component", code),
            "BenefitComponentDefined",
            {
                "component_code": code,
                "period_cap_fen": None,
                "must_be_less_than_out_of_pocket": False,
                "max_per_household_per_year": None,
                **fields,
            },
            day,
        )


@dataclass
class AssistanceOffice:
    """Grants a county's capped and one-off benefits and keeps their totals."""

    desk: Desk
    county: County
    granted_fen: dict[str, int] = field(default_factory=dict)
    """programme code → total granted."""
    grants: int = 0

    def grant(  # noqa: PLR0917 - the grant's own fields, in payload order
        self,
        actor: str,
        grant_id: str,
        component: str,
        household: str,
        person: str | None,
        day: date,
        amount_fen: int,
        *,
        episode: str | None = None,
        months: int | None = None,
        out_of_pocket_fen: int | None = None,
        prior_grants_fen: int = 0,
        fast_track: bool = False,
    ) -> None:
        """W6/W7: one grant, checked against CAP-1..CAP-5."""
        self.desk.emit(
            self.desk.signers[actor],
            ("payment_batch", grant_id),
            "BenefitGranted",
            {
                "grant_id": grant_id,
                "component_code": component,
                "household_id": household,
                "person_id": person,
                "episode_id": episode,
                "period": str(Period.of(day)),
                "amount_fen": amount_fen,
                "fast_track": fast_track,
                "basis": {
                    "months": months,
                    "out_of_pocket_fen": out_of_pocket_fen,
                    "prior_grants_fen": prior_grants_fen,
                },
            },
            day,
        )
        programme = str(COMPONENTS[component]["programme_code"])
        self.granted_fen[programme] = self.granted_fen.get(programme, 0) + amount_fen
        self.grants += 1

    # ------------------------------------------------------------------ W7 hardship

    def select_household(
        self, town: Township, household: str, size: int, per_capita_fen: int, day: date
    ) -> None:
        """摸底评议: appraised, selected below 1.5 poverty lines (CAP-4), one plan."""
        appraisal = {
            "household_id": household,
            "year": day.year,
            "household_size": size,
            "per_capita_income_fen": per_capita_fen,
            "poverty_line_fen": POVERTY_LINE_FEN,
            "appraisal_minutes_sha256": digest("appraisal", household, day.year),
        }
        reviewer = self.desk.signers[town.reviewer]
        stream = ("household", household)
        self.desk.emit(reviewer, stream, "HouseholdAssessed", appraisal, day)
        self.desk.emit(reviewer, stream, "HouseholdSelectedForAssistance", appraisal, day)
        self.desk.emit(
            reviewer,
            stream,
            "HouseholdPlanApproved",
            {
                "household_id": household,
                "year": day.year,
                "policies": ["HOSP_DISTRICT", "HOSP_TOWNSHIP"],
                "helper_actor_id": town.investigators[0],
                "meeting_minutes_sha256": digest("plan", household, day.year),
            },
            day,
        )

    def hospital_episode(  # noqa: PLR0917 - one episode's facts
        self,
        town: Township,
        household: str,
        person: str,
        episode: str,
        months: int,
        out_of_pocket_fen: int,
        day: date,
    ) -> int:
        """EX-CAP-1/2: the district's monthly amount for the months in hospital (within its
        annual cap), then the township's one-off 2,000 元 — all levels below the cost.
        Returns the episode's total."""
        district = min(200_000 * months, 2_000_000, out_of_pocket_fen - 1)
        self.grant(
            self.county.approver,
            f"{episode}-district",
            "HOSP_DISTRICT",
            household,
            person,
            day,
            district,
            episode=episode,
            months=months,
            out_of_pocket_fen=out_of_pocket_fen,
        )
        township = min(200_000, out_of_pocket_fen - district - 1)
        self.grant(
            town.reviewer,
            f"{episode}-township",
            "HOSP_TOWNSHIP",
            household,
            person,
            day,
            township,
            episode=episode,
            out_of_pocket_fen=out_of_pocket_fen,
            prior_grants_fen=district,
        )
        return district + township

    # ------------------------------------------------------------------ W6 temporary

    def temporary_month(
        self, town: Township, cases: Sequence[tuple[str, str, int]], month: Period
    ) -> None:
        """Fast-track cases ``(case id, household id, amount)`` paid at once by the township,
        then the month's oversight (:meth:`oversee_month`)."""
        day = date(month.year, month.month, 10)
        for case_id, household, amount in cases:
            self.grant(
                town.reviewer, case_id, "TEMP_CASH", household, None, day, amount, fast_track=True
            )
        self.oversee_month(
            town.reviewer, town.org_id, "TEMP_ASSISTANCE", [c for c, _, _ in cases], month
        )

    def oversee_month(
        self, approver: str, org_id: str, programme: str, case_ids: list[str], month: Period
    ) -> None:
        """N-TA-1: the month's cases of the granting unit approved as a batch, then the
        county's spot check of the first case."""
        self.desk.emit(
            self.desk.signers[approver],
            ("temp_assistance_month", f"{org_id}.{month}"),
            "TempAssistanceMonthlyApproval",
            {
                "township_org_id": org_id,
                "month": str(month),
                "case_ids": case_ids,
                "approver": approver,
            },
            date(month.year, month.month, 25),
        )
        check = f"sc-{org_id}-{programme.lower()}-{month}"
        self.desk.emit(
            self.desk.signers[self.county.spot_checker],
            ("assistance_spot_check", check),
            "SpotCheckCompleted",
            {
                "spot_check_id": check,
                "programme": programme,
                "township_org_id": org_id,
                "month": str(month),
                "sampled_case_ids": case_ids[:1],
                "results": [{"case_id": c, "result": "CONSISTENT"} for c in case_ids[:1]],
            },
            date(month.year, month.month, 28),
        )

    def reserve_subsidy(self, town: Township, amount_fen: int, month: Period, day: date) -> None:
        """N-TA-2: the city sets its subsidy to the township's reserve."""
        self.desk.emit(
            self.desk.signers[self.county.government],
            ("reserve_subsidy", town.org_id),
            "ReserveSubsidyAdjusted",
            {
                "township_org_id": town.org_id,
                "amount_fen": amount_fen,
                "effective_from": str(month),
                "decided_on": day.isoformat(),
            },
            day,
        )
