"""Fund detectors (``domain.md`` §7.4, 专款专用 and 配套资金).

* :class:`MatchingShortfall` — ``AF-FUND-MATCHING``: once a year is over (the clock is past
  31 December), matching money committed for an admin unit, programme and year
  (``MatchingFundCommitted``) that had not arrived by 31 December (``FundReceived`` with a
  value date in the year, on matching appropriations of accounts counting toward that key,
  attributed as :mod:`ledger.domain.funds_matching` does). The shortfall and the ratio are
  :class:`~ledger.domain.funds_matching.MatchingCompliance`'s (F-MATCHING). One finding per
  key.
* :class:`Diversion` — ``AF-FUND-DIVERSION`` (挤占): an overhead expenditure (institution
  management, construction, office renovation, general office costs) authorised on a
  dedicated account earmarked for basic living or care whose earmark does not cover that
  overhead. FUND-2 refuses it on the append path; the detector re-checks the log. Money that
  left an account *outside* the ledger is ``AF-FUND-OFF-EARMARK``
  (:class:`~ledger.findings.payments.UnauthorisedMoney`), not a second finding here. The
  "management share above the configured share" clause of §7.4 needs a configured share,
  which no configuration event carries yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.funds_matching import (
    FORMULA_ID,
    FORMULA_VERSION,
    ComplianceKey,
    MatchingCompliance,
)
from ledger.domain.model import DomainEvent
from ledger.domain.periods import parse_date
from ledger.findings.model import Detector, Finding

OVERHEADS = frozenset(
    {"INSTITUTION_MANAGEMENT", "CONSTRUCTION", "OFFICE_RENOVATION", "GENERAL_OFFICE"}
)
"""Expenditure purposes that are overheads, not benefits (§7.4 AF-FUND-DIVERSION)."""

BENEFITS = frozenset({"BASIC_LIVING", "CARE"})
"""Earmarked purposes that are people's benefits (the sub-ledgers overheads must not eat)."""


@dataclass(frozen=True)
class _Account:
    owner_org_id: str
    programmes: frozenset[str]
    purposes: frozenset[str]
    fiscal_year: int
    event_id: str

    def matching_keys(self) -> set[ComplianceKey]:
        """The matching-fund keys the account's money counts toward (funds_matching)."""
        return {ComplianceKey(self.owner_org_id, p, self.fiscal_year) for p in self.programmes}


@dataclass
class _Key:
    committed_fen: int = 0
    appropriated_fen: int = 0
    received_by_year_end_fen: int = 0
    event_ids: list[str] = field(default_factory=list)


class MatchingShortfall(Detector):
    """``AF-FUND-MATCHING`` (see module docstring)."""

    name = "matching-funds"
    version = 1
    types = frozenset(
        {"FundAccountOpened", "FundAppropriated", "FundReceived", "MatchingFundCommitted"}
    )

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._matching: dict[str, str] = {}
        """Matching appropriation id → its fund account."""
        self._keys: dict[ComplianceKey, _Key] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "FundAccountOpened":
            self._accounts[p["fund_account_id"]] = _Account(
                p["owner_org_id"],
                frozenset(p["programme_codes"]),
                frozenset(p["purposes"]),
                p["fiscal_year"],
                event.event_id,
            )
        elif kind == "MatchingFundCommitted":
            key = ComplianceKey(p["admin_unit_id"], p["programme_code"], p["year"])
            found = self._keys.setdefault(key, _Key())
            found.committed_fen += p["amount_fen"]
            found.event_ids.append(event.event_id)
        elif kind == "FundAppropriated":
            account = self._accounts.get(event.stream_id)
            if p["is_matching_fund"] and account is not None:
                self._matching[p["appropriation_id"]] = event.stream_id
                for key in account.matching_keys():
                    self._keys.setdefault(key, _Key()).appropriated_fen += p["amount_fen"]
        else:
            self._received(event)

    def _received(self, event: DomainEvent) -> None:
        p = event.payload
        account_id = self._matching.get(p["appropriation_id"])
        if account_id is None:
            return
        value_date = parse_date(p["value_date"])
        for key in self._accounts[account_id].matching_keys():
            if value_date.year <= key.year:
                found = self._keys.setdefault(key, _Key())
                found.received_by_year_end_fen += p["amount_fen"]
                found.event_ids.append(event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        ordered = sorted(
            self._keys.items(), key=lambda i: (i[0].admin_unit_id, i[0].programme_code, i[0].year)
        )
        for key, found in ordered:
            if found.committed_fen == 0 or clock <= date(key.year, 12, 31):
                continue
            compliance = MatchingCompliance(
                key, found.committed_fen, found.appropriated_fen, found.received_by_year_end_fen
            )
            if compliance.shortfall_fen == 0:
                continue
            yield self.finding(
                "AF-FUND-MATCHING",
                [key.admin_unit_id, key.programme_code, str(key.year)],
                found.event_ids,
                f"{key.admin_unit_id} committed {compliance.committed_fen} fen of matching funds "
                f"for {key.programme_code} in {key.year}; {compliance.received_fen} fen had "
                f"arrived by 31 December ({compliance.ratio}), {compliance.shortfall_fen} fen "
                "short",
                rule_ref=f"{FORMULA_ID} v{FORMULA_VERSION}",
                period=str(key.year),
                admin_unit_id=key.admin_unit_id,
            )


class Diversion(Detector):
    """``AF-FUND-DIVERSION`` (see module docstring): one finding per expenditure."""

    name = "fund-diversion"
    version = 1
    types = frozenset({"FundAccountOpened", "FundExpenditureAuthorised"})

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "FundAccountOpened":
            self._accounts[p["fund_account_id"]] = _Account(
                p["owner_org_id"],
                frozenset(p["programme_codes"]),
                frozenset(p["purposes"]),
                p["fiscal_year"],
                event.event_id,
            )
            return
        account = self._accounts.get(event.stream_id)
        purpose = p["purpose"]
        if (
            account is None
            or purpose not in OVERHEADS
            or purpose in account.purposes
            or not account.purposes & BENEFITS
        ):
            return
        self._found.append(
            self.finding(
                "AF-FUND-DIVERSION",
                [p["expenditure_id"]],
                [account.event_id, event.event_id],
                f"expenditure {p['expenditure_id']} of {p['amount_fen']} fen for {purpose} to "
                f"{p['payee_org_id']} was charged to fund account {event.stream_id}, earmarked "
                f"for {', '.join(sorted(account.purposes))}",
                rule_ref="FUND-2",
                period=f"{event.day:%Y-%m}",
                admin_unit_id=account.owner_org_id,
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found
