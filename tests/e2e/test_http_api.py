"""The HTTP API end to end: a real uvicorn process on SQLite and PostgreSQL.

What an outside system sees: signed receipts it can verify with the ledger's public key,
proofs it can check against a signed checkpoint, and RFC 9457 problems for every refusal.
"""

from __future__ import annotations

import base64
import http.client
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from ledger.client import EnvelopeSigner
from ledger.http_client import LedgerHTTPClient, LedgerHTTPError
from ledger.integrity.merkle import verify_consistency, verify_inclusion
from ledger.integrity.note import Checkpoint, open_note, parse_verifier_key
from ledger.integrity.receipt import receipt_from_dict
from ledger.integrity.signing import VerifyKey, b64encode
from tests.e2e.conftest import E2E


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _run(
    signer: EnvelopeSigner, run_id: str, expected_version: int = 0, **overrides: Any
) -> dict[str, Any]:
    """An IntegrityVerificationRun envelope (a generic non-registry event) as a dict."""
    kwargs: dict[str, Any] = {
        "event_type": "IntegrityVerificationRun",
        "stream_type": "verification",
        "stream_id": run_id,
        "expected_version": expected_version,
        "payload": {
            "run_id": run_id,
            "tree_size": 1,
            "root_hash": b64encode(bytes(32)),
            "result": "PASS",
            "findings_count": 0,
            "first_damage_kind": None,
            "first_damage_index": None,
        },
    }
    kwargs.update(overrides)
    return signer.build(**kwargs)


def _raw(envelope: dict[str, Any]) -> bytes:
    return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)


@pytest.fixture(scope="module")
def verifier(e2e: E2E) -> EnvelopeSigner:
    """An actor holding the integrity_verifier role (it may append verification runs)."""
    return e2e.actor("integrity_verifier")


_run_ids: Iterator[int] = iter(range(1, 1_000_000))


def _run_id() -> str:
    return f"run-{next(_run_ids)}-{time.monotonic_ns()}"


def _refusal(call: Any) -> LedgerHTTPError:
    with pytest.raises(LedgerHTTPError) as caught:
        call()
    return caught.value


def _assert_problem(error: LedgerHTTPError, status: int, code: str) -> None:
    assert error.status == status, error.problem
    assert error.code == code, error.problem
    problem = error.problem
    assert problem["type"] == f"urn:ledger:v1:problem:{code}"
    assert problem["status"] == status
    assert set(problem) == {"type", "title", "status", "detail", "code", "evidence"}
    assert "Traceback" not in str(problem)


def _ledger_public_key(api: LedgerHTTPClient) -> VerifyKey:
    """The ledger key as an outsider learns it: from the genesis event in the log."""
    genesis = api.log(0, 1)["entries"][0]["envelope"]
    return VerifyKey.from_b64(genesis["payload"]["ledger_public_key"])


def _latest_checkpoint_covering(e2e: E2E, size: int) -> Checkpoint:
    """The latest signed checkpoint, once it covers ``size`` (issued right after commit)."""
    verifier = parse_verifier_key((e2e.settings.home / "ledger.vkey").read_text().strip())
    deadline = time.monotonic() + 10
    while True:
        checkpoint = Checkpoint.parse(open_note(e2e.api.latest_checkpoint(), [verifier]).text)
        if checkpoint.size >= size or time.monotonic() > deadline:
            return checkpoint
        time.sleep(0.05)


# ---------------------------------------------------------------------------- appends


def test_append_returns_a_receipt_signed_by_the_ledger(e2e: E2E, verifier: EnvelopeSigner) -> None:
    envelope = _run(verifier, _run_id())

    receipt = e2e.api.post_event(_raw(envelope))

    parsed = receipt_from_dict(receipt)
    parsed.verify(_ledger_public_key(e2e.api))
    assert parsed.event_id == envelope["event_id"]
    assert parsed.tree_size == parsed.index + 1


def test_inclusion_proof_verifies_against_the_latest_signed_checkpoint(
    e2e: E2E, verifier: EnvelopeSigner
) -> None:
    receipt = receipt_from_dict(e2e.api.post_event(_raw(_run(verifier, _run_id()))))
    checkpoint = _latest_checkpoint_covering(e2e, receipt.tree_size)

    proof = e2e.api.inclusion_proof(receipt.index, checkpoint.size)
    in_receipt_tree = e2e.api.inclusion_proof(receipt.index, receipt.tree_size)
    consistency = e2e.api.consistency_proof(receipt.tree_size, checkpoint.size)

    assert checkpoint.size >= receipt.tree_size
    assert _b64(proof["leaf_hash"]) == receipt.leaf_hash
    hashes = [_b64(h) for h in proof["proof"]]
    verify_inclusion(
        receipt.leaf_hash, receipt.index, checkpoint.size, hashes, checkpoint.root_hash
    )
    verify_inclusion(
        receipt.leaf_hash,
        receipt.index,
        receipt.tree_size,
        [_b64(h) for h in in_receipt_tree["proof"]],
        receipt.root_hash,
    )
    verify_consistency(
        receipt.tree_size,
        checkpoint.size,
        receipt.root_hash,
        checkpoint.root_hash,
        [_b64(h) for h in consistency["proof"]],
    )


def test_identical_retry_returns_the_original_receipt(e2e: E2E, verifier: EnvelopeSigner) -> None:
    raw = _raw(_run(verifier, _run_id()))
    first = _post(e2e, raw)

    again = _post(e2e, raw)

    assert first[0] == 201
    assert again[0] == 200
    assert again[1] == first[1]
    assert first[2]["location"] == f"/v1/events/{orjson.loads(first[1])['event_id']}"


def _post(
    e2e: E2E, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """A raw POST /v1/events: status, body and lower-cased headers."""
    url = urlsplit(e2e.server.base_url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request("POST", "/v1/events", body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


# ---------------------------------------------------------------------------- refusals


def test_malformed_json_is_400_env0(e2e: E2E) -> None:
    error = _refusal(lambda: e2e.api.post_event(b'{"protocol": "ledger/v1",'))

    _assert_problem(error, 400, "ENV-0")
    assert error.evidence["reason"] == "malformed_json"


def test_oversized_body_is_400_before_it_is_read(e2e: E2E) -> None:
    status, body, headers = _post(e2e, b"{" + b" " * (200 * 1024) + b"}")

    problem = orjson.loads(body)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert problem["code"] == "ENV-0"
    assert problem["evidence"]["reason"] == "oversized"
    assert problem["evidence"]["limit"] == 64 * 1024


def test_oversized_chunked_body_is_refused_while_streaming(e2e: E2E) -> None:
    url = urlsplit(e2e.server.base_url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    chunks = (b'{"protocol":"ledger/v1","payload":"' if i == 0 else b"x" * 8192 for i in range(40))
    try:
        conn.request("POST", "/v1/events", body=chunks, encode_chunked=True)
        response = conn.getresponse()
        problem = orjson.loads(response.read())
    finally:
        conn.close()

    assert response.status == 400
    assert problem["evidence"]["reason"] == "oversized"


def test_schema_violation_is_400_env5(e2e: E2E, verifier: EnvelopeSigner) -> None:
    envelope = _run(verifier, _run_id(), payload={"run_id": "x"})

    error = _refusal(lambda: e2e.api.post_event(_raw(envelope)))

    _assert_problem(error, 400, "ENV-5")


def test_bad_signature_is_401_env1(e2e: E2E, verifier: EnvelopeSigner) -> None:
    envelope = _run(verifier, _run_id())
    envelope["payload"]["findings_count"] = 1  # changed after signing

    error = _refusal(lambda: e2e.api.post_event(_raw(envelope)))

    _assert_problem(error, 401, "ENV-1")


def test_role_not_granted_is_403_env2(e2e: E2E) -> None:
    no_role = e2e.actor(role=None)  # claims integrity_verifier, never granted

    error = _refusal(lambda: e2e.api.post_event(_raw(_run(no_role, _run_id()))))

    _assert_problem(error, 403, "ENV-2")


def test_stale_expected_version_is_409_env3(e2e: E2E, verifier: EnvelopeSigner) -> None:
    run_id = _run_id()
    e2e.api.post_event(_raw(_run(verifier, run_id)))

    error = _refusal(lambda: e2e.api.post_event(_raw(_run(verifier, run_id, expected_version=0))))

    _assert_problem(error, 409, "ENV-3")
    assert error.evidence["current_version"] == 1


def test_reused_event_id_with_other_content_is_409_env4(e2e: E2E, verifier: EnvelopeSigner) -> None:
    first = _run(verifier, _run_id())
    e2e.api.post_event(_raw(first))
    other = _run(verifier, _run_id(), event_id=first["event_id"])

    error = _refusal(lambda: e2e.api.post_event(_raw(other)))

    _assert_problem(error, 409, "ENV-4")


def test_unknown_event_is_404_problem(e2e: E2E) -> None:
    error = _refusal(lambda: e2e.api.event("00000000-0000-7000-8000-000000000000"))

    _assert_problem(error, 404, "NOT_FOUND")


def test_bad_query_parameter_is_400_problem(e2e: E2E) -> None:
    error = _refusal(lambda: e2e.api.log(0, 100_000))

    _assert_problem(error, 400, "BAD_REQUEST")


# ---------------------------------------------------------------------------- reads


def test_log_pages_cover_the_whole_log_in_order(e2e: E2E, verifier: EnvelopeSigner) -> None:
    for _ in range(3):
        e2e.api.post_event(_raw(_run(verifier, _run_id())))

    indexes: list[int] = []
    start: int | None = 0
    while start is not None:
        page = e2e.api.log(start, 2)
        assert len(page["entries"]) <= 2
        indexes += [entry["index"] for entry in page["entries"]]
        start = page["next"]

    assert indexes == list(range(len(indexes)))
    assert len(indexes) >= page["size"] >= 4


def test_stream_read_returns_events_in_version_order_with_envelopes(
    e2e: E2E, verifier: EnvelopeSigner
) -> None:
    run_id = _run_id()
    sent = [_run(verifier, run_id, expected_version=v) for v in range(3)]
    receipts = [e2e.api.post_event(_raw(envelope)) for envelope in sent]

    first = e2e.api.events("verification", run_id, limit=2)
    rest = e2e.api.events("verification", run_id, after_version=first["next_after_version"])

    events = first["events"] + rest["events"]
    assert first["version"] == 3
    assert rest["next_after_version"] is None
    assert [e["stream_version"] for e in events] == [1, 2, 3]
    assert [e["envelope"] for e in events] == sent
    assert [e["index"] for e in events] == [r["index"] for r in receipts]
    assert [e["leaf_hash"] for e in events] == [r["leaf_hash"] for r in receipts]


def test_event_by_id_and_receipt_by_index_match_the_append(
    e2e: E2E, verifier: EnvelopeSigner
) -> None:
    envelope = _run(verifier, _run_id())
    receipt = e2e.api.post_event(_raw(envelope))

    event = e2e.api.event(envelope["event_id"])
    again = e2e.api.receipt(receipt["index"])

    assert event["envelope"] == envelope
    assert event["index"] == receipt["index"]
    assert event["recorded_at"] == receipt["recorded_at"]
    assert event["leaf_hash"] == receipt["leaf_hash"]
    assert again == receipt


def test_checkpoint_by_size_as_note_and_json(e2e: E2E) -> None:
    note = e2e.api.checkpoint(1)
    url = urlsplit(e2e.server.base_url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request("GET", "/v1/checkpoints/1", headers={"Accept": "application/json"})
        as_json = orjson.loads(conn.getresponse().read())
    finally:
        conn.close()

    assert note.startswith("ledger.test/e2e\n1\n")
    assert as_json["note"] == note
    assert as_json["size"] == 1


# ---------------------------------------------------------------------------- batches


def test_batch_for_one_stream_is_appended_atomically(e2e: E2E, verifier: EnvelopeSigner) -> None:
    run_id = _run_id()
    raws = [_raw(_run(verifier, run_id, expected_version=v)) for v in range(3)]

    receipts = e2e.api.post_batch(raws)
    again = e2e.api.post_batch(raws)

    assert [r["index"] for r in receipts] == list(
        range(receipts[0]["index"], receipts[0]["index"] + 3)
    )
    assert again == receipts
    assert e2e.api.events("verification", run_id)["version"] == 3


def test_batch_with_one_bad_event_records_nothing(e2e: E2E, verifier: EnvelopeSigner) -> None:
    run_id = _run_id()
    good = _run(verifier, run_id, expected_version=0)
    stale = _run(verifier, run_id, expected_version=0)  # should be 1

    error = _refusal(lambda: e2e.api.post_batch([_raw(good), _raw(stale)]))

    assert error.status == 409
    assert e2e.api.events("verification", run_id)["version"] == 0


def test_batch_over_the_event_limit_is_400(e2e: E2E) -> None:
    raws = [b"{}"] * 101

    error = _refusal(lambda: e2e.api.post_batch(raws))

    _assert_problem(error, 400, "ENV-0")
    assert error.evidence["reason"] == "oversized"
