"""Property: random fund histories never drive a balance negative, and §4.8 always holds.

Each step is a fund decision or a bank fact drawn at random (appropriate and receive,
transfer, expenditure and its settlement, return to treasury, recovery, carry-over, a
payment batch and its settlement, failure or return). Decisions that break a rule are
refused and must leave every balance exactly as it was. At the end, the FundLedger and
MatchingFundCompliance projections folded from the accepted events must give the domain's
available balances and matching-fund amounts (a differential check of the two codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import funds, funds_matching, payments
from ledger.domain.model import DomainEvent
from ledger.errors import RuleViolation
from ledger.projections.events import Event
from ledger.projections.funds import FundLedgerProjection
from ledger.projections.matching_funds import MatchingFundComplianceProjection, compliance_key
from tests.unit.domain.money_builders import MoneyLedger

COUNTY, INSTITUTION, NEXT_YEAR = "fund-county", "fund-inst", "fund-county-2025"
ACCOUNTS = (COUNTY, INSTITUTION, NEXT_YEAR)
PERIODS = [f"2024-{month:02d}" for month in range(1, 13)]

STEPS = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 2), st.integers(1, 3_000_000)),
    min_size=1,
    max_size=40,
)


@dataclass
class History:
    """The ledger plus the lines and expenditures a later step may act on."""

    ledger: MoneyLedger = field(default_factory=MoneyLedger)
    committed: list[tuple[str, str]] = field(default_factory=list)
    settled: list[tuple[str, str, int]] = field(default_factory=list)
    expenditures: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ledger.define_programme("TEKUN", "MONTHLY")
        self.ledger.open_fund(COUNTY)
        self.ledger.open_fund(
            INSTITUTION, owner_org_id="inst-1", programmes=("TEKUN",), purposes=("BASIC_LIVING",)
        )
        self.ledger.open_fund(NEXT_YEAR, fiscal_year=2025)

    def step(self, op: int, which: int, amount: int) -> None:
        """Run one step; raises RuleViolation when the ledger refuses it."""
        ledger, account = self.ledger, ACCOUNTS[which]
        if op == 0:
            matching = amount % 3 == 0  # a third of the money is local matching money
            appropriation = ledger.appropriate(account, amount, is_matching_fund=matching)
            ledger.receive(account, appropriation, amount - amount % 7 or amount)
        elif op == 11:
            ledger.commit_matching(amount, programme_code=("TEKUN", "WUBAO")[which % 2])
        elif op == 1:
            ledger.transfer(COUNTY, INSTITUTION, amount)
        elif op == 2:
            exp_id = ledger.authorise_expenditure(account, amount, payee_org_id="inst-2")
            self.expenditures.append((account, exp_id, amount))
        elif op == 3:
            ledger.return_to_treasury(account, amount)
        elif op == 4:
            ledger.recover(account, amount)
        elif op == 5:
            ledger.carry_over(COUNTY, NEXT_YEAR, amount)
        elif op == 6:
            self.pay(PERIODS[amount % len(PERIODS)])
        elif op <= 10:
            self.bank_fact(op, amount)

    def pay(self, period: str) -> None:
        enrolled = self.ledger.enrol("TEKUN", first_payable_period="2024-01")
        batch_id = self.ledger.pay(COUNTY, period, [enrolled])
        self.committed += [(batch_id, line) for line in self.ledger.line_ids(batch_id)]

    def bank_fact(self, op: int, pick: int) -> None:
        """Settle, fail or return a payment line, or settle an expenditure, as the bank."""
        ledger = self.ledger
        if op == 7 and self.committed:
            batch_id, line_id = self.committed.pop(pick % len(self.committed))
            found = payments.line(ledger.state, line_id)
            assert found is not None
            ledger.settle(batch_id, line_id)
            self.settled.append((batch_id, line_id, found.amount_fen))
        elif op == 8 and self.committed:
            ledger.fail(*self.committed.pop(pick % len(self.committed)))
        elif op == 9 and self.settled:
            ledger.return_payment(*self.settled.pop(pick % len(self.settled)))
        elif op == 10 and self.expenditures:
            ledger.settle_expenditure(*self.expenditures.pop(pick % len(self.expenditures)))

    def balances(self) -> dict[str, funds.FundBalance]:
        return {account: self.ledger.balance(account) for account in ACCOUNTS}


def identity(b: funds.FundBalance) -> int:
    """§4.8, written out independently of ``FundBalance.available_fen``."""
    inflows = b.received_fen + b.transfers_in_fen + b.recovered_fen + b.carried_in_fen
    outflows = (
        b.committed_unsettled_fen
        + b.settled_payments_fen
        + b.expenditures_fen
        + b.transfers_out_fen
        + b.carried_out_fen
        + b.returned_to_treasury_fen
    )
    return inflows - outflows


def check_invariants(history: History) -> None:
    balances = history.balances()
    for balance in balances.values():
        assert balance.available_fen >= 0
        assert balance.available_fen == identity(balance)
    # Transfers and carry-overs move money between accounts: they cancel out in the total.
    total = sum(b.available_fen for b in balances.values())
    came_in = sum(b.received_fen + b.recovered_fen for b in balances.values())
    went_out = sum(
        b.committed_unsettled_fen
        + b.settled_payments_fen
        + b.expenditures_fen
        + b.returned_to_treasury_fen
        for b in balances.values()
    )
    assert total == came_in - went_out


def as_projected(event: DomainEvent) -> Event:
    """The projections' view of an accepted domain event."""
    return Event(
        event.position,
        "2024-01-01T00:00:00.000000Z",
        event.event_type,
        event.stream_type,
        event.stream_id,
        dict(event.payload),
    )


def check_projections_agree(history: History) -> None:
    """The read models, folded from the accepted events alone, give the domain's numbers."""
    events = [as_projected(e) for e in history.ledger.accepted]
    ledger_rows = FundLedgerProjection().fold_all(events).accounts.rows
    for account, balance in history.balances().items():
        assert ledger_rows[account].available_fen == balance.available_fen
    compliance_rows = MatchingFundComplianceProjection().fold_all(events).rows.rows
    expected = funds_matching.all_compliance(history.ledger.state)
    assert len(compliance_rows) == len(expected)
    for domain in expected:
        k = domain.key
        row = compliance_rows[compliance_key(k.admin_unit_id, k.programme_code, k.year)]
        assert (row.committed_fen, row.appropriated_fen, row.received_fen) == (
            domain.committed_fen,
            domain.appropriated_fen,
            domain.received_fen,
        )
        assert row.compliance == (None if domain.ratio is None else str(domain.ratio))


@settings(max_examples=60, deadline=None)
@given(steps=STEPS)
def test_random_fund_histories_keep_every_balance_non_negative_and_consistent(
    steps: list[tuple[int, int, int]],
) -> None:
    history = History()

    for op, which, amount in steps:
        before = history.balances()
        try:
            history.step(op, which, amount)
        except RuleViolation:
            assert history.balances() == before  # a refusal changes nothing
        check_invariants(history)
    check_projections_agree(history)
