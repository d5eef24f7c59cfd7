"""The verification engine: sequential checks over per-record results from worker processes.

For every log position in order it checks (domain.md §8):

* V1 — log indexes run 0, 1, 2, … with no gap; every event row has a log row; notification
  ids increase with the index; each stream's versions run 1, 2, 3, … (a sorted SQL pass);
* V2 — the stored envelope is canonical, its stored leaf hash and the root after it equal
  what we recompute; the head row agrees with the log;
* V3 — the signature verifies with the key the registry held *at that position*, the key was
  not revoked before it, is bound to the actor, and the actor held the role (V13);
* V4/V5 — every kept checkpoint's signature verifies with the ledger key from genesis (or a
  pinned verifier key) and its root equals the recomputed root at its size; a trusted
  checkpoint held outside the database detects truncation and rewritten history;
* V6 — ``recorded_at`` never decreases.

The first finding of each kind names the first affected log index.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from multiprocessing import get_context
from typing import Any

import orjson

from ledger.domain.catalogue import DEFAULT_CATALOGUE, REGISTRY_STREAM, Catalogue
from ledger.domain.registry import Registry
from ledger.errors import LedgerError, SchemaError
from ledger.integrity.envelope import envelope_from_object
from ledger.integrity.merkle import Frontier
from ledger.integrity.note import (
    Checkpoint,
    NoteError,
    NoteVerifier,
    open_note,
    parse_verifier_key,
)
from ledger.integrity.signing import VerifyKey, b64decode_strict, key_id_for
from ledger.verification.records import (
    INDEX,
    NOTIFICATION_ID,
    RECORDED_AT,
    STORED_LEAF,
    Checked,
    Intact,
    PageResult,
    RawRow,
    Signer,
    check_page,
    check_range,
    harvest_keys,
)
from ledger.verification.sources import PAGE, Source, SourceCheckpoint, WorkerSpec


class Damage(StrEnum):
    """Kinds of damage the verifier names."""

    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    REWRITTEN = "rewritten"
    FORGED = "forged"
    REVOKED_KEY = "signed_after_revocation"
    UNAUTHORISED = "unauthorised"
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    CLOCK = "clock"
    MALFORMED = "malformed"
    INVARIANT_BYPASS = "invariant_bypass"
    """V8: an accepted event that the rules in force at its position refuse."""
    PROJECTION_MISMATCH = "projection_mismatch"
    """V9: a stored read model whose state hash differs from a rebuild from zero."""
    FORMULA_MISMATCH = "formula_mismatch"
    """V10: a recorded score, standard or ranking that does not equal its recomputation."""
    UNREPRODUCIBLE_SAMPLE = "unreproducible_sample"
    """V11: a spot-check sample that its seed and algorithm do not draw."""


@dataclass(frozen=True)
class Finding:
    """One piece of damage: its kind, the first affected log index and what was seen."""

    damage: Damage
    index: int | None
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "damage": self.damage.value,
            "index": self.index,
            "detail": self.detail,
            "evidence": self.evidence,
        }


@dataclass
class Report:
    """The outcome of a verification run."""

    source: str
    size: int = 0
    root: bytes = b""
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The finding with the smallest log index (unindexed ones last)."""
        if not self.findings:
            return None
        return min(self.findings, key=lambda f: (f.index is None, f.index or 0))

    def as_dict(self) -> dict[str, Any]:
        from ledger.integrity.signing import b64encode

        first = self.first
        return {
            "ok": self.ok,
            "source": self.source,
            "size": self.size,
            "root_hash": b64encode(self.root) if self.root else None,
            "checkpoints_checked": self.checkpoints_checked,
            "first_damage": first.as_dict() if first else None,
            "findings": [
                f.as_dict()
                for f in sorted(self.findings, key=lambda f: (f.index is None, f.index or 0))
            ],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class VerifyOptions:
    """Knobs for :func:`verify`."""

    trusted_checkpoint: str | None = None
    """A checkpoint note an auditor kept outside the ledger."""
    verifier_key: str | None = None
    """Pin the ledger's C2SP verifier key instead of trusting the genesis event."""
    workers: int = 0
    """Worker processes for signatures; 0 = one per core."""
    parallel_threshold: int = 4000
    """Below this many events, verify in-process (worker start-up would cost more)."""
    page_size: int = PAGE
    progress: Callable[[int, int], None] | None = None
    max_findings: int = 100
    catalogue: Catalogue = DEFAULT_CATALOGUE


class _Run:
    """State of one verification pass (sequential part)."""

    def __init__(self, source: Source, options: VerifyOptions) -> None:
        self.source = source
        self.options = options
        self.report = Report(source.describe())
        self.registry = Registry()
        self.frontier = Frontier()
        self.stored_frontier = Frontier()
        self.authorised: set[tuple[str, tuple[str, str, str], str, int]] = set()
        """Signer/role/type combinations already found valid since the last registry change."""
        self.keys: dict[str, VerifyKey] = {}
        self.new_keys: dict[str, VerifyKey] = {}
        self.last_recorded_at = ""
        self.last_notification_id = -1
        self.kinds_seen: set[Damage] = set()
        self.roots_at: dict[int, bytes] = {}
        self.wanted_sizes: set[int] = set()

    def add(self, damage: Damage, index: int | None, detail: str, **evidence: Any) -> None:
        # Keep the first finding of each kind, plus a bounded number of others.
        if damage in self.kinds_seen and len(self.report.findings) >= self.options.max_findings:
            return
        self.kinds_seen.add(damage)
        self.report.findings.append(Finding(damage, index, detail, evidence))


def verify(source: Source, options: VerifyOptions | None = None) -> Report:
    """Verify ``source`` completely; never raises for damaged data (it is reported)."""
    options = options or VerifyOptions()
    run = _Run(source, options)
    started = time.perf_counter()
    checkpoints = source.checkpoints()
    trusted = _parse_trusted(run, options.trusted_checkpoint)
    run.wanted_sizes = {c.size for c in checkpoints} | ({trusted.size} if trusted else set())
    _scan_log(run)
    run.report.root = run.frontier.root()
    _check_orphans(run)
    _check_streams(run)
    _check_head(run)
    verifier = _ledger_verifier(run)
    _check_checkpoints(run, checkpoints, verifier)
    if trusted is not None:
        _check_trusted(run, trusted)
    run.report.seconds = time.perf_counter() - started
    return run.report


# ---------------------------------------------------------------------------- the log scan


def _scan_log(run: _Run) -> None:
    total = run.source.approximate_size()
    workers = run.options.workers or (os.cpu_count() or 1)
    spec = run.source.worker_spec()
    if workers <= 1 or total < run.options.parallel_threshold:
        for page in run.source.pages(run.options.page_size):
            frontier = run.stored_frontier.to_bytes()
            _extend_stored_frontier(run, page)
            harvest_keys(page, run.keys)
            _consume(run, page, check_page(page, run.keys, frontier))
            _progress(run, total)
        return
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        batches = _by_range(run, pool, spec) if spec else _by_page(run, pool)
        for rows, checked in _in_order(batches, depth=workers * 2):
            _consume(run, rows, checked.result())
            _progress(run, total)


Batch = tuple[Sequence[Any], "Future[PageResult]"]


def _by_range(run: _Run, pool: ProcessPoolExecutor, spec: WorkerSpec) -> Iterator[Batch]:
    """Database sources: the main process reads only the narrow log rows; each worker reads
    the full rows of its index range through its own connection."""
    harvest_keys(run.source.registry_rows(), run.keys)
    for narrow in run.source.narrow_pages(run.options.page_size):
        frontier = run.stored_frontier.to_bytes()
        _extend_stored_frontier(run, narrow)
        start, end = narrow[0][INDEX], narrow[-1][INDEX] + 1
        yield narrow, pool.submit(check_range, spec, start, end, dict(run.keys), frontier)


def _by_page(run: _Run, pool: ProcessPoolExecutor) -> Iterator[Batch]:
    """Exports: the main process reads the lines and ships them with the keys seen so far."""
    for page in run.source.pages(run.options.page_size):
        frontier = run.stored_frontier.to_bytes()
        _extend_stored_frontier(run, page)
        harvest_keys(page, run.keys)
        yield page, pool.submit(check_page, page, dict(run.keys), frontier)


def _in_order(batches: Iterator[Batch], depth: int) -> Iterator[Batch]:
    """Keep ``depth`` batches in flight, yielding them in log order (bounded memory)."""
    in_flight: list[Batch] = []
    for batch in batches:
        in_flight.append(batch)
        if len(in_flight) >= depth:
            yield in_flight.pop(0)
    yield from in_flight


def _extend_stored_frontier(run: _Run, rows: Sequence[Any]) -> None:
    """The tree of the *stored* leaf hashes, so workers can check stored roots page by page.

    Appending is cheap; roots are computed by the workers. A stored leaf that differs from
    the recomputed one is reported separately, so using stored leaves here loses nothing.
    """
    for row in rows:
        stored = row[STORED_LEAF]
        if stored is not None:
            run.stored_frontier.append(stored)


def _progress(run: _Run, total: int) -> None:
    if run.options.progress is not None:
        run.options.progress(run.frontier.size, total)


def _consume(run: _Run, page: Sequence[RawRow], answer: PageResult) -> None:
    frontier, signers = run.frontier, answer.signers
    for row, item in zip(page, answer.items, strict=True):
        _check_position(run, row)
        if not isinstance(item, Checked):
            # An intact row: only the sequential checks are left (authority, tree).
            signer = signers[item[2]]
            if signer not in run.authorised:
                _check_authority(run, item[0], _expand(item, signer))
            if item[0] == frontier.size:
                frontier.append(item[1])
                if frontier.size in run.wanted_sizes:
                    run.roots_at[frontier.size] = frontier.root()
            continue
        result = item
        _check_record_result(run, row, result)
        if not result.root_ok:
            run.add(
                Damage.EDITED,
                result.log_index,
                "the stored tree root after this event does not match the recomputed root",
            )
        if result.leaf_hash is not None and result.log_index == frontier.size:
            # The authoritative tree, from recomputed leaves. Roots only where a checkpoint
            # needs one: computing every root here would cost the main process O(log n).
            frontier.append(result.leaf_hash)
            if frontier.size in run.wanted_sizes:
                run.roots_at[frontier.size] = frontier.root()
    run.report.size = frontier.size


def _expand(item: Intact, signer: Signer) -> Checked:
    key_id, actor, event_type, schema_version = signer
    return Checked(
        item[0],
        item[1],
        None,
        None,
        True,
        True,
        event_type,
        schema_version,
        key_id,
        actor,
        ("", "", 0),
        item[3],
        None,
    )


def _check_position(run: _Run, row: RawRow) -> None:
    index, notification_id, recorded_at = row[INDEX], row[NOTIFICATION_ID], row[RECORDED_AT]
    expected = run.frontier.size
    if index > expected:
        run.add(
            Damage.DELETED,
            expected,
            f"log index {expected} is missing (next stored index is {index})",
            missing_from=expected,
            next_index=index,
        )
    elif index < expected:
        run.add(Damage.INSERTED, index, f"log index {index} appears twice")
    if notification_id is not None:
        if notification_id <= run.last_notification_id:
            run.add(
                Damage.REORDERED,
                index,
                "events are not in commit order (notification ids decrease)",
                notification_id=notification_id,
            )
        run.last_notification_id = notification_id
    if recorded_at:
        if recorded_at < run.last_recorded_at:
            run.add(
                Damage.CLOCK,
                index,
                "recorded_at goes backwards",
                recorded_at=recorded_at,
                previous=run.last_recorded_at,
            )
        else:
            run.last_recorded_at = recorded_at


def _check_record_result(run: _Run, row: RawRow, result: Checked) -> None:
    index = row[INDEX]
    if result.problem_kind == "deleted":
        run.add(Damage.DELETED, index, result.problem or "event missing")
        return
    if result.problem is not None and result.event_type == "":
        run.add(Damage.EDITED, index, result.problem)
        return
    if result.problem is not None:
        kind = Damage.REORDERED if _moved(run, index, result) else Damage.EDITED
        run.add(kind, index, result.problem, event_id=result.event_id)
    _check_authority(run, index, result)


def _moved(run: _Run, index: int, result: Checked) -> bool:
    """An authentic envelope out of place was *moved* only if the log records its event id at
    another position; a validly signed envelope the log never recorded elsewhere (an insider
    re-signing an event in place) was substituted, i.e. edited."""
    if result.problem_kind != "reordered":
        return False
    logged_at = run.source.log_index_of(result.event_id)
    return logged_at is not None and logged_at != index


def _check_authority(run: _Run, index: int, result: Checked) -> None:
    """V3/V13 with the registry as of ``index``, then fold registry events."""
    cache_key = (result.key_id, result.actor, result.event_type, result.schema_version)
    if result.signature_ok is True and result.payload is None and cache_key in run.authorised:
        return  # same signer, role and type as an earlier event, and the registry is unchanged
    try:
        spec = run.options.catalogue.spec(result.event_type, result.schema_version)
    except SchemaError as e:
        run.add(Damage.MALFORMED, index, e.detail, event_id=result.event_id)
        return
    if result.event_type == "LedgerInitialised":
        _genesis(run, index, result)
        return
    actor_id, role, org_id = result.actor
    try:
        run.registry.check_key(result.key_id, actor_id, index)
    except LedgerError as e:
        reason = e.evidence.get("reason")
        damage = {"unknown_key": Damage.FORGED, "revoked_key": Damage.REVOKED_KEY}.get(
            str(reason), Damage.UNAUTHORISED
        )
        run.add(damage, index, e.detail, event_id=result.event_id, key_id=result.key_id)
        return
    signature_ok = result.signature_ok
    if signature_ok is None:
        signature_ok = _verify_in_main(run, index, result.key_id)
    if signature_ok is not True:
        run.add(
            Damage.EDITED,
            index,
            "the envelope signature does not verify (content or signature altered)",
            event_id=result.event_id,
            key_id=result.key_id,
        )
        return
    try:
        run.registry.check_role(actor_id, role, org_id, spec)
    except LedgerError as e:
        run.add(Damage.UNAUTHORISED, index, e.detail, event_id=result.event_id)
        return
    if result.payload is not None and result.stream[:2] == REGISTRY_STREAM:
        _fold_registry(run, index, result)
    else:
        run.authorised.add(cache_key)


def _learn_keys(run: _Run, payload: Mapping[str, Any]) -> None:
    """Send keys registered so far to the workers with the next batches."""
    for name in ("public_key", "admin_public_key", "ledger_public_key"):
        value = payload.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                key = VerifyKey.from_b64(value)
                run.keys.setdefault(key.key_id, key)


def _verify_in_main(run: _Run, index: int, key_id: str) -> bool:
    """Check a signature the worker could not: its key was registered in a page that was
    still in flight when this page was sent (rare: only just after a key registration)."""
    record = run.registry.keys.get(key_id)
    state = run.source.state_at(index)
    if record is None or state is None:
        return False
    try:
        env = envelope_from_object(orjson.loads(state))
        key = run.keys.get(key_id) or VerifyKey.from_b64(record.public_key)
    except (LedgerError, ValueError):
        return False
    run.keys.setdefault(key_id, key)
    return key.verify(env.signature, env.signing_bytes())


def _genesis(run: _Run, index: int, result: Checked) -> None:
    payload = result.payload or {}
    if index != 0:
        run.add(Damage.FORGED, index, "LedgerInitialised appears after the first position")
        return
    try:
        admin_key = VerifyKey.from_b64(str(payload.get("admin_public_key")))
    except ValueError:
        run.add(Damage.EDITED, index, "the genesis event carries no valid administrator key")
        return
    if result.key_id != admin_key.key_id or result.signature_ok is not True:
        run.add(Damage.EDITED, index, "the genesis event is not signed by its administrator key")
        return
    _fold_registry(run, index, result)


def genesis_key_ids(payload: Mapping[str, Any]) -> dict[str, str]:
    """Key ids of the public keys a genesis payload carries (the domain does not hash)."""
    derived = {}
    for name in ("ledger_public_key", "admin_public_key"):
        value = payload.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # an invalid key is reported by the fold
                derived[value] = key_id_for(b64decode_strict(value))
    return derived


def _fold_registry(run: _Run, index: int, result: Checked) -> None:
    payload = result.payload or {}
    try:
        run.registry.decide(result.event_type, payload, index)
        run.registry.apply(
            result.event_type, payload, index, derived_key_ids=genesis_key_ids(payload)
        )
        run.authorised.clear()
        _learn_keys(run, payload)
    except (LedgerError, KeyError) as e:
        run.add(Damage.UNAUTHORISED, index, f"registry event breaks a registry rule: {e}")


# ---------------------------------------------------------------------------- other passes


def _check_orphans(run: _Run) -> None:
    for orphan in run.source.orphans():
        run.add(
            Damage.INSERTED,
            orphan.first_affected_index,
            f"event row with notification id {orphan.notification_id} has no log entry",
            notification_id=orphan.notification_id,
        )


def _check_streams(run: _Run) -> None:
    versions = run.source.stream_versions_sorted()
    if versions is None:
        return
    last_stream, last_version = None, 0
    for stream, version in versions:
        expected = last_version + 1 if stream == last_stream else 1
        if version != expected:
            run.add(
                Damage.DELETED,
                None,
                f"stream {stream} jumps from version {expected - 1} to {version}",
                stream=str(stream),
                missing_version=expected,
            )
        last_stream, last_version = stream, version


def _check_head(run: _Run) -> None:
    head = run.source.head()
    if head is None:
        return
    size = run.frontier.size
    if head.size > size:
        run.add(
            Damage.TRUNCATED,
            size,
            f"the head records {head.size} events but only {size} are in the log",
            head_size=head.size,
            log_size=size,
        )
    elif head.size < size:
        run.add(
            Damage.INSERTED,
            head.size,
            f"the log holds {size} events but the head records {head.size}",
        )
    elif Frontier.from_bytes(head.frontier).root() != run.frontier.root():
        run.add(Damage.EDITED, None, "the head's Merkle frontier does not match the log")


def _ledger_verifier(run: _Run) -> NoteVerifier | None:
    if run.options.verifier_key:
        return parse_verifier_key(run.options.verifier_key)
    if run.registry.origin is None or run.registry.ledger_public_key is None:
        return None
    return NoteVerifier.from_public_key(
        run.registry.origin, b64decode_strict(run.registry.ledger_public_key)
    )


def _check_checkpoints(
    run: _Run, checkpoints: Sequence[SourceCheckpoint], verifier: NoteVerifier | None
) -> None:
    for kept in checkpoints:
        checkpoint = _open_checkpoint(run, kept.note, verifier, kept.size)
        if checkpoint is None:
            continue
        run.report.checkpoints_checked += 1
        _compare(run, checkpoint, "kept checkpoint")


def _open_checkpoint(
    run: _Run, note: str, verifier: NoteVerifier | None, claimed: int | None
) -> Checkpoint | None:
    if verifier is None:
        run.add(
            Damage.CHECKPOINT_SIGNATURE,
            claimed,
            "no ledger key to verify checkpoints with (genesis missing or damaged)",
        )
        return None
    try:
        opened = open_note(note, [verifier])
        checkpoint = Checkpoint.parse(opened.text)
    except NoteError as e:
        run.add(
            Damage.CHECKPOINT_SIGNATURE,
            claimed,
            f"checkpoint of size {claimed} does not verify: {e}",
        )
        return None
    if claimed is not None and checkpoint.size != claimed:
        run.add(
            Damage.EDITED,
            None,
            f"checkpoint stored under size {claimed} is signed for size {checkpoint.size}",
        )
    if checkpoint.origin != verifier.name:
        run.add(
            Damage.CHECKPOINT_SIGNATURE,
            checkpoint.size,
            f"checkpoint origin {checkpoint.origin!r} is not this ledger's",
        )
    return checkpoint


def _compare(run: _Run, checkpoint: Checkpoint, what: str) -> None:
    size = run.frontier.size
    if checkpoint.size > size:
        run.add(
            Damage.TRUNCATED,
            size,
            f"a {what} covers {checkpoint.size} events but the log has only {size}",
            checkpoint_size=checkpoint.size,
            log_size=size,
        )
        return
    root = EMPTY if checkpoint.size == 0 else run.roots_at.get(checkpoint.size)
    if root != checkpoint.root_hash:
        run.add(
            Damage.REWRITTEN,
            None,
            f"the log's first {checkpoint.size} events do not match the {what} of that size "
            "(history was rewritten)",
            checkpoint_size=checkpoint.size,
        )


EMPTY = Frontier().root()


def _parse_trusted(run: _Run, note: str | None) -> Checkpoint | None:
    if note is None:
        return None
    try:
        from ledger.integrity.note import parse_note

        return Checkpoint.parse(parse_note(note).text)
    except NoteError as e:
        run.add(Damage.MALFORMED, None, f"the trusted checkpoint cannot be read: {e}")
        return None


def _check_trusted(run: _Run, trusted: Checkpoint) -> None:
    verifier = _ledger_verifier(run)
    # Verify the trusted note against the pinned key, or the ledger key from genesis; a
    # rewritten genesis with another key fails here too.
    note = run.options.trusted_checkpoint or ""
    if _open_checkpoint(run, note, verifier, trusted.size) is not None:
        run.report.checkpoints_checked += 1
        _compare(run, trusted, "trusted checkpoint")


def print_progress(done: int, total: int) -> None:
    """A one-line progress indicator for terminals."""
    if sys.stderr.isatty():
        pct = 100 * done / total if total else 100.0
        sys.stderr.write(f"\rverified {done:,}/{total:,} events ({pct:5.1f}%)")
        sys.stderr.flush()
