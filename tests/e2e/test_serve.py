"""``ledger serve`` as operations run it: before init, with two workers, and its /docs."""

from __future__ import annotations

import concurrent.futures
import json
import urllib.request
from pathlib import Path

import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, init_ledger
from ledger.client import EnvelopeSigner
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.http_client import LedgerHTTPClient, LedgerHTTPError
from ledger.integrity.signing import read_private_key
from ledger.settings import Settings
from tests.e2e.conftest import E2E, backend_url, start_server


def test_server_started_before_init_answers_503_then_serves_once_initialised(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    server = start_server(url, tmp_path / "home", tmp_path / "server.log", wait_healthy=False)
    api = LedgerHTTPClient(server.base_url)
    try:
        with pytest.raises(LedgerHTTPError) as before:
            api.post_event(b"{}")
        init_ledger(
            Settings(database_url=url, home=tmp_path / "home"),
            origin="ledger.test/late",
            root_org_id="city",
            root_org_name="City",
            admin_actor_id="admin-1",
        )
        health = api.health()
    finally:
        api.close()
        server.stop()

    assert before.value.status == 503
    assert before.value.code == "UNINITIALISED"
    assert health == {"status": "ok", "origin": "ledger.test/late", "size": 1}
    assert "/docs" in server.output()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_workers_append_concurrently_into_one_gap_free_log(
    backend: str, tmp_path: Path
) -> None:
    with backend_url(backend, tmp_path) as url:
        settings = Settings(database_url=url, home=tmp_path / "home")
        init_ledger(
            settings,
            origin="ledger.test/2w",
            root_org_id="city",
            root_org_name="City",
            admin_actor_id="admin-1",
        )
        admin = EnvelopeSigner(
            read_private_key(settings.home / ADMIN_KEY_FILE), "admin-1", REGISTRY_ADMIN, "city"
        )
        server = start_server(url, settings.home, tmp_path / "server.log", workers=2)
        api = LedgerHTTPClient(server.base_url)
        try:
            e2e = E2E(server, api, admin, settings)
            signer = e2e.actor("integrity_verifier")
            raws = [_verification_run(signer, f"w2-{n}") for n in range(64)]
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                receipts = list(pool.map(api.post_event, raws))
            size = api.log(0, 1)["size"]
        finally:
            api.close()
            server.stop()

    indexes = sorted(r["index"] for r in receipts)
    assert len(set(indexes)) == 64
    assert indexes[-1] < size


def _verification_run(signer: EnvelopeSigner, run_id: str) -> bytes:
    return signer.sign(
        event_type="IntegrityVerificationRun",
        stream_type="verification",
        stream_id=run_id,
        expected_version=0,
        payload={
            "run_id": run_id,
            "tree_size": 1,
            "root_hash": "A" * 43 + "=",
            "result": "PASS",
            "findings_count": 0,
            "first_damage_kind": None,
            "first_damage_index": None,
        },
    )


def test_openapi_example_envelope_really_works(e2e: E2E) -> None:
    with urllib.request.urlopen(f"{e2e.server.base_url}/openapi.json") as response:
        spec = json.load(response)
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    example = body["examples"]["genesis"]["value"]

    receipt = e2e.api.post_event(json.dumps(example, ensure_ascii=False).encode())

    assert receipt == e2e.api.receipt(0)
    assert "EnvelopeIn" in spec["components"]["schemas"]
