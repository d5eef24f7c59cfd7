"""Checkpoints (every N events, every T seconds, on demand; all kept), receipts and proofs."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.bootstrap import ADMIN_KEY_FILE, LEDGER_KEY_FILE, open_ledger
from ledger.integrity.merkle import (
    Frontier,
    RootMismatchError,
    verify_consistency,
    verify_inclusion,
)
from ledger.integrity.note import Checkpoint, open_note, parse_verifier_key
from ledger.integrity.signing import VerifyKey
from ledger.settings import Settings
from tests.conftest import LedgerWorld, make_world


def _org(world: LedgerWorld, n: int) -> None:
    world.registry_event(
        "OrganisationRegistered",
        {"org_id": f"t-{n}", "kind": "GOVERNMENT", "parent_org_id": "city", "name": f"T{n}"},
    )


def _verifier_key(world: LedgerWorld) -> str:
    return (world.settings.home / "ledger.vkey").read_text().strip()


def test_checkpoints_are_issued_every_n_events_and_all_kept(
    tmp_path: Path, database_url: str
) -> None:
    world = make_world(database_url, tmp_path / "home", checkpoint_every=5)
    try:
        for n in range(12):
            _org(world, n)

        sizes = [c.size for c in world.service.store.log.checkpoints()]
    finally:
        world.service.close()

    # genesis (1) is checkpointed at init; then one per 5 new events: 6, 11.
    assert sizes == [1, 6, 11]


def test_checkpoint_notes_verify_and_commit_to_the_tree(world: LedgerWorld) -> None:
    for n in range(6):
        _org(world, n)
    verifier = parse_verifier_key(_verifier_key(world))

    kept = world.service.issue_checkpoint()
    assert kept is not None
    checkpoint = Checkpoint.parse(open_note(kept.note, [verifier]).text)
    head = world.service.store.log.head()

    assert checkpoint.origin == "ledger.test/city"
    assert checkpoint.size == head.size == 7
    assert checkpoint.root_hash == Frontier.from_bytes(head.frontier).root()


def test_on_demand_checkpoint_is_not_duplicated(world: LedgerWorld) -> None:
    _org(world, 1)
    first = world.service.issue_checkpoint()

    again = world.service.issue_checkpoint()
    forced = world.service.issue_checkpoint(force=True)

    assert first is not None
    assert again is None
    assert forced == first


def test_timed_checkpoints_follow_new_events(sqlite_world: LedgerWorld) -> None:
    sqlite_world.service.start_checkpoint_timer(0.2)
    _org(sqlite_world, 1)
    _org(sqlite_world, 2)

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        latest = sqlite_world.service.store.log.latest_checkpoint()
        if latest is not None and latest.size == 3:
            break
        time.sleep(0.05)

    assert latest is not None and latest.size == 3


def test_receipts_and_inclusion_proofs_verify_against_checkpoints(world: LedgerWorld) -> None:
    receipts = [
        world.registry_event(
            "OrganisationRegistered",
            {"org_id": f"t-{n}", "kind": "GOVERNMENT", "parent_org_id": "city", "name": "x"},
        ).receipt
        for n in range(9)
    ]
    kept = world.service.issue_checkpoint()
    assert kept is not None
    ledger_key = VerifyKey.from_b64(world.service.registry.ledger_public_key or "")

    for receipt in receipts:
        receipt.verify(ledger_key)
        proof = world.service.inclusion_proof(receipt.index, kept.size)
        verify_inclusion(receipt.leaf_hash, receipt.index, kept.size, proof, kept.root)
        # The receipt's own root is a tree the checkpoint must extend.
        consistency = world.service.consistency_proof(receipt.tree_size, kept.size)
        verify_consistency(receipt.tree_size, kept.size, receipt.root_hash, kept.root, consistency)


def test_a_proof_for_another_leaf_does_not_verify(world: LedgerWorld) -> None:
    for n in range(4):
        _org(world, n)
    size = world.service.store.log.head().size
    root = Frontier.from_bytes(world.service.store.log.head().frontier).root()
    entry = world.service.store.log.entry_at(1)
    assert entry is not None

    with pytest.raises(RootMismatchError):
        verify_inclusion(entry.leaf_hash, 1, size, world.service.inclusion_proof(2, size), root)


def test_proof_edge_cases(world: LedgerWorld) -> None:
    size = world.service.store.log.head().size

    assert world.service.consistency_proof(0, size) == []
    assert world.service.consistency_proof(size, size) == []
    with pytest.raises(Exception, match="beyond the log"):
        world.service.inclusion_proof(0, size + 5)


def test_init_keeps_private_keys_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.tools.cli",
            "--db",
            f"sqlite:///{tmp_path / 'l.db'}",
            "--home",
            str(home),
            "init",
            "--origin",
            "ledger.test/x",
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    for name in (LEDGER_KEY_FILE, ADMIN_KEY_FILE):
        mode = stat.S_IMODE((home / name).stat().st_mode)
        assert mode == 0o600
        assert (home / name).read_text() not in result.stdout
    assert "PRIVATE" not in result.stdout
    assert "ledger.test/x+" in result.stdout  # the public verifier key is printed


def test_init_refuses_to_run_twice(tmp_path: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "ledger.tools.cli",
        "--db",
        f"sqlite:///{tmp_path / 'l.db'}",
        "--home",
        str(tmp_path / "home"),
        "init",
        "--origin",
        "ledger.test/x",
    ]
    subprocess.run(args, check=True, capture_output=True)

    again = subprocess.run(args, capture_output=True, text=True, check=False)

    assert again.returncode == 2
    assert "already initialised" in again.stderr


def test_export_verifies_offline_and_matches_the_database(
    world: LedgerWorld, tmp_path: Path
) -> None:
    for n in range(5):
        _org(world, n)
    world.service.issue_checkpoint()
    out = tmp_path / "export"
    cli = [
        sys.executable,
        "-m",
        "ledger.tools.cli",
        "--db",
        world.settings.database_url,
        "--home",
        str(world.settings.home),
    ]

    subprocess.run([*cli, "export", str(out)], check=True, capture_output=True)
    result = subprocess.run(
        [*cli, "verify", "--export", str(out)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout
    assert "OK: 6 events" in result.stdout
    lines = (out / "log.jsonl").read_bytes().splitlines()
    entry = world.service.store.log.entry_at(5)
    assert entry is not None
    import hashlib

    assert hashlib.sha256(b"\x00" + lines[5]).digest() == entry.leaf_hash


def test_reopened_service_sees_registry_changes_from_other_processes(
    world: LedgerWorld,
) -> None:
    other = open_ledger(
        Settings(database_url=world.settings.database_url, home=world.settings.home)
    )
    try:
        _org(world, 99)  # appended by the first service
        raw = world.admin.sign(
            event_type="ActorRegistered",
            stream_type="registry",
            stream_id="registry",
            expected_version=world.service.registry.version,
            payload={"actor_id": "a-99", "org_id": "t-99", "kind": "PERSON", "person_ref": None},
        )

        # The second service's registry is stale; the recorder notices and it re-authorises.
        result = other.append(raw)
    finally:
        other.close()

    assert result.receipt.index == world.service.store.log.head().size - 1


def test_export_verification_checks_stream_continuity(world: LedgerWorld, tmp_path: Path) -> None:
    import orjson

    from ledger.integrity.envelope import leaf_bytes
    from ledger.verification import Damage, verify
    from ledger.verification.sources import ExportSource

    signer = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
    for version in range(3):
        world.service.append(
            signer.sign(
                event_type="IntegrityVerificationRun",
                stream_type="verification",
                stream_id="run-x",
                expected_version=version,
                payload={
                    "run_id": "run-x",
                    "tree_size": version,
                    "root_hash": "A" * 43 + "=",
                    "result": "PASS",
                    "findings_count": 0,
                    "first_damage_kind": None,
                    "first_damage_index": None,
                },
            )
        )
    out = tmp_path / "export"
    from ledger.services.export import export_ledger

    export_ledger(world.service, out)
    lines = (out / "log.jsonl").read_bytes().splitlines()
    # Drop the stream's middle event and renumber the rest consistently (a rewrite).
    middle = len(lines) - 2
    kept = lines[:middle] + lines[middle + 1 :]
    renumbered = []
    for index, line in enumerate(kept):
        value = orjson.loads(line)
        state = line[len(b'{"envelope":') : line.rindex(b',"index":')]
        renumbered.append(leaf_bytes(state, index, value["recorded_at"]))
    (out / "log.jsonl").write_bytes(b"\n".join(renumbered) + b"\n")

    report = verify(ExportSource(out))

    gaps = [f for f in report.findings if f.damage is Damage.DELETED and f.index is None]
    assert gaps and gaps[0].evidence["missing_version"] == 2


def test_verify_accepts_a_file_a_url_or_an_export_directory(
    world: LedgerWorld, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    base = [sys.executable, "-m", "ledger.tools.cli", "--home", str(world.settings.home)]
    subprocess.run(
        [*base, "--db", world.settings.database_url, "export", str(out)],
        check=True,
        capture_output=True,
    )
    targets = [world.settings.database_url, str(out)]
    if world.settings.backend == "sqlite":
        targets.append(str(world.settings.sqlite_path))

    for target in targets:
        result = subprocess.run(
            [*base, "verify", target], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, (target, result.stdout, result.stderr)
        assert result.stdout.startswith("OK: 1 events")
