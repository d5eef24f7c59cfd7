"""Roster and fund routes over the injected reader protocol (a fake until projections land).

In-process (FastAPI's TestClient): what is tested is the HTTP ↔ reader translation — filters
and time axes passed through typed, answers rendered with position and state hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.api.app import create_app
from ledger.bootstrap import open_ledger
from ledger.services.ledger import LedgerService
from tests.conftest import LedgerWorld


@dataclass(frozen=True)
class Row:
    enrolment_id: str
    status: str
    amount_fen: int
    ratio: Decimal


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    position: int
    state_hash: bytes
    next_after: str | None = None


@dataclass
class FakeReader:
    """Records each call and answers from fixed rows."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def roster(self, **query: Any) -> Page:
        self.calls.append(("roster", query))
        rows = [Row("e-1", "ACTIVE", 56_000, Decimal("0.5")), Row("e-2", "ACTIVE", 1, Decimal(1))]
        return Page(rows[: query["limit"]], 41, b"\x01" * 32, "e-1")

    def fund_ledger(self, **query: Any) -> Page:
        self.calls.append(("fund_ledger", query))
        accounts = [{"fund_account_id": "f-1", "available_fen": 100}]
        wanted = query.get("fund_account_id")
        return Page([a for a in accounts if wanted in (None, a["fund_account_id"])], 41, b"\x02")


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader()


@pytest.fixture
def client(sqlite_world: LedgerWorld, reader: FakeReader) -> Iterator[TestClient]:
    def reader_factory(_: LedgerService) -> FakeReader:
        return reader

    app = create_app(
        lambda: open_ledger(sqlite_world.settings),
        reader_factory=reader_factory,
    )
    with TestClient(app) as test_client:
        yield test_client


def test_roster_passes_filters_and_time_axes_through_typed(
    client: TestClient, reader: FakeReader
) -> None:
    response = client.get(
        "/v1/roster",
        params={
            "programme": "DIBAO",
            "org_id": "county-a",
            "status": "ACTIVE",
            "as_known_at": 40,
            "as_known_at_time": "2026-07-01T10:00:00+08:00",
            "as_effective_at": "2026-06-30",
            "limit": 1,
        },
    )

    assert response.status_code == 200
    _, query = reader.calls[-1]
    assert query == {
        "programme_code": "DIBAO",
        "org_id": "county-a",
        "status": "ACTIVE",
        "as_known_at_position": 40,
        "as_known_at_time": datetime(2026, 7, 1, 2, 0, tzinfo=UTC),
        "as_effective_at": date(2026, 6, 30),
        "limit": 1,
        "after": None,
    }
    assert response.json() == {
        "position": 41,
        "state_hash": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "rows": [{"enrolment_id": "e-1", "status": "ACTIVE", "amount_fen": 56000, "ratio": "0.5"}],
        "next_after": "e-1",
    }


def test_one_fund_account_and_unknown_account_404(client: TestClient) -> None:
    found = client.get("/v1/funds/f-1", params={"as_known_at": 41})
    missing = client.get("/v1/funds/nope")

    assert found.json()["rows"] == [{"fund_account_id": "f-1", "available_fen": 100}]
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["evidence"] == {"fund_account_id": "nope", "position": 41}


def test_all_fund_accounts(client: TestClient, reader: FakeReader) -> None:
    response = client.get("/v1/funds", params={"as_effective_at": "2026-12-31"})

    assert response.status_code == 200
    assert reader.calls[-1][1]["as_effective_at"] == date(2026, 12, 31)


def test_bad_date_is_400_problem(client: TestClient) -> None:
    response = client.get("/v1/roster", params={"as_effective_at": "31/12/2026"})

    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_without_a_reader_projection_routes_answer_503(sqlite_world: LedgerWorld) -> None:
    app = create_app(lambda: open_ledger(sqlite_world.settings))
    with TestClient(app) as test_client:
        response = test_client.get("/v1/roster")

    assert response.status_code == 503
    assert response.json()["code"] == "UNAVAILABLE"
