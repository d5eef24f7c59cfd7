"""OpenAPI for the raw-body append route: the envelope schema and an example that works.

``POST /v1/events`` reads its body as bytes (the signature covers the exact bytes), so FastAPI
cannot infer the request schema; it is added here from :mod:`ledger.api.schemas`. The example
is this ledger's own genesis envelope, read from the log: "Try it out" at ``/docs`` really
posts it, and gets the original receipt back with 200 (an identical retry) — a working
example that needs no private key in the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from ledger.api.schemas import BatchIn, EnvelopeIn
from ledger.services.ledger import LedgerService

log = logging.getLogger(__name__)

_REF = "#/components/schemas/{model}"


def _genesis_example(service: LedgerService | None) -> dict[str, Any] | None:
    if service is None:
        return None
    try:
        entries = service.store.log.entries(0, 1)
    except Exception:  # documentation must not fail because the store is briefly away
        log.exception("could not read the genesis envelope for the OpenAPI example")
        return None
    if not entries:
        return None
    envelope: dict[str, Any] = orjson.loads(entries[0].state)
    return {
        "summary": "this ledger's genesis envelope (an identical retry: 200, original receipt)",
        "value": envelope,
    }


def install_openapi(app: FastAPI, current_service: Callable[[], LedgerService | None]) -> None:
    """Replace ``app.openapi`` with one that documents the raw envelope body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _, defs = models_json_schema(
            [(EnvelopeIn, "validation"), (BatchIn, "validation")], ref_template=_REF
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
        example = _genesis_example(current_service())
        body: dict[str, Any] = {
            "required": True,
            "description": "one signed envelope (the exact bytes you signed), or a batch",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": _REF.format(model="EnvelopeIn")},
                            {"$ref": _REF.format(model="BatchIn")},
                        ]
                    },
                    **({"examples": {"genesis": example}} if example else {}),
                }
            },
        }
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                if isinstance(operation, dict) and operation.pop("x-raw-envelope-body", False):
                    operation["requestBody"] = body
        # Cache only once the live example is in: a server started before `ledger init`
        # picks it up later.
        if example is not None:
            app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
