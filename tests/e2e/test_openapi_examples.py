"""OpenAPI examples that work, on a real uvicorn over a seeded ledger: every read route's
example response validates against the schema the document gives it, and the example
request of every read route (all its parameter examples at once) succeeds. ``POST
/v1/events`` shows an envelope that really appends (an identical retry)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from ledger.integrity.jcs import canonicalize_checked
from ledger.tools.scenario import Desk, Treasurer, build_county, define_programmes
from tests.e2e.conftest import E2E
from tests.e2e.test_read_models_http import caught_up, seed_supervision

READ_MODEL_PATHS = (
    "/v1/inspections",
    "/v1/rectifications",
    "/v1/payments",
    "/v1/standards",
    "/v1/coverage",
)


# ------------------------------------------------------------------ a small JSON Schema check


def schema_errors(
    value: Any, schema: dict[str, Any], doc: dict[str, Any], at: str = "$"
) -> list[str]:
    """Violations of the JSON Schema subset FastAPI and pydantic emit ($ref, anyOf, oneOf,
    allOf, type, properties, required, items, additionalProperties, enum, const)."""
    if "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        errors = schema_errors(value, target, doc, at)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return errors + (schema_errors(value, rest, doc, at) if rest else [])
    errors: list[str] = []
    for key in ("anyOf", "oneOf"):
        if key in schema:
            passing = [s for s in schema[key] if not schema_errors(value, s, doc, at)]
            if not passing or (key == "oneOf" and len(passing) > 1):
                errors.append(f"{at}: {key} not satisfied by {value!r:.80}")
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, doc, at)
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} is not {schema['const']!r}")
    kind = schema.get("type")
    if kind is not None and not _is_type(value, kind):
        return [*errors, f"{at}: {value!r:.80} is not of type {kind}"]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [
            f"{at}: missing {name}" for name in schema.get("required", []) if name not in value
        ]
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                errors += schema_errors(item, properties[name], doc, f"{at}.{name}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, doc, f"{at}.{name}")
            elif extra is False:
                errors.append(f"{at}: unexpected {name}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            errors += schema_errors(item, schema["items"], doc, f"{at}[{n}]")
    return errors


def _is_type(value: Any, kind: str | list[str]) -> bool:
    if isinstance(kind, list):
        return any(_is_type(value, k) for k in kind)
    checks: dict[str, Any] = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return bool(checks[kind](value))


def test_the_validator_can_fail() -> None:
    doc = {
        "components": {
            "schemas": {
                "P": {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
            }
        }
    }
    ref = {"$ref": "#/components/schemas/P"}
    assert schema_errors({"a": 1}, ref, doc) == []
    assert schema_errors({"a": "1"}, ref, doc) == ["$.a: '1' is not of type integer"]
    assert schema_errors({}, ref, doc) == ["$: missing a"]
    assert schema_errors(None, {"anyOf": [{"type": "string"}, {"type": "integer"}]}, doc)


# ------------------------------------------------------------------ the live document


@pytest.fixture(scope="module")
def document(e2e: E2E) -> tuple[E2E, dict[str, Any]]:
    """A small seeded ledger (a county, its programmes and standards, the demo fund account,
    an inspection and a rectification notice), caught up, and its OpenAPI document."""
    version = e2e.api.events("registry", "registry", limit=1)["version"]
    desk = Desk(submit=e2e.api.post_event, admin=e2e.admin, registry_version=int(version))
    county = build_county(desk)
    define_programmes(desk, county, date(2023, 5, 25))
    Treasurer(desk, county).open_fund(2024, date(2024, 1, 2), (("COUNTY_BUDGET", 1_000_000, True),))
    seed_supervision(desk)
    caught_up(e2e.server.base_url)
    response = httpx.get(f"{e2e.server.base_url}/openapi.json", timeout=30)
    assert response.status_code == 200
    return e2e, response.json()


def read_operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every GET route of the API except the document itself."""
    return [
        (path, item["get"])
        for path, item in sorted(doc["paths"].items())
        if "get" in item and path.startswith(("/v1/", "/healthz"))
    ]


def example_of(parameter: dict[str, Any]) -> Any:
    examples = parameter.get("examples")
    if examples:
        return next(iter(examples.values()))["value"]
    return parameter.get("example")


def call(
    base_url: str, path: str, parameters: list[dict[str, Any]], values: dict[str, Any]
) -> httpx.Response:
    query = {}
    for p in parameters:
        if p["name"] in values:
            if p["in"] == "path":
                path = path.replace("{" + p["name"] + "}", str(values[p["name"]]))
            else:
                value = values[p["name"]]
                query[p["name"]] = str(value).lower() if isinstance(value, bool) else value
    return httpx.get(f"{base_url}{path}", params=query, timeout=30)


def test_every_read_route_has_a_valid_example_response(
    document: tuple[E2E, dict[str, Any]],
) -> None:
    _, doc = document
    missing, invalid = [], {}
    for path, operation in read_operations(doc):
        body = operation["responses"]["200"].get("content", {}).get("application/json")
        example = None if body is None else body.get("example")
        if example is None:
            missing.append(path)
            continue
        errors = schema_errors(example, body.get("schema", {}), doc)
        if errors:
            invalid[path] = errors[:5]
    assert missing == [], f"read routes without an example response: {missing}"
    assert invalid == {}


def test_every_example_request_succeeds(document: tuple[E2E, dict[str, Any]]) -> None:
    e2e, doc = document
    failures = {}
    for path, operation in read_operations(doc):
        parameters = operation.get("parameters", [])
        values = {p["name"]: example_of(p) for p in parameters if example_of(p) is not None}
        required = {p["name"] for p in parameters if p.get("required")}
        assert required <= set(values), f"{path}: required parameters without an example"
        # Every example at once; as_known_at and as_known_at_time are alternatives (together
        # they are refused), so each is used in its own request.
        attempts = [{k: v for k, v in values.items() if k != "as_known_at_time"}]
        if "as_known_at_time" in values:
            attempts.append({k: v for k, v in values.items() if k != "as_known_at"})
        for attempt in attempts:
            response = call(e2e.server.base_url, path, parameters, attempt)
            if response.status_code != 200:
                failures[f"{path} {attempt}"] = response.text[:300]
    assert failures == {}


def test_the_read_model_examples_are_filled_from_the_live_routes(
    document: tuple[E2E, dict[str, Any]],
) -> None:
    e2e, doc = document
    for path in READ_MODEL_PATHS:
        operation = doc["paths"][path]["get"]
        assert all("examples" in p for p in operation["parameters"]), path
        live = httpx.get(f"{e2e.server.base_url}{path}", timeout=30).json()
        body = operation["responses"]["200"]["content"]["application/json"]
        assert schema_errors(live, body["schema"], doc) == [], path
        assert set(body["example"]) == set(live)


def test_the_append_example_really_appends(document: tuple[E2E, dict[str, Any]]) -> None:
    e2e, doc = document
    body = doc["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    envelope = next(iter(body["examples"].values()))["value"]
    assert schema_errors(envelope, {"$ref": "#/components/schemas/EnvelopeIn"}, doc) == []
    response = httpx.post(
        f"{e2e.server.base_url}/v1/events",
        content=canonicalize_checked(envelope),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200  # an identical retry of the genesis event
    assert response.json()["index"] == 0
