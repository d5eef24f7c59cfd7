"""Local matching funds (财政配套资金, ``domain.md`` §4.8 step 8.3, §6.5, §7.4 AF-FUND-MATCHING).

A government commits matching funds for an admin unit, programme and year
(``MatchingFundCommitted``, from the target responsibility agreement). The money itself is
appropriated to a dedicated account with ``is_matching_fund`` (``FundAppropriated``) and
arrives with ``FundReceived``. What arrived against what was committed (到位率) is assessed
under 资金安排 (3.5 points, 000/002); :func:`compliance` gives it exactly, as a
:class:`~fractions.Fraction`.

Attribution: matching money on an account counts toward (the account's owner, each
programme of its earmark, its fiscal year). An account earmarked for several programmes
(for example {WUBAO, TEKUN}) therefore counts toward each of them: the ledger cannot split
one pooled appropriation between programmes, and the earmark is what the money may be used
for. Money held by another organisation (even a subordinate one) does not count toward the
unit's commitment.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ledger.domain import funds
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    require,
    require_scope,
)

COMMITMENTS = "fund.matching_commitment"
"""commitment_id → :class:`MatchingCommitment`."""

FORMULA_ID = "F-MATCHING"
FORMULA_VERSION = 1
"""The compliance ratio's formula (received ÷ committed); cited by every computed value."""


@dataclass(frozen=True, slots=True)
class MatchingCommitment:
    """Matching money a government has committed for one admin unit, programme and year."""

    commitment_id: str
    admin_unit_id: str
    programme_code: str
    year: int
    amount_fen: int
    agreement_id: str


@dataclass(frozen=True, slots=True)
class ComplianceKey:
    """What matching-fund compliance is assessed per (§6.5 ``MatchingFundCompliance``)."""

    admin_unit_id: str
    programme_code: str
    year: int


@dataclass(frozen=True, slots=True)
class MatchingCompliance:
    """Committed, appropriated and received matching money of one key, in fen."""

    key: ComplianceKey
    committed_fen: int
    appropriated_fen: int
    received_fen: int
    formula_id: str = FORMULA_ID
    formula_version: int = FORMULA_VERSION

    @property
    def shortfall_fen(self) -> int:
        """Committed money that has not arrived (the AF-FUND-MATCHING amount; never < 0)."""
        return max(self.committed_fen - self.received_fen, 0)

    @property
    def ratio(self) -> Fraction | None:
        """received ÷ committed, exactly (see :func:`compliance_ratio`)."""
        return compliance_ratio(self.committed_fen, self.received_fen)


def compliance_ratio(committed_fen: int, received_fen: int) -> Fraction | None:
    """The share of committed matching money that arrived, as an exact fraction.

    ``None`` when nothing was committed: there is no promise to measure against, and
    calling that 0 % or 100 % would both be inventions. The ratio is not capped at 1: money
    beyond the commitment is a fact the scorer may cap, not one to hide here.
    """
    if committed_fen <= 0:
        return None
    return Fraction(received_fen, committed_fen)


# --- Queries -------------------------------------------------------------------------------


def commitments(state: DomainState) -> list[MatchingCommitment]:
    """Every matching-fund commitment, in the order they were made."""
    return list(state.table(COMMITMENTS).values())


def compliance(
    state: DomainState, admin_unit_id: str, programme_code: str, year: int
) -> MatchingCompliance:
    """Committed versus appropriated and received matching money of one key (pure)."""
    key = ComplianceKey(admin_unit_id, programme_code, year)
    committed = sum(c.amount_fen for c in commitments(state) if _key_of(c) == key)
    appropriated = received = 0
    for account in funds.accounts(state):
        if key not in _keys_of_account(account):
            continue
        for record in funds.appropriations_of(state, account.fund_account_id):
            if record.is_matching_fund:
                appropriated += record.amount_fen
                received += record.received_fen
    return MatchingCompliance(key, committed, appropriated, received)


def all_compliance(state: DomainState) -> list[MatchingCompliance]:
    """:func:`compliance` of every key with a commitment or matching money, in key order."""
    keys = {_key_of(c) for c in commitments(state)}
    for account in funds.accounts(state):
        if any(r.is_matching_fund for r in funds.appropriations_of(state, account.fund_account_id)):
            keys.update(_keys_of_account(account))
    ordered = sorted(keys, key=lambda k: (k.admin_unit_id, k.programme_code, k.year))
    return [compliance(state, k.admin_unit_id, k.programme_code, k.year) for k in ordered]


def _key_of(commitment: MatchingCommitment) -> ComplianceKey:
    return ComplianceKey(commitment.admin_unit_id, commitment.programme_code, commitment.year)


def _keys_of_account(account: funds.FundAccount) -> set[ComplianceKey]:
    """The keys an account's matching money counts toward (module docstring)."""
    return {
        ComplianceKey(account.owner_org_id, programme, account.fiscal_year)
        for programme in account.programmes
    }


# --- MatchingFundCommitted -----------------------------------------------------------------


def _commitment_from(event: DomainEvent) -> MatchingCommitment:
    p = event.payload
    return MatchingCommitment(
        p["commitment_id"],
        p["admin_unit_id"],
        p["programme_code"],
        p["year"],
        p["amount_fen"],
        p["agreement_id"],
    )


def decide_committed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new commitment id, on the committing unit's own stream, for a registered unit within
    the approver's scope (a government commits only its own or its subordinates' money)."""
    commitment = _commitment_from(event)
    require(
        event.stream_id == commitment.admin_unit_id,
        "ENV-5",
        "The event's stream must be the admin unit that commits the matching funds.",
        stream_id=event.stream_id,
        admin_unit_id=commitment.admin_unit_id,
    )
    require(
        commitment.amount_fen > 0,
        "ENV-5",
        "The amount must be at least 1 fen.",
        amount_fen=commitment.amount_fen,
    )
    require(
        directory.org_exists(commitment.admin_unit_id),
        "ENV-8",
        "The admin unit is not registered.",
        admin_unit_id=commitment.admin_unit_id,
    )
    require_scope(directory, event, commitment.admin_unit_id)
    require(
        commitment.commitment_id not in state.table(COMMITMENTS),
        "ENV-7",
        "A matching-fund commitment with this id is already recorded.",
        commitment_id=commitment.commitment_id,
    )


def apply_committed(state: DomainState, event: DomainEvent) -> None:
    commitment = _commitment_from(event)
    state.table(COMMITMENTS).put(commitment.commitment_id, commitment)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("MatchingFundCommitted", apply_committed, decide_committed)
