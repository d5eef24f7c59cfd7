"""Case evidence bundles: written by ``ledger export --case``, verified offline by
``ledger verify-bundle``; every kind of edit fails with its reason and a non-zero exit."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.services.bundles import export_case, verify_bundle
from ledger.tools.cli import main
from tests.integration.test_replay import (  # noqa: F401 - the fixture
    Audit,
    audit,
    plant_approval_of_rejected_application,
)

CASE = "enr-app-2024-0002"


@pytest.fixture
def bundle(audit: Audit) -> Iterator[dict[str, Any]]:  # noqa: F811 - the fixture
    yield export_case(audit.replay, CASE)


def _leaf(item: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(base64.b64decode(item["leaf"]))  # type: ignore[no-any-return]


def _set_leaf(item: dict[str, Any], leaf: dict[str, Any]) -> None:
    from ledger.integrity.envelope import leaf_bytes
    from ledger.integrity.jcs import canonicalize_checked

    raw = leaf_bytes(canonicalize_checked(leaf["envelope"]), leaf["index"], leaf["recorded_at"])
    item["leaf"] = base64.b64encode(raw).decode()


def test_round_trip_verifies_offline(bundle: dict[str, Any]) -> None:
    report = verify_bundle(orjson.dumps(bundle))
    assert report.ok, report.problems[:3]
    assert report.case == CASE
    types = [d["event_type"] for d in report.decisions]
    assert "TerminationDecided" in types and "BeneficiaryEnrolled" in types
    assert {d["result"] for d in report.decisions} == {"match"}
    assert {s["signature"] for s in report.signers} == {"verified"}
    assert report.events == len(bundle["events"])


def _registry_positions(bundle: dict[str, Any], event_type: str) -> list[int]:
    return [
        n
        for n, item in enumerate(bundle["events"])
        if _leaf(item)["envelope"]["event_type"] == event_type
    ]


def _edit_event_bytes(b: dict[str, Any]) -> None:
    item = next(
        i for i in b["events"] if _leaf(i)["envelope"]["event_type"] == "BeneficiaryEnrolled"
    )
    leaf = _leaf(item)
    leaf["envelope"]["payload"]["annual_amount_fen"] += 100
    _set_leaf(item, leaf)


def _edit_proof(b: dict[str, Any]) -> None:
    item = b["events"][-1]
    item["proof"][0] = base64.b64encode(b"\x00" * 32).decode()


def _edit_checkpoint(b: dict[str, Any]) -> None:
    note = b["checkpoint"]["note"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    b["checkpoint"]["note"] = "\n".join(lines)


def _remove_registry_event(b: dict[str, Any]) -> None:
    del b["events"][_registry_positions(b, "SigningKeyRegistered")[3]]


def _reorder(b: dict[str, Any]) -> None:
    events = b["events"]
    events[-1], events[-2] = events[-2], events[-1]


def _edit_leaf_index(b: dict[str, Any]) -> None:
    item = b["events"][-1]
    leaf = _leaf(item)
    leaf["index"] += 1
    _set_leaf(item, leaf)


def _claim_other_verdict(b: dict[str, Any]) -> None:
    b["decisions"][0]["result"] = "mismatch"


EDITS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "event_bytes": (
        _edit_event_bytes,
        "inclusion",
        "inclusion proof does not lead to the checkpoint root",
    ),
    "proof": (_edit_proof, "inclusion", "inclusion proof does not lead to the checkpoint root"),
    "checkpoint": (_edit_checkpoint, "checkpoint", "signature does not verify"),
    "removed_registry_event": (_remove_registry_event, "stream", "registry event version"),
    "reordered": (_reorder, "order", "not in increasing log order"),
    "leaf_index": (_edit_leaf_index, "leaf", "not the canonical leaf of log index"),
    "verdict": (_claim_other_verdict, "decision", "the bundle records mismatch"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_every_edit_fails_with_its_reason(
    bundle: dict[str, Any], edit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, check, reason = EDITS[edit]
    damaged = orjson.loads(orjson.dumps(bundle))
    change(damaged)
    report = verify_bundle(orjson.dumps(damaged))
    assert not report.ok
    first = report.problems[0]
    assert first["check"] == check, report.problems[:3]
    assert reason in first["reason"]
    path = tmp_path / "damaged.json"
    path.write_bytes(orjson.dumps(damaged))
    assert main(["verify-bundle", str(path)]) == 1
    assert f"bundle DAMAGED ({check})" in capsys.readouterr().out


def test_cli_export_and_verify(
    audit: Audit,  # noqa: F811 - the fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = audit.world.settings
    out = tmp_path / "case.json"
    base = ["--db", settings.database_url, "--home", str(settings.home)]
    assert main([*base, "export", "--case", "p-0001", "--out", str(out)]) == 0
    assert main(["verify-bundle", str(out)]) == 0
    assert "bundle OK: case p-0001" in capsys.readouterr().out
    # The directory export is unchanged.
    assert main([*base, "export", str(tmp_path / "dir")]) == 0
    assert (tmp_path / "dir" / "log.jsonl").exists()


def test_a_planted_decision_is_authentic_but_does_not_rederive(
    audit: Audit,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    plant_approval_of_rejected_application(audit)
    bundle = export_case(audit.replay, "app-2024-0007")
    report = verify_bundle(orjson.dumps(bundle))
    assert report.ok, report.problems[:3]
    (mismatch,) = [d for d in report.decisions if d["result"] == "mismatch"]
    assert (mismatch["event_type"], mismatch["code"]) == ("ApplicationApproved", "APP-0")
    path = tmp_path / "case.json"
    path.write_bytes(orjson.dumps(bundle))
    assert main(["verify-bundle", str(path)]) == 3
