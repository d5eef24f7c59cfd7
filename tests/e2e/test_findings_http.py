"""``GET /v1/findings`` against a real uvicorn: a legacy spot-check sample that does not redraw
from its seed is imported over HTTP, ``ledger findings --run`` (another process) raises it
signed by the detector actor, the API lists it, an auditor confirms it with a signed event
posted over HTTP, and the filters and validation answer as documented."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from ledger.domain.spot_checks import draw_sample
from tests.e2e.conftest import E2E

POPULATION = [f"old-app-{i}" for i in range(1, 11)]


def _get(e2e: E2E, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(e2e.server.base_url + path, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _import_bad_sample(e2e: E2E) -> None:
    honest = draw_sample(POPULATION, 42, 3)
    e2e.api.post_event(
        e2e.admin.sign(
            event_type="LegacyRecordImported",
            stream_type="legacy_import",
            stream_id="legacy-sample-e2e",
            expected_version=0,
            payload={
                "record_id": "legacy-sample-e2e",
                "source_system": "county civil-affairs system (2019)",
                "source_sha256": "5" * 64,
                "admin_unit_id": "county-e2e",
                "period": "2019-03",
                "record": {
                    "type": "SPOT_CHECK_SAMPLE",
                    "batch_id": "old-batch-e2e",
                    "township_org_id": "county-e2e",
                    "population_ids": POPULATION,
                    "sampled_ids": [*honest[:2], next(a for a in POPULATION if a not in honest)],
                    "rng_algorithm": "SPLITMIX64-FISHER-YATES-v1",
                    "rng_seed": 42,
                    "ratio": "0.30",
                },
            },
        )
    )


def _run_detectors(e2e: E2E) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.tools.cli",
            "--db",
            e2e.settings.database_url,
            "--home",
            str(e2e.settings.home),
            "findings",
            "--run",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _findings(e2e: E2E, query: str = "", *, count: int) -> dict[str, Any]:
    """``GET /v1/findings?query``, polled until the follower shows ``count`` rows."""
    deadline = time.monotonic() + 20
    while True:
        status, body = _get(e2e, f"/v1/findings{query}")
        assert status == 200, body
        if len(body["findings"]) == count or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_findings_are_raised_listed_and_disposed_over_http(e2e: E2E) -> None:
    _import_bad_sample(e2e)

    out = _run_detectors(e2e)

    assert "1 new finding(s) raised" in out
    [row] = _findings(e2e, count=1)["findings"]
    assert (row["code"], row["severity"], row["status"]) == ("AF-APP-SPOTCHECK", "H", "OPEN")
    assert (row["subject_refs"], row["period"]) == (["old-batch-e2e"], "2019-03")

    auditor = e2e.actor("auditor", "city")
    e2e.api.post_event(
        auditor.sign(
            event_type="AuditFindingDisposed",
            stream_type="audit_finding",
            stream_id=row["finding_id"],
            expected_version=1,
            payload={
                "finding_id": row["finding_id"],
                "disposition": "CONFIRMED",
                "reason": "sample re-drawn by the audit office: it differs",
                "referred_to_org_id": None,
            },
        )
    )

    confirmed = _findings(e2e, "?status=CONFIRMED", count=1)
    assert [r["finding_id"] for r in confirmed["findings"]] == [row["finding_id"]]
    assert _findings(e2e, "?status=OPEN", count=0)["findings"] == []
    assert (
        len(_findings(e2e, "?code=AF-APP-SPOTCHECK&severity=H&period=2019", count=1)["findings"])
        == 1
    )
    assert _findings(e2e, "?unit=another-county", count=0)["findings"] == []
    assert "1 new finding" not in _run_detectors(e2e)  # nothing is raised twice


def test_invalid_filters_are_rejected(e2e: E2E) -> None:
    for query in ("severity=X", "period=2024-13", "status=CLOSED", "limit=0"):
        status, problem = _get(e2e, f"/v1/findings?{query}")
        assert (status, problem["code"]) == (400, "BAD_REQUEST"), query


def test_the_route_is_documented_with_an_example(e2e: E2E) -> None:
    status, spec = _get(e2e, "/openapi.json")
    assert status == 200
    route = spec["paths"]["/v1/findings"]["get"]
    example = route["responses"]["200"]["content"]["application/json"]["example"]
    assert example["findings"][0]["code"] == "AF-PAY-AFTER-EXIT"
    assert {p["name"] for p in route["parameters"]} >= {
        "code",
        "severity",
        "unit",
        "period",
        "status",
    }
