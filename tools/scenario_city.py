"""Workflow steps for a whole city's year that ``scenario.py`` does not cover: more counties
under one city (one of them a development zone), the city's assessment bodies, and the
fund steps of W8 beyond a fully received appropriation (local matching commitments,
appropriations received only in part, carry-over to the next year, recoveries).

Like :mod:`ledger.tools.scenario`, every step is a signed envelope from the official whose
role it is; nothing here decides anything the rules would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.domain.programmes import basic_living_floor_fen
from ledger.tools.scenario import TEKUN, County, Desk, digest

# ---------------------------------------------------------------------- standards (W9)

CARE_SHARES = (("CARE_FULL", 3), ("CARE_PARTIAL", 2), ("CARE_NONE", 1))
"""Care standards as tenths of the basic-living standard (STD-2: at least one tenth)."""


def publish_tekun_standards(
    desk: Desk, government: str, published: date, consumption_fen: int, dibao_monthly_fen: int
) -> dict[str, int]:
    """W9: the year's 特困 standards, published before June and in force from July (STD-3):
    basic living at its STD-1 floor (the basis is stated, so the rules check it) and the
    three care tiers (STD-2), for both support modes. Returns amount per component."""
    basic = basic_living_floor_fen(consumption_fen, dibao_monthly_fen)
    amounts = {"BASIC_LIVING": basic, **{c: basic * k // 10 for c, k in CARE_SHARES}}
    signer = desk.signers[government]
    for mode in ("DISPERSED", "CENTRALISED"):
        for component, amount in amounts.items():
            standard_id = f"{TEKUN}-{mode}-{component}-{published.year}"
            desk.emit(
                signer,
                ("standard", standard_id),
                "BenefitStandardPublished",
                {
                    "standard_id": standard_id,
                    "programme_code": TEKUN,
                    "admin_unit_id": desk.admin.org_id,
                    "support_mode": mode,
                    "component": component,
                    "amount_fen": amount,
                    "period": "YEAR",
                    "effective_from": f"{published.year}-07",
                    "published_on": published.isoformat(),
                    "basis": {
                        "prior_year_consumption_per_capita_fen": consumption_fen,
                        "dibao_monthly_standard_fen": dibao_monthly_fen,
                    }
                    if component == "BASIC_LIVING"
                    else None,
                },
                published,
            )
    return amounts


# ---------------------------------------------------------------------- money (W8)


@dataclass(frozen=True)
class Appropriation:
    """One source's money for a fund account: appropriated, and how much of it arrived."""

    source: str
    amount_fen: int
    received_fen: int
    is_matching_fund: bool = False


@dataclass
class FundOffice:
    """A county finance office's W8 steps on its dedicated 特困 account."""

    desk: Desk
    county: County

    def _finance(self) -> str:
        return self.county.finance

    def open_account(
        self,
        year: int,
        day: date,
        appropriations: Sequence[Appropriation],
        *,
        earmark: str = "tekun",
        programmes: Sequence[str] = (TEKUN, "WUBAO"),
        purposes: Sequence[str] = ("BASIC_LIVING", "INSTITUTION_MANAGEMENT"),
    ) -> str:
        """W8.1, W8.2, W8.4: the year's dedicated account of one earmark (FUND-5), its
        appropriations by source and what of each actually arrived (an appropriation may
        arrive in part)."""
        fund = f"fund-{self.county.org_id}-{earmark}-{year}"
        finance = self.desk.signers[self._finance()]
        stream = ("fund_account", fund)
        self.desk.emit(
            finance,
            stream,
            "FundAccountOpened",
            {
                "fund_account_id": fund,
                "owner_org_id": self.county.org_id,
                "bank_account_ref_hmac": digest("fund-bank", fund),
                "ledger_id": f"ledger-{fund}",
                "programme_codes": list(programmes),
                "purposes": list(purposes),
                "fiscal_year": year,
            },
            day,
        )
        for n, a in enumerate(appropriations, 1):
            appropriation = f"{fund}-approp-{n}"
            self.desk.emit(
                finance,
                stream,
                "FundAppropriated",
                {
                    "appropriation_id": appropriation,
                    "source": a.source,
                    "amount_fen": a.amount_fen,
                    "document_ref": f"{self.county.org_id}财社[{year}]{n}号",
                    "is_matching_fund": a.is_matching_fund,
                },
                day,
            )
            if a.received_fen:
                self.desk.emit(
                    finance,
                    stream,
                    "FundReceived",
                    {
                        "appropriation_id": appropriation,
                        "amount_fen": a.received_fen,
                        "value_date": (day + timedelta(days=5)).isoformat(),
                    },
                    day + timedelta(days=5),
                )
        return fund

    def commit_matching(self, year: int, amount_fen: int, day: date) -> str:
        """W8.3: the government commits the county's local matching funds (配套资金)."""
        commitment = f"match-{self.county.org_id}-{year}"
        self.desk.emit(
            self.desk.signers[self.county.government],
            ("matching_fund", self.county.org_id),
            "MatchingFundCommitted",
            {
                "commitment_id": commitment,
                "admin_unit_id": self.county.org_id,
                "programme_code": TEKUN,
                "year": year,
                "amount_fen": amount_fen,
                "agreement_id": f"agreement-{self.county.org_id}-{year}",
            },
            day,
        )
        return commitment

    def carry_over(self, source: str, destination: str, amount_fen: int, day: date) -> None:
        """W8.8: the year-end balance moves to next year's account of the same earmark."""
        self.desk.emit(
            self.desk.signers[self._finance()],
            ("fund_account", source),
            "FundCarriedOver",
            {
                "carry_over_id": f"carry-{source}",
                "to_fund_account_id": destination,
                "amount_fen": amount_fen,
            },
            day,
        )

    def recover(
        self, fund: str, amount_fen: int, cause_event_id: str, reason: str, day: date
    ) -> None:
        """W8.9: an overpayment comes back to the account, citing the event that caused it."""
        self.desk.emit(
            self.desk.signers[self._finance()],
            ("fund_account", fund),
            "FundRecovered",
            {
                "recovery_id": f"recovery-{fund}-{day:%Y%m%d}",
                "amount_fen": amount_fen,
                "cause_event_id": cause_event_id,
                "reason": reason,
            },
            day,
        )
