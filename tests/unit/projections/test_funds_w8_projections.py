"""W8 read models: carry-over and recovery in the FundLedger, and MatchingFundCompliance.

Pure folds on in-memory events (EX-FUND-1 and EX-FUND-2 of ``domain.md`` §5.14), then the
stored projections: as known at a log position, and incremental = rebuild = in-memory fold.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.projections import Follower, FundLedgerProjection, ProjectionStore
from ledger.projections.funds import FundRow
from ledger.projections.matching_funds import (
    NAME,
    ComplianceRow,
    MatchingFundComplianceProjection,
    compliance_key,
    matching_compliance,
)
from ledger.projections.scenario import Scenario
from ledger.settings import Settings

from .helpers import ListLog, entries_of, events_of

OWNER = "county-a"
PROGRAMMES = ["TEKUN", "WUBAO"]


class W8Scenario(Scenario):
    """A :class:`Scenario` with the W8 events it does not write (accounts with a chosen
    owner and year, matching commitments, carry-overs, recoveries)."""

    def open_for(
        self,
        owner: str = OWNER,
        year: int = 2024,
        programmes: list[str] | None = None,
        purposes: list[str] | None = None,
    ) -> str:
        account = self._id("fund")
        payload = {
            "fund_account_id": account,
            "owner_org_id": owner,
            "bank_account_ref_hmac": "0" * 64,
            "ledger_id": f"book-{account}",
            "programme_codes": programmes or PROGRAMMES,
            "purposes": purposes or ["BASIC_LIVING", "INSTITUTION_MANAGEMENT"],
            "fiscal_year": year,
        }
        self.emit("FundAccountOpened", "fund_account", account, payload)
        self.accounts.append(account)
        return account

    def commit(
        self, amount: int, programme: str = "TEKUN", owner: str = OWNER, year: int = 2024
    ) -> None:
        payload = {
            "commitment_id": self._id("commit"),
            "admin_unit_id": owner,
            "programme_code": programme,
            "year": year,
            "amount_fen": amount,
            "agreement_id": "agreement-1",
        }
        self.emit("MatchingFundCommitted", "matching_fund", owner, payload)

    def receive_on(self, account: str, appropriation: str, amount: int, day: str) -> None:
        payload = {"appropriation_id": appropriation, "amount_fen": amount, "value_date": day}
        self.emit("FundReceived", "fund_account", account, payload)

    def carry(self, source: str, target: str, amount: int) -> None:
        payload = {
            "carry_over_id": self._id("carry"),
            "to_fund_account_id": target,
            "amount_fen": amount,
        }
        self.emit("FundCarriedOver", "fund_account", source, payload)

    def recover(self, account: str, amount: int) -> None:
        payload = {
            "recovery_id": self._id("recovery"),
            "amount_fen": amount,
            "cause_event_id": "overpayment-1",
            "reason": "overpayment recovered",
        }
        self.emit("FundRecovered", "fund_account", account, payload)


def fund_rows(s: Scenario) -> dict[str, FundRow]:
    return FundLedgerProjection().fold_all(events_of(s)).accounts.rows


def compliance_rows(s: Scenario) -> dict[str, ComplianceRow]:
    return MatchingFundComplianceProjection().fold_all(events_of(s)).rows.rows


# --- FundLedger: carry-over and recovery (EX-FUND-2) ----------------------------------------


def ex_fund_2(s: W8Scenario, carried: int) -> tuple[str, str]:
    """EX-FUND-2 in fen: 50,000 + 34,000 carried in, 12,000 of grants, ``carried`` onward."""
    hardship = {"programmes": ["HARDSHIP_ASSISTANCE"], "purposes": ["HARDSHIP_POOL"]}
    pool_2023 = s.open_for("town-a", 2023, **hardship)
    s.receive(pool_2023, 3_400_000, s.appropriate(pool_2023, 3_400_000))
    pool_2024 = s.open_for("town-a", 2024, **hardship)
    s.carry(pool_2023, pool_2024, 3_400_000)
    s.receive(pool_2024, 5_000_000, s.appropriate(pool_2024, 5_000_000))
    for count, amount in [(3, 100_000), (8, 50_000), (2, 150_000), (1, 200_000)]:
        for _ in range(count):
            s.expend(pool_2024, amount)
    pool_2025 = s.open_for("town-a", 2025, **hardship)
    s.carry(pool_2024, pool_2025, carried)
    return pool_2024, pool_2025


def test_ex_fund_2_pool_carries_72000_yuan_into_2025_and_closes_at_zero() -> None:
    s = W8Scenario()

    pool_2024, pool_2025 = ex_fund_2(s, 7_200_000)

    rows = fund_rows(s)
    closed, opened = rows[pool_2024], rows[pool_2025]
    assert (closed.carried_in_fen, closed.expenditures_committed_fen) == (3_400_000, 1_200_000)
    assert closed.carried_out_fen == 7_200_000
    assert closed.available_fen == closed.computed_available() == 0
    assert opened.carried_in_fen == opened.available_fen == 7_200_000


def test_ex_fund_2_carrying_70000_yuan_leaves_2000_on_the_old_account() -> None:
    s = W8Scenario()

    pool_2024, pool_2025 = ex_fund_2(s, 7_000_000)

    rows = fund_rows(s)
    assert rows[pool_2024].available_fen == 200_000
    assert rows[pool_2025].available_fen == 7_000_000


def test_recovery_adds_to_the_available_balance() -> None:
    s = W8Scenario()
    account = s.open_for()
    s.receive(account, 1_000_000, s.appropriate(account, 1_000_000))
    s.expend(account, 400_000)

    s.recover(account, 150_000)

    row = fund_rows(s)[account]
    assert row.recovered_fen == 150_000
    assert row.available_fen == row.computed_available() == 750_000


# --- MatchingFundCompliance (EX-FUND-1) ------------------------------------------------------


def test_ex_fund_1_county_matching_300000_of_400000_yuan_is_three_quarters() -> None:
    s = W8Scenario()
    account = s.open_for()
    s.commit(40_000_000)
    s.receive_on(account, s.appropriate(account, 100_000_000), 100_000_000, "2024-02-01")
    matching = s.appropriate(account, 40_000_000, source="COUNTY_BUDGET", matching=True)

    s.receive_on(account, matching, 30_000_000, "2024-03-15")

    row = compliance_rows(s)[compliance_key(OWNER, "TEKUN", 2024)]
    assert (row.committed_fen, row.appropriated_fen, row.received_fen) == (
        40_000_000,
        40_000_000,
        30_000_000,
    )
    assert (row.shortfall_fen, row.compliance) == (10_000_000, "3/4")
    assert (row.commitments, row.last_value_date, row.formula) == (1, "2024-03-15", "F-MATCHING@1")


def test_matching_money_counts_toward_every_programme_of_the_earmark() -> None:
    s = W8Scenario()
    account = s.open_for()
    s.receive_on(account, s.appropriate(account, 500_000, matching=True), 500_000, "2024-01-05")

    rows = compliance_rows(s)

    assert sorted(rows) == [
        compliance_key(OWNER, "TEKUN", 2024),
        compliance_key(OWNER, "WUBAO", 2024),
    ]
    wubao = rows[compliance_key(OWNER, "WUBAO", 2024)]
    assert (wubao.committed_fen, wubao.received_fen, wubao.compliance) == (0, 500_000, None)


def test_receipts_of_unknown_or_non_matching_appropriations_do_not_count() -> None:
    s = W8Scenario()
    account = s.open_for()
    s.commit(1_000_000)
    s.receive_on(account, s.appropriate(account, 900_000), 900_000, "2024-01-05")
    s.receive_on(account, "never-appropriated", 700_000, "2024-01-06")
    s.receive_on("no-such-account", "appr-x", 600_000, "2024-01-07")

    row = compliance_rows(s)[compliance_key(OWNER, "TEKUN", 2024)]

    assert (row.received_fen, row.shortfall_fen, row.compliance) == (0, 1_000_000, "0")


def test_over_delivery_gives_a_ratio_above_one_and_no_shortfall() -> None:
    s = W8Scenario()
    account = s.open_for(owner="county-b", programmes=["DIBAO_RURAL"])
    s.commit(300_000, programme="DIBAO_RURAL", owner="county-b")
    s.receive_on(account, s.appropriate(account, 400_000, matching=True), 400_000, "2024-05-01")

    row = compliance_rows(s)[compliance_key("county-b", "DIBAO_RURAL", 2024)]

    assert (row.shortfall_fen, row.compliance) == (0, "4/3")


# --- Stored: as known at a position, and determinism -----------------------------------------


def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=tmp_path)


def w8_projections() -> list[Any]:
    return [FundLedgerProjection(), MatchingFundComplianceProjection()]


def test_compliance_as_known_at_a_position_before_the_money_arrived(tmp_path: Path) -> None:
    s = W8Scenario()
    account = s.open_for()
    s.commit(400_000)
    matching = s.appropriate(account, 400_000, matching=True)
    before_receipt = len(s.envelopes) - 1
    s.receive_on(account, matching, 300_000, "2024-03-15")
    store = ProjectionStore.open(sqlite_settings(tmp_path), w8_projections())
    Follower(store, ListLog(entries_of(s.envelopes))).catch_up()

    then = matching_compliance(store, programme_code="TEKUN", as_known_at_position=before_receipt)
    now = matching_compliance(store, programme_code="TEKUN")

    assert [(r.received_fen, r.compliance) for r in then.rows] == [(0, "0")]
    assert [(r.received_fen, r.compliance) for r in now.rows] == [(300_000, "3/4")]
    assert (then.position, now.position) == (before_receipt, len(s.envelopes) - 1)
    assert then.state_hash != now.state_hash
    assert matching_compliance(store, as_known_at_position=0).rows == []
    store.close()


def random_w8_history(seed: int, steps: int) -> W8Scenario:
    """A random W8 history: accounts, commitments, (matching) money, carry-overs, recoveries,
    and facts about things that do not exist (folds must take them without crashing)."""
    rng = random.Random(seed)
    s = W8Scenario(seed=seed)
    accounts = [
        s.open_for(owner, year) for owner in ("county-a", "county-b") for year in (2024, 2025)
    ]
    appropriations: list[tuple[str, str]] = []
    for _ in range(steps):
        op, account, amount = rng.randrange(6), rng.choice(accounts), rng.randrange(1, 10**6)
        if op == 0:
            s.commit(amount, rng.choice(PROGRAMMES), rng.choice(["county-a", "county-b"]), 2024)
        elif op == 1:
            appropriations.append(
                (account, s.appropriate(account, amount, matching=rng.random() < 0.7))
            )
        elif op == 2 and appropriations:
            s.receive_on(*rng.choice(appropriations), amount, f"2024-0{rng.randrange(1, 10)}-01")
        elif op == 3:
            s.carry(account, rng.choice(accounts), amount)
        elif op == 4:
            s.recover(account, amount)
        else:
            s.receive_on(rng.choice([*accounts, "ghost"]), "ghost-appr", amount, "2024-01-01")
    return s


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6), steps=st.integers(1, 80), page_size=st.integers(1, 25))
def test_incremental_pages_equal_rebuild_equal_memory_fold(
    tmp_path_factory: pytest.TempPathFactory, seed: int, steps: int, page_size: int
) -> None:
    s = random_w8_history(seed, steps)
    log = ListLog(entries_of(s.envelopes))
    events, last = events_of(s), len(s.envelopes) - 1
    expected = {p.name: p.memory_hash(p.fold_all(events), last) for p in w8_projections()}
    store = ProjectionStore.open(sqlite_settings(tmp_path_factory.mktemp("w8")), w8_projections())

    Follower(store, log, page_size=page_size).catch_up()
    incremental = {name: store.state_hash(name) for name in expected}
    Follower(store, log, page_size=10_000).rebuild()
    rebuilt = {name: store.state_hash(name) for name in expected}

    assert incremental == rebuilt == expected
    assert matching_compliance(store).state_hash == expected[NAME]
    store.close()
