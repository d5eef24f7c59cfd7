"""Shared fixtures: real SQLite files, a real PostgreSQL schema per test, real keys.

PostgreSQL tests use the server at 127.0.0.1:5432 (user postgres, database test). When
``CI=true`` they must run: an unreachable server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, init_ledger, open_ledger
from ledger.client import EnvelopeSigner, actor_onboarding
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.integrity.signing import SigningKey, read_private_key
from ledger.services.ledger import AppendResult, LedgerService
from ledger.settings import Settings

PG_BASE = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure to connect means "not available"
        return False


def require_postgres() -> None:
    """Skip locally when the server is down; fail in CI, where it is mandatory."""
    if postgres_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL at {PG_BASE} is required when CI=true")
    pytest.skip("PostgreSQL is not reachable")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the test database; dropped afterwards."""
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?schema={schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on a real SQLite file and on a real PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@dataclass
class LedgerWorld:
    """An initialised ledger with its admin, ready for tests."""

    settings: Settings
    service: LedgerService
    admin: EnvelopeSigner
    registry_version: int = 1

    def registry_event(self, event_type: str, payload: dict[str, object]) -> AppendResult:
        raw = self.admin.sign(
            event_type=event_type,
            stream_type="registry",
            stream_id="registry",
            expected_version=self.service.registry.version,
            payload=payload,
        )
        return self.service.append(raw)

    def add_actor(
        self,
        actor_id: str,
        org_id: str = "county-a",
        role: str | None = None,
    ) -> EnvelopeSigner:
        """Register an actor with a fresh key (and optionally a role at ``org_id``)."""
        if org_id not in self.service.registry.organisations:
            self.registry_event(
                "OrganisationRegistered",
                {"org_id": org_id, "kind": "GOVERNMENT", "parent_org_id": "city", "name": org_id},
            )
        key = SigningKey.generate()
        for event_type, payload in actor_onboarding(
            actor_id, org_id, key, [role] if role is not None else []
        ):
            self.registry_event(event_type, payload)
        return EnvelopeSigner(key, actor_id, role or REGISTRY_ADMIN, org_id)

    def add_admin(self, actor_id: str) -> EnvelopeSigner:
        """A second registry administrator (registry events are the generic test events)."""
        signer = self.add_actor(actor_id, "city", None)
        self.registry_event(
            "ActorRoleGranted",
            {
                "actor_id": actor_id,
                "role": REGISTRY_ADMIN,
                "org_id": "city",
                "include_descendants": True,
            },
        )
        return EnvelopeSigner(signer.key, actor_id, REGISTRY_ADMIN, "city")


def make_world(database_url: str, home: Path, **settings_overrides: object) -> LedgerWorld:
    settings = Settings(database_url=database_url, home=home, **settings_overrides)  # type: ignore[arg-type]
    init_ledger(
        settings,
        origin="ledger.test/city",
        root_org_id="city",
        root_org_name="City",
        admin_actor_id="admin-1",
    )
    service = open_ledger(settings)
    admin = EnvelopeSigner(
        read_private_key(home / ADMIN_KEY_FILE), "admin-1", REGISTRY_ADMIN, "city"
    )
    return LedgerWorld(settings, service, admin)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[LedgerWorld]:
    """An initialised ledger on each backend."""
    w = make_world(database_url, tmp_path / "home")
    yield w
    w.service.close()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[LedgerWorld]:
    """An initialised ledger on SQLite only."""
    w = make_world(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path / "home")
    yield w
    w.service.close()
