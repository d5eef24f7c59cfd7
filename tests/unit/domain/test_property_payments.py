"""Property: whatever valid-looking sequence of enrolments, terminations, payment batches and
fund movements arrives, the rules never let a batch pay a period outside an enrolment's
payable span, never pay a line twice, and never drive a fund below zero (PAY-1, PAY-2, PAY-3,
FUND-1).

The oracle is independent of the payment module: it remembers, from the events the rules
*accepted*, each enrolment's first payable period and the period its termination takes
effect, and checks every line of every accepted batch against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import RuleViolation
from tests.unit.domain.money_builders import Enrolled, MoneyLedger

YEAR = 2024

Op = tuple[str, int, int, int]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("enrol"), st.integers(1, 6), st.just(0), st.just(0)),
        st.tuples(st.just("terminate"), st.integers(0, 7), st.integers(1, 12), st.just(0)),
        st.tuples(st.just("pay"), st.integers(1, 12), st.integers(0, 255), st.integers(0, 3)),
        st.tuples(st.just("fund"), st.integers(1, 400_000), st.just(0), st.just(0)),
    ),
    max_size=40,
)


def period(month: int) -> str:
    return f"{YEAR}-{month:02d}"


@dataclass
class Oracle:
    """What the accepted events say about each enrolment."""

    first: dict[str, int] = field(default_factory=dict)
    ends: dict[str, int] = field(default_factory=dict)
    """enrolment id → the month its termination takes effect (nothing payable from it)."""
    paid: set[tuple[str, int]] = field(default_factory=set)

    def payable(self, enrolment_id: str, month: int) -> bool:
        return self.first[enrolment_id] <= month < self.ends.get(enrolment_id, 13)


@dataclass
class Run:
    ledger: MoneyLedger = field(default_factory=MoneyLedger)
    oracle: Oracle = field(default_factory=Oracle)
    enrolled: list[Enrolled] = field(default_factory=list)
    fund: str = ""
    refusals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ledger.define_programme("TEKUN")
        self.fund = self.ledger.open_fund("fund-1")

    def step(self, op: Op) -> None:
        kind, a, b, c = op
        try:
            getattr(self, kind)(a, b, c)
        except RuleViolation as refusal:
            self.refusals.append(refusal.code)  # changes nothing; the invariants still hold

    def enrol(self, month: int, _b: int, _c: int) -> None:
        enrolled = self.ledger.enrol(first_payable_period=period(month))
        self.enrolled.append(enrolled)
        self.oracle.first[enrolled.enrolment_id] = month

    def terminate(self, which: int, month: int, _c: int) -> None:
        if not self.enrolled:
            return
        target = self.enrolled[which % len(self.enrolled)]
        self.ledger.propose_termination(target)
        self.ledger.decide_termination(target, period(month))
        self.oracle.ends[target.enrolment_id] = month

    def pay(self, month: int, mask: int, settle: int) -> None:
        chosen = [e for i, e in enumerate(self.enrolled) if mask >> i & 1]
        if not chosen:
            return
        lines = [self.ledger.line_for(e, period(month)) for e in chosen]
        batch = self.ledger.prepare(self.fund, period(month), lines)
        self.ledger.approve(batch)
        for e in chosen:
            assert self.oracle.payable(e.enrolment_id, month), (
                f"{e.enrolment_id} paid for {period(month)} outside its payable span"
            )
            assert (e.enrolment_id, month) not in self.oracle.paid, "paid twice"
            self.oracle.paid.add((e.enrolment_id, month))
        if settle:
            self.ledger.submit(batch)
            self.ledger.settle_batch(batch)

    def fund_money(self, amount: int) -> None:
        self.ledger.fund(self.fund, amount)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_no_batch_pays_outside_the_payable_span_and_no_fund_goes_negative(
    sequence: list[Op],
) -> None:
    run = Run()
    for op in sequence:
        if op[0] == "fund":
            run.fund_money(op[1])
        else:
            run.step(op)
        assert run.ledger.available(run.fund) >= 0
        balance = run.ledger.balance(run.fund)
        assert balance.available_fen >= 0


def test_the_property_is_not_vacuous() -> None:
    """A fixed sequence: batches inside the span are paid, the rest are refused by code."""
    run = Run()
    run.fund_money(1_000_000)
    for op in [
        ("enrol", 2, 0, 0),
        ("enrol", 1, 0, 0),
        ("pay", 1, 0b11, 1),  # the first enrolment is not payable in January: refused
        ("pay", 1, 0b10, 1),
        ("pay", 2, 0b11, 0),
        ("terminate", 1, 4, 0),
        ("pay", 4, 0b11, 0),  # the second ends in April: refused
        ("pay", 4, 0b01, 0),
        ("pay", 4, 0b01, 0),  # twice: refused
    ]:
        run.step(op)
    first, second = (e.enrolment_id for e in run.enrolled)
    assert run.oracle.paid == {(second, 1), (second, 2), (first, 2), (first, 4)}
    assert run.refusals == ["PAY-3", "PAY-2", "PAY-6"]
