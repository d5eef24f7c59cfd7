"""Workflow steps of the minimum living allowance (低保, urban and rural) for the city demo:
configuration (programme, income rule sets, standards), W1 with the income assessment and
the three-level two-notice procedure (三级两次公示), relatives of officials filed and
recused, monthly payments, and W3/W4 dynamic management (periodic review, the village
assembly's roll review, a 12-month gradual exit).

The generic W1 steps (preliminary opinion and its notice, forwarding, the county spot check)
are :class:`~ledger.tools.scenario.Caseworker`'s; what differs for dibao is here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from ledger.domain.periods import Period, month_after
from ledger.tools.scenario import (
    MANDATORY_MATERIALS,
    Applicant,
    Caseworker,
    County,
    Desk,
    define_programme,
    digest,
)

DIBAO_URBAN, DIBAO_RURAL = "DIBAO_URBAN", "DIBAO_RURAL"
DIBAO_ANNUAL_FEN = {DIBAO_RURAL: 780_000, DIBAO_URBAN: 960_000}
"""The city's dibao standards: 650 元 (rural) and 800 元 (urban) a person and month."""
INCREMENTS_FEN = {"SEVERELY_DISABLED": 10_000, "ELDERLY": 5_000}
"""分类施保: monthly increments per person of these categories (the rule sets' values)."""
DISREGARDS = ("DISABILITY", "ILLNESS", "EDUCATION", "EMPLOYMENT_COST")


def rule_set_id(programme: str) -> str:
    return f"rs-{programme.lower()}-2023"


def define_dibao(desk: Desk, county: County, published: date) -> None:
    """DIBAO_URBAN (DIBAO_RURAL is defined with 特困), both income rule sets and both
    standards, published before June and in force from July (the 004 篇十五 timing)."""
    define_programme(
        desk,
        DIBAO_URBAN,
        names=("城市最低生活保障", "Urban minimum living allowance"),
        lead_org_id=county.org_id,
        support_modes=["DISPERSED"],
        exclusive_with=["TEKUN"],
        published=published,
    )
    government = desk.signers[county.government]
    effective = Period(published.year, 7)
    for programme in (DIBAO_RURAL, DIBAO_URBAN):
        desk.emit(
            government,
            ("rule_set", rule_set_id(programme)),
            "EligibilityRuleSetPublished",
            {
                "rule_set_id": rule_set_id(programme),
                "version": 1,
                "programme_code": programme,
                "test": "INCOME_BELOW_STANDARD",
                "disregard_kinds": list(DISREGARDS),
                "classified_increments": [
                    {"category": c, "monthly_fen": f} for c, f in INCREMENTS_FEN.items()
                ],
                "gradual_exit_months": 12,
                "voluntary_exit_max_months": 3,
                "effective_from": str(effective),
            },
            published,
        )
        standard_id = f"{programme}-{published.year}"
        desk.emit(
            government,
            ("standard", standard_id),
            "BenefitStandardPublished",
            {
                "standard_id": standard_id,
                "programme_code": programme,
                "admin_unit_id": desk.admin.org_id,
                "support_mode": "DISPERSED",
                "component": "BASIC_LIVING",
                "amount_fen": DIBAO_ANNUAL_FEN[programme],
                "period": "YEAR",
                "effective_from": str(effective),
                "published_on": published.isoformat(),
                "basis": None,
            },
            published,
            remember_as=f"standard:{programme}",
        )


@dataclass
class Household:
    """A dibao household: who is covered, its income and disregards, and its categories."""

    applicant: Applicant
    programme: str
    members: tuple[str, ...]
    monthly_income_fen: int
    disregarded_fen: int = 0
    categories: tuple[tuple[str, str], ...] = ()
    """(person id, category) of members with a classified-assistance increment."""
    relative_of: str | None = None
    """The actor id of a village official this household's member is related to."""
    exit_started: bool = False

    @property
    def covered(self) -> list[str]:
        return [self.applicant.person_id, *self.members]

    def monthly_fen(self) -> int:
        """The entitlement the rules compute (N-DB-7): the gap between the household's
        standard and its counted income, rounded up to the fen, plus the increments."""
        standard_month = Fraction(DIBAO_ANNUAL_FEN[self.programme], 12)
        counted = self.monthly_income_fen - self.disregarded_fen
        gap = max(0, math.ceil(len(self.covered) * standard_month - counted))
        return gap + sum(INCREMENTS_FEN[c] for _, c in self.categories)


@dataclass
class DibaoOffice:
    """Moves dibao households through W1, pays them, and manages the roll (W3, W4)."""

    desk: Desk
    county: County
    fund_account: str = ""
    households: list[Household] = field(default_factory=list)
    lines_paid: int = 0
    amount_paid_fen: int = 0

    def _emit(
        self, actor: str, h: Household, event_type: str, payload: dict[str, Any], day: date
    ) -> None:
        self.desk.emit(
            self.desk.signers[actor],
            ("application", h.applicant.application_id),
            event_type,
            payload,
            day,
            remember_as=f"{event_type}:{h.applicant.application_id}",
        )

    # ------------------------------------------------------------------ W1

    def apply_and_enrol(self, h: Household, start: date, batch_seed: int) -> None:
        """W1 end to end: submission, relative filing, investigation and income test, the
        first notice (opinion), forwarding, spot check, approval at the computed amount, the
        second notice (result), account and enrolment."""
        a = h.applicant
        work = Caseworker(self.desk, self.county)
        self._submit(h, start)
        if h.relative_of is not None:
            self._file_relative(h, start + timedelta(days=1))
        self._investigate(h, start + timedelta(days=4))
        notice = work.opinion(a, start + timedelta(days=6))
        work.forward(a, notice, start + timedelta(days=14))
        batch = f"spot-{a.application_id}"
        work.spot_check(
            batch, a.township, [a.application_id], batch_seed, start + timedelta(days=20)
        )
        self._approve(h, batch, start + timedelta(days=22))
        work.notice(
            a.township.reviewer,
            "RESULT_PUBLICATION",
            [a.application_id],
            a.village,
            start + timedelta(days=23),
        )
        self._enrol(h, start + timedelta(days=24))
        self.households.append(h)

    def _submit(self, h: Household, day: date) -> None:
        a = h.applicant
        clerk = a.township.clerk
        self._emit(
            clerk,
            h,
            "ApplicationSubmitted",
            {
                "application_id": a.application_id,
                "programme_code": h.programme,
                "applicant_person_id": a.person_id,
                "applicant_identity_hmac": a.identity_hmac,
                "household_id": a.household_id,
                "members": [
                    {"person_id": m, "relation": "SPOUSE" if n == 0 else "CHILD"}
                    for n, m in enumerate(h.members)
                ],
                "channel": "IN_PERSON",
                "agent_person_id": None,
                "township_org_id": a.township.org_id,
                "residence_org_id": a.village,
                "category": a.category,
                "health_flags": [],
                "materials": [
                    {"type": m, "sha256": digest(a.application_id, m)} for m in MANDATORY_MATERIALS
                ],
                "obligor_person_ids": [],
                "referral_from_enrolment_id": None,
            },
            day,
        )
        self._emit(clerk, h, "ApplicationAccepted", {"checklist_version": "dibao-2024"}, day)
        self._emit(
            clerk,
            h,
            "FinancialCheckAuthorisationSigned",
            {
                "signer_person_id": a.person_id,
                "signer_role": "APPLICANT",
                "document_sha256": digest("auth", a.application_id, a.person_id),
            },
            day,
        )

    def _file_relative(self, h: Household, day: date) -> None:
        """W1.4: the applicant declares the relationship and the clerk files it; the
        official takes no part in the case (SOD-4)."""
        assert h.relative_of is not None
        relation = {
            "person_id": h.applicant.person_id,
            "official_actor_id": h.relative_of,
            "official_role": "VILLAGE_COMMITTEE_MEMBER",
            "relationship": "BROTHER",
        }
        clerk = h.applicant.township.clerk
        self._emit(
            clerk,
            h,
            "OfficialRelationshipDeclared",
            {**relation, "source": "APPLICANT_DECLARATION"},
            day,
        )
        self._emit(clerk, h, "RelativeOfOfficialFiled", relation, day)

    def _investigate(self, h: Household, day: date) -> None:
        """W1.5: two investigators visit; the income test is recorded for the rule set."""
        a = h.applicant
        inv1, inv2 = a.township.investigators
        per_capita = h.monthly_income_fen // len(h.covered)
        self._emit(
            inv1,
            h,
            "HouseholdInvestigationCompleted",
            {
                "investigator_actor_ids": [inv1, inv2],
                "methods": ["HOME_VISIT", "NEIGHBOUR_INTERVIEW", "DATA_MATCH"],
                "findings": {
                    "registered_in_province": True,
                    "no_labour_capacity": False,
                    "no_income_source": False,
                    "no_capable_obligor": False,
                    "per_capita_income_fen": per_capita,
                    "dependency_level": "NONE",
                },
                "evidence": [digest("visit", a.application_id, day)],
            },
            day,
        )
        self._emit(
            inv1,
            h,
            "HouseholdIncomeAssessed",
            {
                "rule_set_id": rule_set_id(h.programme),
                "household_treatment": "NORMAL",
                "covered_person_ids": h.covered,
                "monthly_income_fen": h.monthly_income_fen,
                "disregards": (
                    [{"kind": "ILLNESS", "amount_fen": h.disregarded_fen}]
                    if h.disregarded_fen
                    else []
                ),
                "member_categories": [{"person_id": p, "category": c} for p, c in h.categories],
            },
            day,
        )

    def _approve(self, h: Household, batch: str, day: date) -> None:
        a = h.applicant
        a.first_payable = month_after(day)
        a.annual_fen = h.monthly_fen() * 12
        self._emit(
            self.county.approver,
            h,
            "ApplicationApproved",
            {
                "support_mode": "DISPERSED",
                "institution_id": None,
                "standard_ref": self.desk.event_ids[f"standard:{h.programme}"],
                "annual_amount_fen": a.annual_fen,
                "first_payable_period": str(a.first_payable),
                "dossier_id": f"dossier-{a.application_id}",
                "household_treatment": "NORMAL",
                "spot_check_batch_id": batch,
            },
            day,
        )

    def _enrol(self, h: Household, day: date) -> None:
        a = h.applicant
        a.account_id = f"acct-{a.person_id}"
        self.desk.emit(
            self.desk.signers[a.township.clerk],
            ("payment_account", a.account_id),
            "PaymentAccountRegistered",
            {
                "account_id": a.account_id,
                "channel": "ONE_CARD",
                "holder_person_id": a.person_id,
                "holder_org_id": None,
                "bank_org_id": self.county.bank,
                "account_ref_hmac": digest("card", a.person_id),
            },
            day,
        )
        a.enrolment_id = f"enr-{a.application_id}"
        self.desk.emit(
            self.desk.signers[self.county.approver],
            ("enrolment", a.enrolment_id),
            "BeneficiaryEnrolled",
            {
                "enrolment_id": a.enrolment_id,
                "application_id": a.application_id,
                "person_id": a.person_id,
                "household_id": a.household_id,
                "programme_code": h.programme,
                "support_mode": "DISPERSED",
                "institution_id": None,
                "annual_amount_fen": a.annual_fen,
                "standard_ref": self.desk.event_ids[f"standard:{h.programme}"],
                "first_payable_period": str(a.first_payable),
                "payment_account_id": a.account_id,
                "dossier_id": f"dossier-{a.application_id}",
            },
            day,
        )

    # ------------------------------------------------------------------ W3, W4

    def review_roll(self, village: str, programme: str, day: date, flagged: Sequence[str]) -> None:
        """W3.2, W3.3: each enrolment re-verified; the village assembly reviews the roll."""
        for h in self.households:
            if h.programme != programme or h.applicant.village != village:
                continue
            assert h.applicant.enrolment_id is not None
            self.desk.emit(
                self.desk.signers[h.applicant.township.investigators[0]],
                ("enrolment", h.applicant.enrolment_id),
                "PeriodicReviewCompleted",
                {"review_type": "ROLL_REVIEW", "outcome": "CONTINUE"},
                day,
            )
        review = f"rr-{village}-{programme.lower()}-{day:%Y%m}"
        self.desk.emit(
            self.desk.signers[_village_member(village)],
            ("roll_review", review),
            "RollReviewedByVillageAssembly",
            {
                "review_id": review,
                "village_org_id": village,
                "programme": programme,
                "meeting_date": day.isoformat(),
                "flagged_enrolment_ids": list(flagged),
                "minutes_sha256": digest("minutes", review),
            },
            day,
        )

    def start_gradual_exit(self, h: Household, new_income_fen: int, day: date) -> Period:
        """W4.1, W4.2: income now above the standard; 12 more months from the next month
        (TRM-4). Returns the last payable period."""
        a = h.applicant
        assert a.enrolment_id is not None
        stream = ("enrolment", a.enrolment_id)
        standard_month = DIBAO_ANNUAL_FEN[h.programme] // 12
        self.desk.emit(
            self.desk.signers[a.township.investigators[0]],
            stream,
            "IncomeAboveStandardDetermined",
            {
                "determined_at": day.isoformat(),
                "per_capita_income_fen": new_income_fen // len(h.covered),
                "standard_fen": standard_month,
            },
            day,
        )
        first = month_after(day)
        last = first.plus(11)
        self.desk.emit(
            self.desk.signers[self.county.approver],
            stream,
            "GradualExitStarted",
            {"first_period": str(first), "last_period": str(last)},
            day + timedelta(days=3),
        )
        h.exit_started = True
        a.last_payable = last
        return last

    # ------------------------------------------------------------------ W2

    def pay_month(self, period: Period) -> None:
        """W2 for every payable dibao household of the county: one batch per programme."""
        for programme in (DIBAO_RURAL, DIBAO_URBAN):
            payable = [
                h.applicant
                for h in self.households
                if h.programme == programme
                and h.applicant.first_payable is not None
                and h.applicant.first_payable <= period
                and (h.applicant.last_payable is None or period <= h.applicant.last_payable)
            ]
            if payable:
                self._batch(programme, period, payable)

    def _batch(self, programme: str, period: Period, payable: list[Applicant]) -> None:
        batch_id = f"batch-{self.county.org_id}-{programme.lower()}-{period}"
        stream = ("payment_batch", batch_id)
        lines: list[dict[str, Any]] = [
            {
                "line_id": f"{batch_id}-{a.enrolment_id}",
                "enrolment_id": a.enrolment_id,
                "person_id": a.person_id,
                "component": "BASIC_LIVING",
                "amount_fen": a.annual_fen // 12,
                "channel": "ONE_CARD",
                "account_id": a.account_id,
            }
            for a in payable
        ]
        first = date(period.year, period.month, 1)
        signers = self.desk.signers
        self.desk.emit(
            signers[self.county.preparer],
            stream,
            "PaymentBatchPrepared",
            {
                "batch_id": batch_id,
                "programme_code": programme,
                "admin_unit_id": self.county.org_id,
                "period": str(period),
                "fund_account_id": self.fund_account,
                "lines": lines,
                "total_fen": sum(int(line["amount_fen"]) for line in lines),
            },
            first + timedelta(days=2),
        )
        self.desk.emit(
            signers[self.county.payment_approver],
            stream,
            "PaymentBatchApproved",
            {"approved_on": (first + timedelta(days=3)).isoformat()},
            first + timedelta(days=3),
        )
        self.desk.emit(
            signers[self.county.finance],
            stream,
            "PaymentBatchSubmitted",
            {"bank_org_id": self.county.bank, "file_sha256": digest("bank-file", batch_id)},
            first + timedelta(days=4),
        )
        for line in lines:
            self.desk.emit(
                signers[self.county.bank_agent],
                stream,
                "PaymentSettled",
                {
                    "line_id": line["line_id"],
                    "amount_fen": line["amount_fen"],
                    "value_date": (first + timedelta(days=9)).isoformat(),
                    "bank_ref": f"BR{digest(line['line_id'])[:12]}",
                },
                first + timedelta(days=9),
            )
            self.lines_paid += 1
            self.amount_paid_fen += int(line["amount_fen"])


def _village_member(village: str) -> str:
    return f"{village}-member"


def register_village_members(desk: Desk, county: County) -> None:
    """One village committee member per village (they hold the roll reviews)."""
    for town in county.townships:
        for village in town.villages:
            desk.official(_village_member(village), village, ["village_committee_member"])
