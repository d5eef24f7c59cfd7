"""A REAL ``ledger serve`` (uvicorn) subprocess per backend, and a client that speaks to it.

One server per module and backend (SQLite file, PostgreSQL schema) keeps the suite quick;
tests stay independent by using their own stream ids and actors. Setup events (actors, keys,
roles) go through HTTP too, signed by the genesis administrator.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, init_ledger
from ledger.client import EnvelopeSigner, actor_onboarding
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.http_client import LedgerHTTPClient, LedgerHTTPError
from ledger.integrity.signing import SigningKey, read_private_key
from ledger.settings import Settings
from tests.conftest import PG_BASE, require_postgres

ORIGIN = "ledger.test/e2e"
STARTUP_SECONDS = 30.0


def free_port() -> int:
    """A port nobody listens on right now (the tiny race is acceptable in tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A ``ledger serve`` subprocess and what is needed to talk to it."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def output(self) -> str:
        """What the server printed (for failure messages)."""
        return self.log_path.read_text("utf-8", "replace")

    def stop(self) -> None:
        """SIGTERM (graceful: closes the ledger), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    database_url: str,
    home: Path,
    log_path: Path,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    wait_healthy: bool = True,
) -> RunningServer:
    """Start ``python -m ledger.tools.cli serve`` on a free port; wait for ``/healthz``."""
    port = free_port()
    env = os.environ | {
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_HOME": str(home),
        # A checkpoint after every commit, so proofs against the latest checkpoint cover
        # what a test just appended.
        "LEDGER_CHECKPOINT_EVERY": "1",
    }
    env |= extra_env or {}
    cmd = [
        sys.executable,
        "-m",
        "ledger.tools.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
    _wait_until_up(server, healthy=wait_healthy)
    return server


def _wait_until_up(server: RunningServer, *, healthy: bool) -> None:
    client = LedgerHTTPClient(server.base_url, timeout=5)
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(f"server exited with {server.process.returncode}:\n{server.output()}")
            try:
                client.health()
                return
            except LedgerHTTPError:
                if not healthy:
                    return  # it answers (503): up, though not ready
            except OSError:
                pass
            time.sleep(0.1)
    finally:
        client.close()
    server.stop()
    pytest.fail(f"server did not come up in {STARTUP_SECONDS}s:\n{server.output()}")


@dataclass
class E2E:
    """A running server over an initialised ledger, its client, and the administrator."""

    server: RunningServer
    api: LedgerHTTPClient
    admin: EnvelopeSigner
    settings: Settings
    _orgs: set[str] = field(default_factory=lambda: {"city"})

    def registry_event(self, event_type: str, payload: dict[str, object]) -> dict[str, object]:
        """Sign a registry event as the administrator and append it over HTTP."""
        version = self.api.events("registry", "registry", limit=1)["version"]
        raw = self.admin.sign(
            event_type=event_type,
            stream_type="registry",
            stream_id="registry",
            expected_version=version,
            payload=payload,
        )
        return self.api.post_event(raw)

    def organisation(self, org_id: str | None = None) -> str:
        """Register an organisation under the root (a fresh one by default)."""
        org_id = org_id or f"org-{uuid.uuid4().hex[:10]}"
        if org_id not in self._orgs:
            self.registry_event(
                "OrganisationRegistered",
                {"org_id": org_id, "kind": "GOVERNMENT", "parent_org_id": "city", "name": org_id},
            )
            self._orgs.add(org_id)
        return org_id

    def actor(self, role: str | None, org_id: str = "county-e2e") -> EnvelopeSigner:
        """A fresh actor with a registered key and, if ``role`` is given, that role."""
        self.organisation(org_id)
        actor_id = f"actor-{uuid.uuid4().hex[:10]}"
        key = SigningKey.generate()
        for event_type, payload in actor_onboarding(
            actor_id, org_id, key, [role] if role is not None else []
        ):
            self.registry_event(event_type, payload)
        return EnvelopeSigner(key, actor_id, role or "integrity_verifier", org_id)


@contextmanager
def backend_url(backend: str, tmp: Path) -> Iterator[str]:
    """A fresh database for ``backend``: a SQLite file, or a PostgreSQL schema (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'ledger.db'}"
        return
    require_postgres()
    import psycopg

    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?schema={schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def e2e(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    """An initialised ledger on each backend behind a real uvicorn process."""
    tmp = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with backend_url(request.param, tmp) as url:
        settings = Settings(database_url=url, home=tmp / "home")
        init_ledger(
            settings,
            origin=ORIGIN,
            root_org_id="city",
            root_org_name="City",
            admin_actor_id="admin-1",
        )
        admin = EnvelopeSigner(
            read_private_key(settings.home / ADMIN_KEY_FILE), "admin-1", REGISTRY_ADMIN, "city"
        )
        server = start_server(url, settings.home, tmp / "server.log")
        api = LedgerHTTPClient(server.base_url)
        try:
            yield E2E(server, api, admin, settings)
        finally:
            api.close()
            server.stop()
