"""The business rules run inside the write transaction and cannot be raced.

A deliberately tiny rule set (an appropriation cap) makes the plumbing visible: refusals fail
alone, the state a refused batch touched is restored exactly, two service instances on one
database (as two processes or machines would be) never both spend the same headroom, and an
identical retry of an accepted event still gets its original receipt.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import open_store
from ledger.client import EnvelopeSigner
from ledger.domain.model import Directory, DomainEvent, DomainState, Rules, require
from ledger.errors import RuleViolation
from ledger.integrity.signing import read_private_key
from ledger.services.ledger import LedgerService
from tests.conftest import LedgerWorld, make_world

CAP_FEN = 1000


def _total(state: DomainState) -> int:
    found: int | None = state.table("test.cap").get("total")
    return found or 0


def _decide(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    amount = int(event.payload["amount_fen"])
    require(
        _total(state) + amount <= CAP_FEN,
        "TEST-CAP",
        "the appropriations would exceed the cap",
        total=_total(state),
        amount_fen=amount,
    )


def _apply(state: DomainState, event: DomainEvent) -> None:
    state.table("test.cap").put("total", _total(state) + int(event.payload["amount_fen"]))


def cap_rules() -> Rules:
    rules = Rules()
    rules.register("FundAppropriated", apply=_apply, decide=_decide)
    return rules


def _service(world: LedgerWorld) -> LedgerService:
    key = read_private_key(world.settings.home / "ledger.key")
    return LedgerService(open_store(world.settings), key)


@pytest.fixture
def cap_world(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LedgerWorld, EnvelopeSigner]]:
    # Only the cap rule: the product's rules would (rightly) want a whole fund account.
    monkeypatch.setattr("ledger.services.ledger.build_rules", cap_rules)
    world = make_world(database_url, tmp_path / "home")
    officer = world.add_actor("fin-1", "county-a", "finance_officer")
    world.service.close()
    world.service = _service(world)
    yield world, officer
    world.service.close()


def _appropriation(officer: EnvelopeSigner, account: str, amount: int, **kw: object) -> bytes:
    return officer.sign(
        event_type="FundAppropriated",
        stream_type="fund_account",
        stream_id=account,
        expected_version=0,
        payload={
            "appropriation_id": "a-1",
            "source": "COUNTY_BUDGET",
            "amount_fen": amount,
            "document_ref": "doc",
            "is_matching_fund": False,
        },
        **kw,  # type: ignore[arg-type]
    )


def test_refusal_fails_alone_and_leaves_no_trace(
    cap_world: tuple[LedgerWorld, EnvelopeSigner],
) -> None:
    world, officer = cap_world
    service = world.service
    service.append(_appropriation(officer, "f-1", 600))
    size_before = service.store.log.head().size
    with pytest.raises(RuleViolation) as refused:
        service.append(_appropriation(officer, "f-2", 500))
    assert refused.value.code == "TEST-CAP"
    assert refused.value.evidence == {"total": 600, "amount_fen": 500}
    assert service.store.log.head().size == size_before
    assert _total(service.decisions.state) == 600
    service.append(_appropriation(officer, "f-3", 400))
    assert _total(service.decisions.state) == CAP_FEN


def test_concurrent_submitters_never_overspend(
    cap_world: tuple[LedgerWorld, EnvelopeSigner],
) -> None:
    world, officer = cap_world
    service = world.service
    results: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        try:
            service.append(_appropriation(officer, f"f-{i}", 100))
            outcome = "ok"
        except RuleViolation:
            outcome = "refused"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == CAP_FEN // 100
    assert results.count("refused") == 24 - CAP_FEN // 100
    recorded = [
        e for e in service.store.log.entries(0, 10_000) if e.event_type == "FundAppropriated"
    ]
    assert len(recorded) == CAP_FEN // 100


def test_second_instance_sees_the_first_ones_commits_inside_its_transaction(
    cap_world: tuple[LedgerWorld, EnvelopeSigner],
) -> None:
    world, officer = cap_world
    other = _service(world)
    try:
        # Load the other instance's state now, before the first instance spends: its own
        # screening then passes on stale state, and only the in-transaction catch-up can
        # see the money is gone.
        other.append(_appropriation(officer, "f-0", 100))
        world.service.append(_appropriation(officer, "f-1", 800))
        with pytest.raises(RuleViolation) as refused:
            other.append(_appropriation(officer, "f-2", 200))
        assert refused.value.evidence["total"] == 900
        other.append(_appropriation(officer, "f-3", 100))
        assert _total(other.decisions.state) == CAP_FEN
    finally:
        other.close()


def test_identical_retry_of_an_accepted_event_gets_its_receipt(
    cap_world: tuple[LedgerWorld, EnvelopeSigner],
) -> None:
    world, officer = cap_world
    raw = _appropriation(officer, "f-1", CAP_FEN)
    first = world.service.append(raw)
    again = world.service.append(raw)
    assert again.duplicate
    assert again.receipt == first.receipt
