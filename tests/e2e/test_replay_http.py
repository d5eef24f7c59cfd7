"""``GET /v1/replay/{event_id}`` and ``GET /v1/timeline/{subject_id}`` against a real uvicorn
on SQLite and PostgreSQL: a registered actor's timeline in log order, the replay of an
event with a verified signer and a verified inclusion proof, and 404 problems."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.conftest import E2E


def _get(e2e: E2E, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(e2e.server.base_url + path, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_timeline_and_replay_over_http(e2e: E2E) -> None:
    signer = e2e.actor("township_intake_clerk", "county-replay")
    status, timeline = _get(e2e, f"/v1/timeline/{signer.actor_id}")
    assert status == 200
    types = [e["event_type"] for e in timeline["events"]]
    assert types == ["ActorRegistered", "SigningKeyRegistered", "ActorRoleGranted"]
    indexes = [e["index"] for e in timeline["events"]]
    assert indexes == sorted(indexes)
    assert {e["role"] for e in timeline["events"]} == {"registry_admin"}

    grant = timeline["events"][-1]
    status, replay = _get(e2e, f"/v1/replay/{grant['event_id']}")
    assert status == 200
    assert replay["decision"]["index"] == grant["index"]
    assert replay["recomputation"]["result"] == "match"
    assert replay["signers"][-1]["signature"] == "verified"
    assert replay["proofs"]["checkpoint_signature"] == "verified"
    assert all(p["verified"] for p in replay["proofs"]["inclusion"])


def test_unknown_ids_are_404_problems(e2e: E2E) -> None:
    status, problem = _get(e2e, "/v1/replay/01a20b06-0000-7000-8000-000000000000")
    assert (status, problem["code"]) == (404, "NOT_FOUND")
    status, problem = _get(e2e, "/v1/timeline/nobody-at-all")
    assert (status, problem["code"]) == (404, "NOT_FOUND")
