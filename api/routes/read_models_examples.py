"""OpenAPI examples that work, for the read routes documented elsewhere.

The read-model routes (:mod:`ledger.api.routes.read_models`) declare their own examples. The
log, stream, event, roster, fund, proof, receipt, health, replay and timeline routes are
given theirs here, as a post-processing step of the OpenAPI document, so "Try it out" at
``/docs`` works:

* path and query examples that must name something real are taken from this ledger's own
  genesis event (its event id, log index 0, the ``registry`` stream, the root organisation,
  tree sizes 1 and 2), the way ``POST /v1/events`` shows the genesis envelope; only
  ``/v1/funds/{fund_account_id}`` and ``/v1/timeline/{subject_id}`` name the demo county's
  fund account (``ledger demo``), since no fund account exists at genesis;
* response examples are shaped like the documented models (the genesis entry itself where
  the response is a log entry), so each validates against its schema.

``tests/e2e/test_openapi_examples.py`` checks both properties on a real server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI

from ledger.api.render import entry_json
from ledger.api.routes.assessment import ASSESSMENT_EXAMPLES
from ledger.api.routes.read_models import READ_MODEL_EXAMPLES
from ledger.services.ledger import LedgerService

log = logging.getLogger(__name__)

_HASH_B64 = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
_STATE_HASH = "9f2c1e0b7a4d5c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566"
DEMO_FUND = "fund-county-hx-tekun-2024"
"""The fund account of the demo county (``ledger demo``)."""


def _genesis(service: LedgerService | None) -> dict[str, Any] | None:
    """The genesis log entry as the API renders it, or ``None`` before ``ledger init``."""
    if service is None:
        return None
    try:
        entries = service.store.log.entries(0, 1)
    except Exception:  # documentation must not fail because the store is briefly away
        log.exception("could not read the genesis entry for the OpenAPI examples")
        return None
    if not entries:
        return None
    rendered: dict[str, Any] = orjson.loads(orjson.dumps(entry_json(entries[0])))
    return rendered


def _roster_row() -> dict[str, Any]:
    return {
        "enrolment_id": "enr-county-hx-17",
        "programme_code": "TEKUN",
        "township_org_id": "county-hx-town-1",
        "residence_org_id": "county-hx-town-1-village-1",
        "person_id": "person-17",
        "household_id": "household-17",
        "application_id": "app-2024-17",
        "support_mode": "DISPERSED",
        "institution_id": None,
        "annual_amount_fen": 130_000,
        "payment_frequency": "MONTHLY",
        "status": "ACTIVE",
        "first_payable_period": "2024-03",
        "last_payable_period": None,
        "termination_reason": None,
        "death_date": None,
        "termination_effective_period": None,
        "referred_to": None,
        "payment_account_id": "acct-17",
        "dossier_id": "dossier-17",
        "known_from": 412,
        "known_to": None,
    }


def _fund_row() -> dict[str, Any]:
    return {
        "fund_account_id": DEMO_FUND,
        "opened": 1,
        "owner_org_id": "county-hx",
        "fiscal_year": 2024,
        "programme_codes": '["TEKUN"]',
        "purposes": '["BASIC_LIVING"]',
        "appropriated_fen": 6_000_000,
        "received_fen": 6_000_000,
        "settled_fen": 1_250_000,
        "available_fen": 4_750_000,
        "known_from": 655,
    }


def _page(rows: list[dict[str, Any]], next_after: Any = None) -> dict[str, Any]:
    return {"position": 812, "state_hash": _STATE_HASH, "rows": rows, "next_after": next_after}


def _examples(genesis: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(method, path) → {"params": {name: value}, "response": example}``."""
    event_id = genesis["event_id"]
    root_org = genesis["envelope"]["payload"].get("root_org_id", "city")
    origin = genesis["envelope"]["payload"].get("origin", "ledger.example/demo")
    receipt = {
        "type": "ledger/v1/receipt",
        "origin": origin,
        "event_id": event_id,
        "index": 0,
        "recorded_at": genesis["recorded_at"],
        "leaf_hash": genesis["leaf_hash"],
        "tree_size": 1,
        "root_hash": genesis["root_hash"],
        "key_id": "a" * 64,
        "signature": "A" * 86 + "==",
    }
    checkpoint = {
        "size": 1,
        "root_hash": genesis["root_hash"],
        "issued_at": genesis["recorded_at"],
        "note": f"{origin}\n1\n{genesis['root_hash']}\n\n— {origin} UWBmii…\n",
    }
    return {
        ("get", "/v1/events/{event_id}"): {"params": {"event_id": event_id}, "response": genesis},
        ("get", "/v1/streams/{stream_type}/{stream_id}/events"): {
            "params": {
                "stream_type": "registry",
                "stream_id": "registry",
                "after_version": 0,
                "limit": 10,
            },
            "response": {
                "stream_type": "registry",
                "stream_id": "registry",
                "version": 1,
                "next_after_version": None,
                "events": [genesis],
            },
        },
        ("get", "/v1/log"): {
            "params": {"from": 0, "limit": 1},
            "response": {"from": 0, "size": 812, "next": 1, "entries": [genesis]},
        },
        ("get", "/v1/roster"): {
            "params": {
                "programme": "TEKUN",
                "org_id": root_org,
                "status": "ACTIVE",
                "as_known_at": 0,
                "as_effective_at": "2024-12-31",
                "limit": 50,
            },
            "response": _page([_roster_row()], "enr-county-hx-17"),
        },
        ("get", "/v1/funds"): {
            "params": {"as_known_at": 0, "as_effective_at": "2024-12-31"},
            "response": _page([_fund_row()]),
        },
        ("get", "/v1/funds/{fund_account_id}"): {
            "params": {"fund_account_id": DEMO_FUND},
            "response": _page([_fund_row()]),
        },
        ("get", "/v1/checkpoints/latest"): {
            "params": {"format": "json"},
            "response": checkpoint,
        },
        ("get", "/v1/checkpoints/{size}"): {
            # `ledger init` issues the checkpoint of size 1 (the genesis event alone).
            "params": {"size": 1, "format": "json"},
            "response": checkpoint,
        },
        ("get", "/v1/proofs/inclusion"): {
            "params": {"index": 0, "tree_size": 1},
            "response": {
                "index": 0,
                "tree_size": 1,
                "leaf_hash": genesis["leaf_hash"],
                "proof": [],
            },
        },
        ("get", "/v1/proofs/consistency"): {
            "params": {"old": 1, "new": 2},
            "response": {"old_size": 1, "new_size": 2, "proof": [_HASH_B64]},
        },
        ("get", "/v1/receipts/{index}"): {"params": {"index": 0}, "response": receipt},
        ("get", "/healthz"): {
            "params": {},
            "response": {"status": "ok", "origin": origin, "size": 812},
        },
        ("get", "/v1/replay/{event_id}"): {
            "params": {"event_id": event_id},
            "response": {
                "decision": {"index": 0, "event_type": genesis["event_type"]},
                "causation_chain": [],
                "cited_events": [],
                "signers": [],
                "rule_versions": {},
                "projections": {},
                "recomputation": {"outcome": "NOT_A_DECISION"},
                "proofs": [],
            },
        },
        ("get", "/v1/timeline/{subject_id}"): {
            "params": {"subject_id": DEMO_FUND},
            "response": {
                "subject_id": DEMO_FUND,
                "count": 1,
                "events": [{"index": 57, "event_type": "FundAccountOpened"}],
            },
        },
    }


def _json_schema_fix(schema: dict[str, Any]) -> None:
    """Correct the ``type: string`` FastAPI gives a JSON response when the response class is
    not a ``JSONResponse`` (``JSONBytes``): beside a documented model it is dropped (OpenAPI
    3.1 would read the pair as "a string AND an object"); alone it becomes ``object``."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                body = response.get("content", {}).get("application/json", {})
                shape = body.get("schema", {})
                if "$ref" in shape and shape.get("type") == "string":
                    del shape["type"]
                elif shape == {"type": "string"}:  # a JSON object without a documented model
                    shape["type"] = "object"


def _read_model_examples(schema: dict[str, Any]) -> None:
    """Put back the read-model routes' own response examples with their nulls (FastAPI
    drops every ``None`` from the document, which would leave required fields missing)."""
    for path, example in (READ_MODEL_EXAMPLES | ASSESSMENT_EXAMPLES).items():
        operation = schema.get("paths", {}).get(path, {}).get("get")
        if operation is not None:
            body = operation["responses"]["200"]["content"]["application/json"]
            body["example"] = example


def inject_examples(schema: dict[str, Any], genesis: dict[str, Any] | None) -> None:
    """Add the examples of :func:`_examples` to ``schema`` (idempotent; only where a route
    has none of its own) and restore the read models' own."""
    _json_schema_fix(schema)
    _read_model_examples(schema)
    if genesis is None:
        return
    for (method, path), example in _examples(genesis).items():
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if name in example["params"] and "examples" not in parameter:
                parameter["examples"] = {
                    "working": {"summary": "works on this ledger", "value": example["params"][name]}
                }
        content = operation.get("responses", {}).get("200", {}).get("content", {})
        body = content.get("application/json")
        if body is not None and "example" not in body and "examples" not in body:
            body["example"] = example["response"]


def install_read_examples(
    app: FastAPI, current_service: Callable[[], LedgerService | None]
) -> None:
    """Wrap ``app.openapi`` (after :func:`ledger.api.openapi.install_openapi`) so the read
    routes carry working examples once the ledger is initialised."""
    inner = app.openapi

    def openapi() -> dict[str, Any]:
        schema = inner()
        inject_examples(schema, _genesis(current_service()))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
