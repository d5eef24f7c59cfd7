"""Earmarked fund accounts (W8, ``domain.md`` §4.8): 专户储存, 专帐核算, 专款专用.

A fund account is a dedicated bank account with a segregated book for one *earmark*: a set
of programmes, a set of purposes, an owning organisation and a fiscal year (FUND-5). Money
enters by receipts, transfers in, recoveries and a carry-over from the previous year; it
leaves by payment batches (W2, see :mod:`ledger.domain.payments`), non-payroll expenditures,
transfers out, a carry-over to the next year and returns to the treasury. The balance
identity (§4.8) is::

    available = received + transfers_in + recoveries + carried_in
                - committed_unsettled - settled_payments
                - expenditures - transfers_out - carried_out - returned_to_treasury

``committed_unsettled`` is what approved payment lines still hold (released when the bank
reports a failure), ``settled_payments`` is net of payments the bank returned, and
``expenditures`` counts every authorised expenditure, settled or not. Every *decision* that
takes money out checks ``amount <= available`` first, so ``available`` never goes below zero
through a decision (FUND-1). Bank facts (receipts, settlements, failures, returns) are never
refused (§4.0); what they reveal that does not fit (a receipt for an unknown appropriation,
an expenditure settled without authorisation) is recorded for the audit findings of §7.4.

Refusal codes: the invariant ID (FUND-1/2/3/4/5, SOD-5); ``ENV-7`` for an id that is already
taken (creating it again is not a valid transition); ``ENV-8`` for an unknown referenced id;
``ENV-5`` for a payload that contradicts itself (its stream, a non-positive amount).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    note_soft_finding,
    refuse,
    require,
    require_scope,
)

ACCOUNTS = "fund.account"
"""fund_account_id → :class:`FundAccount` (the earmark; never changes once opened)."""
BALANCES = "fund.balance"
"""fund_account_id → :class:`FundBalance` (the running totals of the account)."""
EARMARK_KEYS = "fund.earmark_key"
""":class:`EarmarkKey` → fund_account_id of the open account with that earmark (FUND-5)."""
APPROPRIATIONS = "fund.appropriation"
"""(fund_account_id, appropriation_id) → :class:`Appropriation`."""
TRANSFERS = "fund.transfer"
"""(fund_account_id, transfer_id) → :class:`Transfer` (on the source account)."""
EXPENDITURES = "fund.expenditure"
"""(fund_account_id, expenditure_id) → :class:`Expenditure`."""
UNMATCHED_RECEIPTS = "fund.unmatched_receipt"
"""event_id → :class:`UnmatchedReceipt`: money received that no appropriation explains."""
UNAUTHORISED_EXPENDITURES = "fund.unauthorised_expenditure"
"""event_id → :class:`UnauthorisedExpenditure`: a bank settlement nobody authorised."""
CARRY_OVERS = "fund.carry_over"
"""(fund_account_id, carry_over_id) → :class:`CarryOver` (on the source account)."""
RECOVERIES = "fund.recovery"
"""(fund_account_id, recovery_id) → :class:`Recovery`."""

BASIC_LIVING = "BASIC_LIVING"


# --- Records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EarmarkKey:
    """What makes two dedicated accounts "the same earmark" (FUND-5)."""

    programmes: frozenset[str]
    purposes: frozenset[str]
    owner_org_id: str
    fiscal_year: int


@dataclass(frozen=True, slots=True)
class FundAccount:
    """A dedicated account and what its money may be used for."""

    fund_account_id: str
    owner_org_id: str
    programmes: frozenset[str]
    purposes: frozenset[str]
    fiscal_year: int

    @property
    def earmark_key(self) -> EarmarkKey:
        return EarmarkKey(self.programmes, self.purposes, self.owner_org_id, self.fiscal_year)


@dataclass(frozen=True, slots=True)
class FundBalance:
    """The running totals of one fund account, in fen; :attr:`available_fen` is the §4.8
    identity computed from them (never stored, so it cannot drift from its terms)."""

    fund_account_id: str
    appropriated_fen: int = 0
    received_fen: int = 0
    transfers_in_fen: int = 0
    committed_unsettled_fen: int = 0
    settled_payments_fen: int = 0
    returned_payments_fen: int = 0
    expenditures_fen: int = 0
    expenditures_settled_fen: int = 0
    transfers_out_fen: int = 0
    returned_to_treasury_fen: int = 0
    recovered_fen: int = 0
    carried_in_fen: int = 0
    carried_out_fen: int = 0

    @property
    def available_fen(self) -> int:
        """Everything that came in minus everything committed, paid, spent, moved or returned."""
        return (
            self.received_fen
            + self.transfers_in_fen
            + self.recovered_fen
            + self.carried_in_fen
            - self.committed_unsettled_fen
            - self.settled_payments_fen
            - self.expenditures_fen
            - self.transfers_out_fen
            - self.carried_out_fen
            - self.returned_to_treasury_fen
        )


@dataclass(frozen=True, slots=True)
class Appropriation:
    """Money a source has appropriated to the account, and how much of it has arrived."""

    appropriation_id: str
    source: str
    amount_fen: int
    is_matching_fund: bool
    received_fen: int = 0


@dataclass(frozen=True, slots=True)
class Transfer:
    """Money moved from one dedicated account to another (recorded on the source)."""

    transfer_id: str
    to_fund_account_id: str
    amount_fen: int
    purpose: str


@dataclass(frozen=True, slots=True)
class Expenditure:
    """A non-payroll expenditure; ``settled_fen`` is what the bank reported paying."""

    expenditure_id: str
    purpose: str
    payee_org_id: str
    amount_fen: int
    settled_fen: int | None = None


@dataclass(frozen=True, slots=True)
class CarryOver:
    """A year-end balance moved to the same earmark's next-year account (FUND-4)."""

    carry_over_id: str
    to_fund_account_id: str
    amount_fen: int
    closing_balance_fen: int
    """The source's available balance just before the carry-over (what should have moved)."""


@dataclass(frozen=True, slots=True)
class Recovery:
    """Money recovered into the account, and the event that caused the recovery."""

    recovery_id: str
    amount_fen: int
    cause_event_id: str


@dataclass(frozen=True, slots=True)
class UnmatchedReceipt:
    """A receipt for an appropriation (or an account) the ledger does not know."""

    event_id: str
    fund_account_id: str
    appropriation_id: str
    amount_fen: int
    reason: str
    """``UNKNOWN_APPROPRIATION`` (counted in the balance) or ``UNKNOWN_ACCOUNT`` (not)."""


@dataclass(frozen=True, slots=True)
class UnauthorisedExpenditure:
    """A settlement for an expenditure that was never authorised (or settled twice)."""

    event_id: str
    fund_account_id: str
    expenditure_id: str
    amount_fen: int
    reason: str
    """``NOT_AUTHORISED`` or ``ALREADY_SETTLED``."""


# --- Queries -------------------------------------------------------------------------------


def account(state: DomainState, fund_account_id: str) -> FundAccount | None:
    """The fund account, or ``None`` if it was never opened."""
    found: FundAccount | None = state.table(ACCOUNTS).get(fund_account_id)
    return found


def fund_balance(state: DomainState, fund_account_id: str) -> FundBalance | None:
    """The running totals of the account, or ``None`` if it was never opened."""
    found: FundBalance | None = state.table(BALANCES).get(fund_account_id)
    return found


def appropriation(
    state: DomainState, fund_account_id: str, appropriation_id: str
) -> Appropriation | None:
    """One appropriation of the account."""
    found: Appropriation | None = state.table(APPROPRIATIONS).get(
        (fund_account_id, appropriation_id)
    )
    return found


def expenditure(
    state: DomainState, fund_account_id: str, expenditure_id: str
) -> Expenditure | None:
    """One expenditure of the account."""
    found: Expenditure | None = state.table(EXPENDITURES).get((fund_account_id, expenditure_id))
    return found


def carry_over(state: DomainState, fund_account_id: str, carry_over_id: str) -> CarryOver | None:
    """One carry-over out of the account."""
    found: CarryOver | None = state.table(CARRY_OVERS).get((fund_account_id, carry_over_id))
    return found


def recovery(state: DomainState, fund_account_id: str, recovery_id: str) -> Recovery | None:
    """One recovery into the account."""
    found: Recovery | None = state.table(RECOVERIES).get((fund_account_id, recovery_id))
    return found


def accounts(state: DomainState) -> list[FundAccount]:
    """Every opened fund account."""
    return list(state.table(ACCOUNTS).values())


def appropriations_of(state: DomainState, fund_account_id: str) -> list[Appropriation]:
    """The appropriations of one account, in the order they were made."""
    return [
        record
        for (account_id, _), record in state.table(APPROPRIATIONS).items()
        if account_id == fund_account_id
    ]


def unmatched_receipts(state: DomainState) -> list[UnmatchedReceipt]:
    """Receipts no known appropriation explains (input to the §7.4 findings)."""
    return list(state.table(UNMATCHED_RECEIPTS).values())


def unauthorised_expenditures(state: DomainState) -> list[UnauthorisedExpenditure]:
    """Expenditure settlements without a matching authorisation (input to §7.4 findings)."""
    return list(state.table(UNAUTHORISED_EXPENDITURES).values())


# --- Checks shared with the payment rules ----------------------------------------------------


def require_account(state: DomainState, fund_account_id: str) -> FundAccount:
    """The open fund account ``fund_account_id``; refuses ENV-8 if there is none."""
    found = account(state, fund_account_id)
    if found is None:
        raise refuse("ENV-8", "No fund account has this id.", fund_account_id=fund_account_id)
    return found


def require_available(state: DomainState, fund_account_id: str, amount_fen: int) -> None:
    """FUND-1: the account's available balance covers ``amount_fen``."""
    balance = state.table(BALANCES)[fund_account_id]
    require(
        amount_fen <= balance.available_fen,
        "FUND-1",
        "The fund account's available balance does not cover this amount.",
        fund_account_id=fund_account_id,
        amount_fen=amount_fen,
        available_fen=balance.available_fen,
    )


def require_earmark(
    fund: FundAccount, *, programme_code: str | None, purpose: str, year: int | None
) -> None:
    """FUND-2: the programme, purpose and fiscal year are inside the account's earmark.

    ``programme_code`` and ``year`` are ``None`` where the spending has none (a non-payroll
    expenditure is for the account's purposes in general, and within its own year).
    """
    if programme_code is not None:
        require(
            programme_code in fund.programmes,
            "FUND-2",
            "The programme is not one the fund account is earmarked for.",
            fund_account_id=fund.fund_account_id,
            programme_code=programme_code,
            earmarked_programmes=sorted(fund.programmes),
        )
    require(
        purpose in fund.purposes,
        "FUND-2",
        "The purpose is not one the fund account is earmarked for.",
        fund_account_id=fund.fund_account_id,
        purpose=purpose,
        earmarked_purposes=sorted(fund.purposes),
    )
    if year is not None:
        require(
            year == fund.fiscal_year,
            "FUND-2",
            "The payment period is not in the fund account's fiscal year.",
            fund_account_id=fund.fund_account_id,
            year=year,
            fiscal_year=fund.fiscal_year,
        )


# --- Balance changes made by the payment rules ---------------------------------------------


def _adjust(state: DomainState, fund_account_id: str, **deltas: int) -> None:
    """Add ``deltas`` (field name → fen) to the account's totals (a new immutable value)."""
    balances = state.table(BALANCES)
    current: FundBalance = balances[fund_account_id]
    changed = {name: getattr(current, name) + delta for name, delta in deltas.items()}
    balances.put(fund_account_id, replace(current, **changed))


def commit_payment(state: DomainState, fund_account_id: str, amount_fen: int) -> None:
    """An approved payment (batch or reissued line) now holds ``amount_fen``."""
    _adjust(state, fund_account_id, committed_unsettled_fen=amount_fen)


def release_commitment(state: DomainState, fund_account_id: str, amount_fen: int) -> None:
    """The bank could not pay a committed line: the money is available again."""
    _adjust(state, fund_account_id, committed_unsettled_fen=-amount_fen)


def settle_payment(
    state: DomainState, fund_account_id: str, *, committed_fen: int, settled_fen: int
) -> None:
    """A committed line was paid: its commitment ends and what the bank paid is spent.

    The two may differ (the bank is the authority on what left the account); the caller
    records the difference for the findings.
    """
    _adjust(
        state,
        fund_account_id,
        committed_unsettled_fen=-committed_fen,
        settled_payments_fen=settled_fen,
    )


def return_payment(state: DomainState, fund_account_id: str, amount_fen: int) -> None:
    """A settled payment came back to the account."""
    _adjust(
        state,
        fund_account_id,
        settled_payments_fen=-amount_fen,
        returned_payments_fen=amount_fen,
    )


# --- FundAccountOpened ---------------------------------------------------------------------


def _account_from(event: DomainEvent) -> FundAccount:
    p = event.payload
    return FundAccount(
        fund_account_id=p["fund_account_id"],
        owner_org_id=p["owner_org_id"],
        programmes=frozenset(p["programme_codes"]),
        purposes=frozenset(p["purposes"]),
        fiscal_year=p["fiscal_year"],
    )


def decide_account_opened(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A new account id, an existing owner in the actor's scope, and no open account with the
    same earmark (FUND-5: one book per earmark, or money could be split to hide it)."""
    opened = _account_from(event)
    require(
        event.stream_id == opened.fund_account_id,
        "ENV-5",
        "The event's stream must be the fund account it opens.",
        stream_id=event.stream_id,
        fund_account_id=opened.fund_account_id,
    )
    require(
        opened.fund_account_id not in state.table(ACCOUNTS),
        "ENV-7",
        "A fund account with this id is already open.",
        fund_account_id=opened.fund_account_id,
    )
    require(
        directory.org_exists(opened.owner_org_id),
        "ENV-8",
        "The owning organisation is not registered.",
        owner_org_id=opened.owner_org_id,
    )
    require_scope(directory, event, opened.owner_org_id)
    existing = state.table(EARMARK_KEYS).get(opened.earmark_key)
    require(
        existing is None,
        "FUND-5",
        "An account with the same earmark (programmes, purposes, owner, year) is already open.",
        fund_account_id=opened.fund_account_id,
        existing_fund_account_id=existing,
        owner_org_id=opened.owner_org_id,
        fiscal_year=opened.fiscal_year,
    )


def apply_account_opened(state: DomainState, event: DomainEvent) -> None:
    opened = _account_from(event)
    state.table(ACCOUNTS).put(opened.fund_account_id, opened)
    state.table(BALANCES).put(opened.fund_account_id, FundBalance(opened.fund_account_id))
    state.table(EARMARK_KEYS).put(opened.earmark_key, opened.fund_account_id)


# --- FundAppropriated ----------------------------------------------------------------------


def _require_positive(amount_fen: int) -> None:
    # The schema already demands ≥ 1 fen; a zero amount here would mean a schema change
    # slipped through, and a zero or negative movement must never reach the balance.
    require(amount_fen > 0, "ENV-5", "The amount must be at least 1 fen.", amount_fen=amount_fen)


def _require_own_account(
    state: DomainState, directory: Directory, event: DomainEvent
) -> FundAccount:
    """The account this event's stream names, within the actor's scope."""
    fund = require_account(state, event.stream_id)
    require_scope(directory, event, fund.owner_org_id)
    return fund


def decide_appropriated(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The account is open, the amount positive and the appropriation id new to the account."""
    fund = _require_own_account(state, directory, event)
    _require_positive(event.payload["amount_fen"])
    appropriation_id = event.payload["appropriation_id"]
    require(
        (fund.fund_account_id, appropriation_id) not in state.table(APPROPRIATIONS),
        "ENV-7",
        "This appropriation id is already used on the fund account.",
        fund_account_id=fund.fund_account_id,
        appropriation_id=appropriation_id,
    )


def apply_appropriated(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = Appropriation(
        p["appropriation_id"], p["source"], p["amount_fen"], p["is_matching_fund"]
    )
    state.table(APPROPRIATIONS).put((event.stream_id, record.appropriation_id), record)
    _adjust(state, event.stream_id, appropriated_fen=record.amount_fen)


# --- FundReceived (fact) -------------------------------------------------------------------


def apply_received(state: DomainState, event: DomainEvent) -> None:
    """Money arrived: count it, and tie it to its appropriation when there is one.

    A receipt is a bank fact and is never refused (§4.0). Money on an account that does not
    exist cannot be counted anywhere, and money for an unknown appropriation is counted but
    remembered: both become findings.
    """
    p = event.payload
    account_id, appropriation_id, amount = event.stream_id, p["appropriation_id"], p["amount_fen"]
    if account(state, account_id) is None:
        _record_unmatched_receipt(state, event, "UNKNOWN_ACCOUNT")
        return
    _adjust(state, account_id, received_fen=amount)
    known = appropriation(state, account_id, appropriation_id)
    if known is None:
        _record_unmatched_receipt(state, event, "UNKNOWN_APPROPRIATION")
        return
    updated = replace(known, received_fen=known.received_fen + amount)
    state.table(APPROPRIATIONS).put((account_id, appropriation_id), updated)


def _record_unmatched_receipt(state: DomainState, event: DomainEvent, reason: str) -> None:
    p = event.payload
    record = UnmatchedReceipt(
        event.event_id, event.stream_id, p["appropriation_id"], p["amount_fen"], reason
    )
    state.table(UNMATCHED_RECEIPTS).put(event.event_id, record)


# --- FundTransferred -----------------------------------------------------------------------


def decide_transferred(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Money may only move to a *different* dedicated account whose earmark is the same or
    narrower, for a purpose both accounts share (FUND-3: anything else is 挪用), and only as
    much as is available (FUND-1)."""
    source = _require_own_account(state, directory, event)
    p = event.payload
    _require_positive(p["amount_fen"])
    require(
        (source.fund_account_id, p["transfer_id"]) not in state.table(TRANSFERS),
        "ENV-7",
        "This transfer id is already used on the fund account.",
        fund_account_id=source.fund_account_id,
        transfer_id=p["transfer_id"],
    )
    destination = require_account(state, p["to_fund_account_id"])
    _require_compatible_earmark(source, destination, p["purpose"])
    require_available(state, source.fund_account_id, p["amount_fen"])


def _require_compatible_earmark(
    source: FundAccount, destination: FundAccount, purpose: str
) -> None:
    """FUND-3: the destination's earmark is the source's or a narrower one."""
    evidence = {
        "fund_account_id": source.fund_account_id,
        "to_fund_account_id": destination.fund_account_id,
    }
    require(
        destination.fund_account_id != source.fund_account_id,
        "FUND-3",
        "A fund account cannot transfer to itself.",
        **evidence,
    )
    require(
        destination.programmes <= source.programmes,
        "FUND-3",
        "The destination account is earmarked for programmes the source is not.",
        extra_programmes=sorted(destination.programmes - source.programmes),
        **evidence,
    )
    require(
        destination.purposes <= source.purposes,
        "FUND-3",
        "The destination account is earmarked for purposes the source is not.",
        extra_purposes=sorted(destination.purposes - source.purposes),
        **evidence,
    )
    require(
        purpose in source.purposes and purpose in destination.purposes,
        "FUND-3",
        "The transfer's purpose must be in the earmark of both accounts.",
        purpose=purpose,
        **evidence,
    )
    # Moving money into another year is a carry-over (FundCarriedOver, FUND-4), not a
    # transfer: allowing it here would bypass that rule.
    require(
        destination.fiscal_year == source.fiscal_year,
        "FUND-3",
        "A transfer must stay within one fiscal year (a year change is a carry-over).",
        fiscal_year=source.fiscal_year,
        to_fiscal_year=destination.fiscal_year,
        **evidence,
    )


def apply_transferred(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = Transfer(p["transfer_id"], p["to_fund_account_id"], p["amount_fen"], p["purpose"])
    state.table(TRANSFERS).put((event.stream_id, record.transfer_id), record)
    _adjust(state, event.stream_id, transfers_out_fen=record.amount_fen)
    _adjust(state, record.to_fund_account_id, transfers_in_fen=record.amount_fen)


# --- FundExpenditureAuthorised / FundExpenditureSettled ------------------------------------


def decide_expenditure_authorised(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """Spend only for an earmarked purpose (FUND-2), only what is available (FUND-1), and
    never authorised by the organisation that receives the money (SOD-5)."""
    fund = _require_own_account(state, directory, event)
    p = event.payload
    _require_positive(p["amount_fen"])
    require(
        (fund.fund_account_id, p["expenditure_id"]) not in state.table(EXPENDITURES),
        "ENV-7",
        "This expenditure id is already used on the fund account.",
        fund_account_id=fund.fund_account_id,
        expenditure_id=p["expenditure_id"],
    )
    require_earmark(fund, programme_code=None, purpose=p["purpose"], year=None)
    _require_not_payee_side(directory, event, p["payee_org_id"])
    require_available(state, fund.fund_account_id, p["amount_fen"])


def _require_not_payee_side(directory: Directory, event: DomainEvent, payee_org_id: str) -> None:
    """SOD-5: neither the organisation the actor acts for nor the actor's home organisation
    is the payee (an institution manager may not authorise money to their own institution)."""
    authorising_orgs = {event.org_id, directory.actor_org(event.actor_id)}
    require(
        payee_org_id not in authorising_orgs,
        "SOD-5",
        "An expenditure cannot be authorised by someone from the organisation it pays.",
        actor_id=event.actor_id,
        actor_org_id=event.org_id,
        payee_org_id=payee_org_id,
    )


def apply_expenditure_authorised(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = Expenditure(p["expenditure_id"], p["purpose"], p["payee_org_id"], p["amount_fen"])
    state.table(EXPENDITURES).put((event.stream_id, record.expenditure_id), record)
    _adjust(state, event.stream_id, expenditures_fen=record.amount_fen)


def apply_expenditure_settled(state: DomainState, event: DomainEvent) -> None:
    """The bank paid an expenditure. An authorised one moves to settled (the balance already
    counts it); anything else is money that left without authorisation: a finding."""
    p = event.payload
    key = (event.stream_id, p["expenditure_id"])
    known: Expenditure | None = state.table(EXPENDITURES).get(key)
    if known is None or known.settled_fen is not None:
        reason = "NOT_AUTHORISED" if known is None else "ALREADY_SETTLED"
        record = UnauthorisedExpenditure(
            event.event_id, event.stream_id, p["expenditure_id"], p["amount_fen"], reason
        )
        state.table(UNAUTHORISED_EXPENDITURES).put(event.event_id, record)
        return
    state.table(EXPENDITURES).put(key, replace(known, settled_fen=p["amount_fen"]))
    _adjust(state, event.stream_id, expenditures_settled_fen=p["amount_fen"])


# --- FundReturnedToTreasury ----------------------------------------------------------------


def decide_returned_to_treasury(
    state: DomainState, directory: Directory, event: DomainEvent
) -> None:
    """Only money that is available can go back (FUND-1)."""
    fund = _require_own_account(state, directory, event)
    _require_positive(event.payload["amount_fen"])
    require_available(state, fund.fund_account_id, event.payload["amount_fen"])


def apply_returned_to_treasury(state: DomainState, event: DomainEvent) -> None:
    _adjust(state, event.stream_id, returned_to_treasury_fen=event.payload["amount_fen"])


# --- FundCarriedOver (FUND-4) ----------------------------------------------------------------


def decide_carried_over(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A year-end balance may only move to the *same* earmark's account of the next fiscal
    year (FUND-4: same programmes, purposes and owner, fiscal year + 1), and only what is
    available (FUND-1)."""
    source = _require_own_account(state, directory, event)
    p = event.payload
    _require_positive(p["amount_fen"])
    require(
        (source.fund_account_id, p["carry_over_id"]) not in state.table(CARRY_OVERS),
        "ENV-7",
        "This carry-over id is already used on the fund account.",
        fund_account_id=source.fund_account_id,
        carry_over_id=p["carry_over_id"],
    )
    destination = require_account(state, p["to_fund_account_id"])
    _require_next_year_of_same_earmark(source, destination)
    require_available(state, source.fund_account_id, p["amount_fen"])


def _require_next_year_of_same_earmark(source: FundAccount, destination: FundAccount) -> None:
    """FUND-4: the destination is the source's earmark, one fiscal year later."""
    expected = replace(source.earmark_key, fiscal_year=source.fiscal_year + 1)
    require(
        destination.earmark_key == expected,
        "FUND-4",
        "A carry-over must go to the account of the same earmark (programmes, purposes, "
        "owner) for the next fiscal year.",
        fund_account_id=source.fund_account_id,
        to_fund_account_id=destination.fund_account_id,
        fiscal_year=source.fiscal_year,
        to_fiscal_year=destination.fiscal_year,
        same_programmes=destination.programmes == source.programmes,
        same_purposes=destination.purposes == source.purposes,
        same_owner=destination.owner_org_id == source.owner_org_id,
    )


def apply_carried_over(state: DomainState, event: DomainEvent) -> None:
    """Move the money; a carry-over that leaves part of the closing balance behind is
    accepted (the decision is the finance office's) but raises AF-FUND-CARRYOVER-MISMATCH."""
    p = event.payload
    closing = state.table(BALANCES)[event.stream_id].available_fen
    record = CarryOver(p["carry_over_id"], p["to_fund_account_id"], p["amount_fen"], closing)
    state.table(CARRY_OVERS).put((event.stream_id, record.carry_over_id), record)
    _adjust(state, event.stream_id, carried_out_fen=record.amount_fen)
    _adjust(state, record.to_fund_account_id, carried_in_fen=record.amount_fen)
    if record.amount_fen != closing:
        note_soft_finding(
            state,
            event,
            "FUND-4",
            "AF-FUND-CARRYOVER-MISMATCH",
            "The carry-over does not equal the account's closing balance; the difference "
            "is unexplained.",
            fund_account_id=event.stream_id,
            closing_balance_fen=closing,
            carried_over_fen=record.amount_fen,
            unexplained_fen=closing - record.amount_fen,
        )


# --- FundRecovered (W8.9) ------------------------------------------------------------------


def decide_recovered(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """Recovered money comes back to an open account in the actor's scope, once per id."""
    fund = _require_own_account(state, directory, event)
    p = event.payload
    _require_positive(p["amount_fen"])
    require(
        (fund.fund_account_id, p["recovery_id"]) not in state.table(RECOVERIES),
        "ENV-7",
        "This recovery id is already used on the fund account.",
        fund_account_id=fund.fund_account_id,
        recovery_id=p["recovery_id"],
    )


def apply_recovered(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = Recovery(p["recovery_id"], p["amount_fen"], p["cause_event_id"])
    state.table(RECOVERIES).put((event.stream_id, record.recovery_id), record)
    _adjust(state, event.stream_id, recovered_fen=record.amount_fen)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("FundAccountOpened", apply_account_opened, decide_account_opened)
    rules.register("FundAppropriated", apply_appropriated, decide_appropriated)
    rules.register("FundReceived", apply_received)  # a fact: never refused (§4.0)
    rules.register("FundTransferred", apply_transferred, decide_transferred)
    rules.register(
        "FundExpenditureAuthorised", apply_expenditure_authorised, decide_expenditure_authorised
    )
    rules.register("FundExpenditureSettled", apply_expenditure_settled)  # a fact
    rules.register(
        "FundReturnedToTreasury", apply_returned_to_treasury, decide_returned_to_treasury
    )
    rules.register("FundCarriedOver", apply_carried_over, decide_carried_over)
    rules.register("FundRecovered", apply_recovered, decide_recovered)
    # Imported here because funds_matching reads this module's tables (a top-level import
    # would be circular); registering it from here keeps the whole of W8 one module to add.
    from ledger.domain import funds_matching

    funds_matching.register(rules)
