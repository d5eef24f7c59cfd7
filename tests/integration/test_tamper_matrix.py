"""The tamper matrix: a malicious administrator edits the database directly, the verifier names it.

Every case runs on SQLite and on PostgreSQL. Each builds a realistic ledger (genesis, registry
events, ~30 ``IntegrityVerificationRun`` events from a second actor, checkpoints along the
way), closes the service, then tampers with raw SQL (``sqlite3`` / ``psycopg``) exactly as an
administrator with database access but *without the ledger's private key* could. The verifier
is run both as a function and as ``ledger verify --json`` in a subprocess; both must name the
right damage kind at the first affected log index (exit status 1), and the untampered ledger
must verify clean (exit status 0).

What a consistent rewrite of the unsigned bookkeeping (leaf hashes, roots, head) can hide is
documented in the cases themselves: truncating the tail and deleting the checkpoints that cover
it, or an insider re-signing the tail with their own key, leave a ledger that verifies clean on
its own. Only a checkpoint kept *outside* the database (``--trusted-checkpoint``) catches them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

from ledger.client import EnvelopeSigner
from ledger.errors import SignatureRejectedError
from ledger.integrity.envelope import format_recorded_at, leaf_bytes
from ledger.integrity.merkle import Frontier, leaf_hash
from ledger.integrity.signing import SigningKey, b64encode
from ledger.store.records import TOPIC_PREFIX, stream_uuid
from ledger.verification import Damage, Report, VerifyOptions, verify
from ledger.verification.sources import ExportSource, PostgresSource, Source, SQLiteSource

RUNS = 30
CHECKPOINT_EVERY = 10


# ---------------------------------------------------------------------------- the ledger


@dataclass
class Built:
    """A realistic ledger and what an auditor noted about it before anyone tampered."""

    world: Any  # conftest.LedgerWorld
    home: Path
    tmp: Path
    verifier: EnvelopeSigner
    run_index: dict[int, int] = field(default_factory=dict)
    """run number -> log index of its IntegrityVerificationRun event."""
    notes: dict[int, str] = field(default_factory=dict)
    """checkpoint size -> the signed note, as an auditor saved it outside the database."""

    @property
    def url(self) -> str:
        return str(self.world.settings.database_url)

    @property
    def size(self) -> int:
        return int(self.world.service.store.log.head().size)

    def run_payload(self, i: int, *, result: str = "PASS", findings: int = 0) -> dict[str, Any]:
        head = self.world.service.store.log.head()
        return {
            "run_id": f"run-{i}",
            "tree_size": 1000 + head.size,
            "root_hash": b64encode(Frontier.from_bytes(head.frontier).root()),
            "result": result,
            "findings_count": findings,
            "first_damage_kind": None,
            "first_damage_index": None,
        }

    def checkpoint(self) -> None:
        kept = self.world.service.issue_checkpoint()
        assert kept is not None
        self.notes[kept.size] = kept.note

    def trusted_note(self, size: int) -> Path:
        """The auditor's copy of the checkpoint of ``size``, kept outside the ledger."""
        path = self.tmp / f"trusted-{size}.note"
        path.write_text(self.notes[size], "utf-8")
        return path

    def close(self) -> None:
        self.world.service.close()


def sign_run(signer: EnvelopeSigner, i: int, payload: dict[str, Any]) -> bytes:
    return signer.sign(
        event_type="IntegrityVerificationRun",
        stream_type="verification",
        stream_id=f"run-{i}",
        expected_version=0,
        payload=payload,
    )


@pytest.fixture
def built(world: Any, tmp_path: Path) -> Built:
    """Genesis + registry events + RUNS verification runs, checkpoints every 10 runs (open)."""
    world.add_admin("admin-2")
    verifier = world.add_actor("verifier-1", org_id="county-a", role="integrity_verifier")
    b = Built(world, world.settings.home, tmp_path, verifier)
    b.checkpoint()
    for i in range(RUNS):
        result = world.service.append(sign_run(verifier, i, b.run_payload(i)))
        b.run_index[i] = result.receipt.index
        if (i + 1) % CHECKPOINT_EVERY == 0:
            b.checkpoint()
    assert b.size == b.run_index[RUNS - 1] + 1
    return b


# ---------------------------------------------------------------------------- raw SQL access


class RawDB:
    """The malicious administrator's own connection: plain SQL, no ledger code, no keys."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite:")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.events, self.nid = "stored_events", "rowid"
            self.log, self.head, self.cps = "ledger_log", "ledger_head", "ledger_checkpoints"
        else:
            import psycopg

            base, _, query = url.partition("?")
            schema = dict(p.split("=", 1) for p in query.split("&") if p)["schema"]
            self.conn = psycopg.connect(base)
            q = f'"{schema}".'
            self.events, self.nid = f"{q}ledger_events", "notification_id"
            self.log, self.head, self.cps = (
                f"{q}ledger_log",
                f"{q}ledger_head",
                f"{q}ledger_checkpoints",
            )

    def q(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
        return list(cur.fetchall()) if cur.description else []

    def oid(self, value: UUID) -> Any:
        return value.hex if self.sqlite else value

    # ---- reads

    def nid_at(self, index: int) -> int:
        return int(
            self.q(f"SELECT notification_id FROM {self.log} WHERE log_index=?", (index,))[0][0]
        )

    def state_at(self, index: int) -> bytes:
        rows = self.q(f"SELECT state FROM {self.events} WHERE {self.nid}=?", (self.nid_at(index),))
        return bytes(rows[0][0])

    # ---- writes

    def set_state(self, index: int, state: bytes) -> None:
        self.q(f"UPDATE {self.events} SET state=? WHERE {self.nid}=?", (state, self.nid_at(index)))

    def delete_event_row(self, index: int) -> None:
        self.q(f"DELETE FROM {self.events} WHERE {self.nid}=?", (self.nid_at(index),))

    def delete_log_rows_from(self, index: int) -> None:
        self.q(
            f"DELETE FROM {self.events} WHERE {self.nid} IN "
            f"(SELECT notification_id FROM {self.log} WHERE log_index>=?)",
            (index,),
        )
        self.q(f"DELETE FROM {self.log} WHERE log_index>=?", (index,))

    def append_forged(self, state: bytes) -> int:
        """Insert ``state`` as a new last event with consistent leaf, root and head rows."""
        env = orjson.loads(state)
        oid = stream_uuid(env["stream_type"], env["stream_id"])
        row = (self.oid(oid), env["expected_version"] + 1, TOPIC_PREFIX + env["event_type"], state)
        if self.sqlite:
            cur = self.conn.execute(f"INSERT INTO {self.events} VALUES (?,?,?,?)", row)
            nid = cur.lastrowid
        else:
            nid = self.q(
                f"INSERT INTO {self.events} (originator_id, originator_version, topic, "
                "state) VALUES (?,?,?,?) RETURNING notification_id",
                row,
            )[0][0]
        size, last = self.q(f"SELECT size, last_recorded_at FROM {self.head}")[0]
        recorded_at = max(format_recorded_at(datetime.now(UTC)), last)
        self.q(
            f"INSERT INTO {self.log} VALUES (?,?,?,?,?,?)",
            (size, nid, env["event_id"], recorded_at, b"\0" * 32, b"\0" * 32),
        )
        self.reseal(size)
        return int(size)

    def reseal(self, start: int) -> None:
        """Recompute leaf hashes and roots from ``start`` on, and the head, so that the
        unsigned bookkeeping is self-consistent again (what a careful forger does)."""
        rows = self.q(
            f"SELECT l.log_index, l.recorded_at, l.leaf_hash, e.state FROM {self.log} l "
            f"JOIN {self.events} e ON e.{self.nid}=l.notification_id ORDER BY l.log_index"
        )
        frontier = Frontier()
        last = ""
        for index, recorded_at, stored_leaf, state in rows:
            assert index == frontier.size
            last = recorded_at
            if index < start:
                frontier.append(bytes(stored_leaf))
                continue
            leaf = leaf_hash(leaf_bytes(bytes(state), index, recorded_at))
            frontier.append(leaf)
            event_id = orjson.loads(bytes(state))["event_id"]
            self.q(
                f"UPDATE {self.log} SET leaf_hash=?, root=?, event_id=? WHERE log_index=?",
                (leaf, frontier.root(), event_id, index),
            )
        self.q(
            f"UPDATE {self.head} SET size=?, frontier=?, last_recorded_at=? WHERE id=1",
            (frontier.size, frontier.to_bytes(), last),
        )

    def swap(self, a: int, b: int) -> None:
        """Swap the event columns of two rows (a temporary stream id dodges the primary key)."""
        na, nb = self.nid_at(a), self.nid_at(b)
        cols = "originator_id, originator_version, topic, state"
        (ra,), (rb,) = (
            self.q(f"SELECT {cols} FROM {self.events} WHERE {self.nid}=?", (n,)) for n in (na, nb)
        )
        upd = (
            f"UPDATE {self.events} SET originator_id=?, originator_version=?, topic=?, "
            f"state=? WHERE {self.nid}=?"
        )
        self.q(upd, (self.oid(uuid4()), *ra[1:], na))
        self.q(upd, (*ra, nb))
        self.q(upd, (*rb, na))

    def delete_checkpoints_above(self, size: int) -> None:
        self.q(f"DELETE FROM {self.cps} WHERE size>?", (size,))

    def checkpoint_note(self, size: int) -> str:
        return str(self.q(f"SELECT note FROM {self.cps} WHERE size=?", (size,))[0][0])

    def set_checkpoint_note(self, size: int, note: str) -> None:
        self.q(f"UPDATE {self.cps} SET note=? WHERE size=?", (note, size))


@contextmanager
def tamper(url: str) -> Iterator[RawDB]:
    db = RawDB(url)
    try:
        yield db
        db.conn.commit()
    finally:
        db.conn.close()


# ---------------------------------------------------------------------------- verifying


def open_source(built: Built, export: Path | None = None) -> Source:
    if export is not None:
        return ExportSource(export)
    settings = built.world.settings
    if settings.backend == "sqlite":
        return SQLiteSource(settings.sqlite_path)
    return PostgresSource(
        settings.database_url, schema=settings.eventsourcing_env()["POSTGRES_SCHEMA"]
    )


def run_verify(built: Built, trusted: Path | None = None, export: Path | None = None) -> Report:
    """Verify in-process and with two worker processes over small pages (so keys registered
    in pages still in flight, range reads and page shipping are all exercised); both must
    reach the same verdict."""
    note = trusted.read_text("utf-8") if trusted else None
    reports = []
    for options in (
        VerifyOptions(trusted_checkpoint=note),
        VerifyOptions(trusted_checkpoint=note, workers=2, parallel_threshold=0, page_size=7),
    ):
        source = open_source(built, export)
        try:
            reports.append(verify(source, options))
        finally:
            source.close()
    serial, parallel = reports
    assert serial.ok == parallel.ok
    assert _verdict(serial) == _verdict(parallel), (serial.as_dict(), parallel.as_dict())
    return serial


def _verdict(report: Report) -> tuple[str, int | None] | None:
    first = report.first
    return (first.damage.value, first.index) if first else None


def cli(built: Built, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.tools.cli",
            "--db",
            built.url,
            "--home",
            str(built.home),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def run_cli_verify(
    built: Built, trusted: Path | None = None, export: Path | None = None
) -> tuple[int, dict[str, Any]]:
    args = ["verify", "--json"]
    if trusted is not None:
        args += ["--trusted-checkpoint", str(trusted)]
    if export is not None:
        args += ["--export", str(export)]
    done = cli(built, *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def assert_clean(built: Built, trusted: Path | None = None, export: Path | None = None) -> None:
    report = run_verify(built, trusted, export)
    assert report.ok, [f.as_dict() for f in report.findings]
    code, out = run_cli_verify(built, trusted, export)
    assert code == 0, out
    assert out["ok"] is True
    assert out["first_damage"] is None


def assert_damage(
    built: Built,
    damage: Damage,
    index: int | None,
    *,
    trusted: Path | None = None,
    export: Path | None = None,
) -> Report:
    """Both the function and the CLI name ``damage`` at ``index`` as the FIRST damage."""
    report = run_verify(built, trusted, export)
    first = report.first
    assert first is not None, "the verifier found nothing"
    findings = [f.as_dict() for f in report.findings]
    assert (first.damage, first.index) == (damage, index), findings
    code, out = run_cli_verify(built, trusted, export)
    assert code == 1, out
    assert out["ok"] is False
    assert out["first_damage"]["damage"] == damage.value, out["first_damage"]
    assert out["first_damage"]["index"] == index, out["first_damage"]
    return report


def bump_digit(state: bytes, field_name: str) -> bytes:
    """Change the last digit of an integer field: one byte, still canonical JSON."""
    marker = f'"{field_name}":'.encode()
    start = state.index(marker) + len(marker)
    end = start
    while state[end : end + 1].isdigit():
        end += 1
    digit = state[end - 1] - ord("0")
    edited = state[: end - 1] + str((digit + 1) % 10).encode() + state[end:]
    assert len(edited) == len(state) and edited != state
    return edited


def flip_b64_char(text: str, position: int) -> str:
    """Replace one base64 character mid-string with another valid one."""
    c = text[position]
    assert c not in "=", "must not touch padding"
    return text[:position] + ("B" if c != "B" else "C") + text[position + 1 :]


# ---------------------------------------------------------------------------- the matrix


def test_untampered_ledger_verifies_clean(built: Built) -> None:
    latest = max(built.notes)
    built.close()
    assert_clean(built)
    assert_clean(built, trusted=built.trusted_note(latest))
    report = run_verify(built)
    assert report.size == built.run_index[RUNS - 1] + 1
    with tamper(built.url) as db:
        kept = db.q(f"SELECT size FROM {db.cps}")
    assert {size for (size,) in kept} >= set(built.notes)
    assert report.checkpoints_checked == len(kept)


def test_edited_payload_byte(built: Built) -> None:
    index = built.run_index[12]
    built.close()
    with tamper(built.url) as db:
        db.set_state(index, bump_digit(db.state_at(index), "tree_size"))
    assert_damage(built, Damage.EDITED, index)


def test_edited_signature(built: Built) -> None:
    index = built.run_index[7]
    built.close()
    with tamper(built.url) as db:
        state = db.state_at(index)
        env = orjson.loads(state)
        signature = env["signature"]
        forged_sig = flip_b64_char(signature, 10)
        edited = state.replace(
            f'"signature":"{signature}"'.encode(), f'"signature":"{forged_sig}"'.encode()
        )
        assert edited != state and len(edited) == len(state)
        db.set_state(index, edited)
    assert_damage(built, Damage.EDITED, index)


def test_deleted_event_and_log_row(built: Built) -> None:
    index = built.run_index[15]
    built.close()
    with tamper(built.url) as db:
        nid = db.nid_at(index)
        db.delete_event_row(index)
        db.q(f"DELETE FROM {db.log} WHERE log_index=?", (index,))
        assert not db.q(f"SELECT 1 FROM {db.events} WHERE {db.nid}=?", (nid,))
    assert_damage(built, Damage.DELETED, index)


def test_deleted_event_row_only(built: Built) -> None:
    index = built.run_index[15]
    built.close()
    with tamper(built.url) as db:
        db.delete_event_row(index)
    assert_damage(built, Damage.DELETED, index)


def test_forged_event_from_unregistered_key(built: Built) -> None:
    stranger = EnvelopeSigner(SigningKey.generate(), "verifier-1", "integrity_verifier", "county-a")
    forged = sign_run(stranger, RUNS, built.run_payload(RUNS))
    built.close()
    with tamper(built.url) as db:
        index = db.append_forged(forged)
    assert index == built.run_index[RUNS - 1] + 1
    assert_damage(built, Damage.FORGED, index)


def test_swapped_events(built: Built) -> None:
    a, b = built.run_index[5], built.run_index[9]
    built.close()
    with tamper(built.url) as db:
        db.swap(a, b)
    report = assert_damage(built, Damage.REORDERED, a)
    assert any(f.damage is Damage.REORDERED and f.index == b for f in report.findings)


def test_truncated_tail(built: Built) -> None:
    full = built.size
    assert full in built.notes
    trusted = built.trusted_note(full)
    built.close()
    kept = full - 5
    with tamper(built.url) as db:
        db.delete_log_rows_from(kept)
        db.reseal(kept)
    # The kept checkpoint of the full size still in the table betrays the truncation.
    assert_damage(built, Damage.TRUNCATED, kept)

    with tamper(built.url) as db:
        db.delete_checkpoints_above(kept)
    # Undetectable from the database alone: it is a consistent, shorter ledger.
    assert_clean(built)
    # An auditor's checkpoint, saved before the tampering, is not fooled.
    assert_damage(built, Damage.TRUNCATED, kept, trusted=trusted)


def test_rewritten_tail(built: Built) -> None:
    full = built.size
    trusted = built.trusted_note(full)
    replaced = range(RUNS - 3, RUNS)
    # An insider re-signs the last runs with her own, valid key (e.g. to turn PASS into FAIL).
    rewrites = {
        built.run_index[i]: sign_run(
            built.verifier, i, built.run_payload(i, result="FAIL", findings=1)
        )
        for i in replaced
    }
    built.close()
    first = min(rewrites)
    with tamper(built.url) as db:
        for index, state in rewrites.items():
            db.set_state(index, state)
        # Before resealing, the stale leaves and roots give it away at the first rewritten index.
    assert_damage(built, Damage.EDITED, first)

    with tamper(built.url) as db:
        db.reseal(first)
        db.delete_checkpoints_above(first)
    assert_clean(built)
    # Against the auditor's checkpoint: the history it committed to is gone. One root cannot
    # say where the logs diverge, so the finding carries the checkpoint size, not an index.
    report = assert_damage(built, Damage.REWRITTEN, None, trusted=trusted)
    assert report.first is not None
    assert report.first.evidence["checkpoint_size"] == full


def test_signed_after_revocation(built: Built) -> None:
    world, verifier = built.world, built.verifier
    world.registry_event(
        "SigningKeyRevoked", {"key_id": verifier.key.key_id, "reason": "COMPROMISE"}
    )
    revoked_at = built.size - 1
    late = sign_run(verifier, RUNS, built.run_payload(RUNS))
    # The append path refuses it outright.
    with pytest.raises(SignatureRejectedError) as refused:
        world.service.append(late)
    assert refused.value.evidence.get("reason") == "revoked_key"
    built.close()
    assert_clean(built)
    # The administrator slips it in behind the ledger's back, with consistent bookkeeping.
    with tamper(built.url) as db:
        index = db.append_forged(late)
    assert index == revoked_at + 1
    assert_damage(built, Damage.REVOKED_KEY, index)


@pytest.mark.parametrize("line", ["signature", "root"])
def test_checkpoint_signature(built: Built, line: str) -> None:
    sizes = sorted(built.notes)
    size, other = sizes[2], sizes[3]
    built.close()
    with tamper(built.url) as db:
        note = db.checkpoint_note(size)
        text, _, sig_block = note.partition("\n\n")
        if line == "signature":
            prefix, _, sig = sig_block.rstrip("\n").rpartition(" ")
            edited = f"{text}\n\n{prefix} {flip_b64_char(sig, 20)}\n"
        else:
            lines = text.split("\n")
            lines[2] = db.checkpoint_note(other).split("\n")[2]  # a real root, wrong size
            edited = "\n".join(lines) + "\n\n" + sig_block
        assert edited != note
        db.set_checkpoint_note(size, edited)
    assert_damage(built, Damage.CHECKPOINT_SIGNATURE, size)


# ---------------------------------------------------------------------------- exports


def test_export_tampering(built: Built, tmp_path: Path) -> None:
    built.close()
    clean = tmp_path / "export"
    done = cli(built, "export", str(clean))
    assert done.returncode == 0, done.stderr
    assert_clean(built, export=clean)

    index = built.run_index[11]
    edited = tmp_path / "edited"
    shutil.copytree(clean, edited)
    lines = (edited / "log.jsonl").read_bytes().split(b"\n")
    assert orjson.loads(lines[index])["index"] == index
    lines[index] = bump_digit(lines[index], "tree_size")
    (edited / "log.jsonl").write_bytes(b"\n".join(lines))
    assert_damage(built, Damage.EDITED, index, export=edited)

    deleted = tmp_path / "deleted"
    shutil.copytree(clean, deleted)
    lines = (deleted / "log.jsonl").read_bytes().split(b"\n")
    del lines[index]
    (deleted / "log.jsonl").write_bytes(b"\n".join(lines))
    assert_damage(built, Damage.DELETED, index, export=deleted)
