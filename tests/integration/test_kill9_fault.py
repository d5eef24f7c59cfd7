"""SIGKILL a writer mid-stream: every receipt it handed out survives, and the tree continues.

A writer subprocess appends from 4 threads (so group commit is in play) and prints each
receipt as one JSON line the moment ``append`` returns. The parent SIGKILLs it after about
60 receipts, reopens the ledger and checks that every printed receipt is at its index with
the same leaf hash and root, that the log is gap-free and verifies, and that a new append
continues the same tree. Then it does it all again. Real SQLite file, real PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

from ledger.bootstrap import open_ledger
from ledger.client import EnvelopeSigner
from ledger.integrity.envelope import leaf_bytes
from ledger.integrity.merkle import Frontier, leaf_hash
from ledger.integrity.receipt import Receipt, receipt_from_dict
from ledger.integrity.signing import write_private_key
from tests.conftest import LedgerWorld
from tests.integration.test_concurrent_appends import (
    assert_log_and_receipts,
    assert_verifier_ok,
    ledger_key,
    verification_run,
)

KILL_AFTER = 60
TIMEOUT = 60

WRITER = r"""
import sys, threading
from pathlib import Path
import orjson
from ledger.bootstrap import open_ledger
from ledger.client import EnvelopeSigner
from ledger.client import EnvelopeSigner
from ledger.integrity.signing import b64encode, read_private_key
from ledger.settings import Settings

key_path, tag = sys.argv[1], sys.argv[2]
signer = EnvelopeSigner(read_private_key(Path(key_path)), "verifier-1", "integrity_verifier",
                        "county-a")
service = open_ledger(Settings.from_env())
out = sys.stdout.buffer
lock = threading.Lock()

def work(t):
    i = 0
    while True:
        run_id = f"{tag}-{t}-{i}"
        raw = signer.sign(event_type="IntegrityVerificationRun", stream_type="verification",
                          stream_id=run_id, expected_version=0,
                          payload={"run_id": run_id, "tree_size": 1,
                                   "root_hash": b64encode(bytes(32)), "result": "PASS",
                                   "findings_count": 0, "first_damage_kind": None,
                                   "first_damage_index": None})
        receipt = service.append(raw).receipt
        with lock:
            out.write(orjson.dumps(receipt.to_dict()) + b"\n")
            out.flush()
        i += 1

threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def run_and_kill(world: LedgerWorld, key_path: Path, tag: str, tmp_path: Path) -> list[Receipt]:
    """Start the writer, SIGKILL it after ``KILL_AFTER`` receipts; return every receipt printed."""
    env = os.environ | {
        "LEDGER_DATABASE_URL": world.settings.database_url,
        "LEDGER_HOME": str(world.settings.home),
        "LEDGER_CHECKPOINT_EVERY": "16",  # checkpoints are written (and killed) too
    }
    stderr_path = tmp_path / f"writer-{tag}.stderr"
    lines: list[bytes] = []
    got = threading.Condition()
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(key_path), tag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                with got:
                    lines.append(line)
                    got.notify_all()
            with got:
                got.notify_all()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + TIMEOUT
            with got:
                while len(lines) < KILL_AFTER and proc.poll() is None:
                    got.wait(max(0.0, deadline - time.monotonic()))
                    assert time.monotonic() < deadline, "writer too slow"
            assert proc.poll() is None, f"writer died: {stderr_path.read_text()}"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(TIMEOUT)
            reader.join(TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    # Only complete lines were acknowledged; each one was written with a single flush.
    complete = [line for line in lines if line.endswith(b"\n")]
    assert len(complete) >= KILL_AFTER
    return [receipt_from_dict(orjson.loads(line)) for line in complete]


def check_after_restart(
    world: LedgerWorld, signer: EnvelopeSigner, receipts: list[Receipt], tag: str
) -> list[Receipt]:
    """Reopen, check every acknowledged receipt, verify, append once more; return all receipts."""
    service = open_ledger(world.settings)
    try:
        head = service.store.log.head()
        key = ledger_key(service)
        for r in receipts:
            r.verify(key)
            entry = service.store.log.entry_at(r.index)
            assert entry is not None, f"acknowledged event at {r.index} is gone"
            assert entry.event_id == r.event_id
            assert entry.leaf_hash == r.leaf_hash
            assert entry.root == r.root_hash
            assert leaf_hash(leaf_bytes(entry.state, entry.index, entry.recorded_at)) == r.leaf_hash
        assert head.size >= max(r.index for r in receipts) + 1
        assert_log_and_receipts(service, receipts)
        assert_verifier_ok(world.settings)

        # A new append after the restart continues the very same tree.
        new = service.append(verification_run(signer, f"{tag}-after")).receipt
        assert new.index == head.size
        assert new.tree_size == head.size + 1
        frontier = Frontier.from_bytes(head.frontier)
        frontier.append(new.leaf_hash)
        assert new.root_hash == frontier.root()
        all_receipts = [*receipts, new]
        assert_log_and_receipts(service, all_receipts)
        assert_verifier_ok(world.settings)
        return all_receipts
    finally:
        service.close()


def test_kill9_mid_stream_twice(world: LedgerWorld, tmp_path: Path) -> None:
    signer = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
    key_path = tmp_path / "verifier.key"
    write_private_key(key_path, signer.key)
    receipts: list[Receipt] = []
    for round_no in range(2):
        tag = f"kill{round_no}"
        printed = run_and_kill(world, key_path, tag, tmp_path)
        receipts = check_after_restart(world, signer, [*receipts, *printed], tag)
    # Both writers' trees are one tree: every receipt ever printed is still in it.
    assert len({r.index for r in receipts}) == len(receipts) >= 2 * KILL_AFTER + 2
