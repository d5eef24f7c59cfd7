"""The append path and the ledger's own duties: receipts, checkpoints, proofs.

``append(raw)`` is the whole story of DESIGN.md §2 in order:

1. parse and structurally validate the envelope (ENV-0);
2. check its schema (ENV-5);
3. check key, signature and role against the registry (ENV-1, ENV-2) and the registry rules;
4. commit it through the group committer; inside the transaction the recorder re-checks that
   the registry did not change since step 3, that the event id is new (ENV-4) and the stream
   version continues (ENV-3), then assigns index, leaf and root;
5. sign and return the receipt.

A retried envelope whose ``event_id`` is already recorded with identical bytes returns the
original receipt; with different bytes it is refused (ENV-4).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.domain.catalogue import DEFAULT_CATALOGUE, REGISTRY_STREAM, Catalogue, EventSpec
from ledger.domain.model import Rules
from ledger.domain.registry import Registry
from ledger.domain.rules import build_rules
from ledger.errors import (
    ClockSkewError,
    ConcurrencyError,
    DuplicateEventError,
    LedgerError,
    LedgerStateError,
    SchemaError,
)
from ledger.integrity.envelope import Envelope, format_recorded_at, parse_envelope
from ledger.integrity.merkle import DictSubtreeCache, Frontier, consistency_proof, inclusion_proof
from ledger.integrity.note import Checkpoint, sign_note
from ledger.integrity.receipt import Receipt, sign_receipt
from ledger.integrity.signing import SigningKey
from ledger.services.authority import (
    KeyCache,
    apply_registry_event,
    authorize,
    check_permissions,
    check_schema,
    signer_key,
    verify_signature,
)
from ledger.services.committer import GroupCommitter, Pending
from ledger.services.decisions import DecisionEngine
from ledger.store.application import LedgerStore
from ledger.store.records import (
    AppendBatch,
    AppendOutcome,
    LedgerEvent,
    StoredCheckpoint,
    stream_uuid,
)
from ledger.store.tree import StaleRegistryError, StreamGapError

log = logging.getLogger(__name__)

REGISTRY_UUID = stream_uuid(*REGISTRY_STREAM)
_AFTER_EVERYTHING = 2**62
"""A position after every recorded event: 'is this key valid from now on?'."""
_STALE_RETRIES = 20


MAX_CLOCK_SKEW = timedelta(minutes=5)
"""ENV-6: how far ``occurred_at`` may run ahead of the ledger's clock (domain.md §6.4)."""


def check_clock(env: Envelope, now: datetime) -> None:
    """ENV-6: nothing is recorded as having happened after it was recorded (plus the skew).

    ``now`` is taken before the commit, so ``recorded_at`` is at least ``now``. Backdating is
    not refused here: facts are often reported late; AF-BACKDATED reports unusual decisions.
    """
    stated = str(env.fields["occurred_at"])
    occurred = datetime.fromisoformat(stated.replace("Z", "+00:00"))
    if occurred > now + MAX_CLOCK_SKEW:
        raise ClockSkewError(
            f"occurred_at {stated} is more than {MAX_CLOCK_SKEW} after the ledger's "
            f"clock ({format_recorded_at(now)}); check the submitting system's clock",
            occurred_at=stated,
            ledger_time=format_recorded_at(now),
            max_skew_seconds=int(MAX_CLOCK_SKEW.total_seconds()),
        )


@dataclass(frozen=True)
class _Job:
    """One envelope on its way in: what every attempt to commit it needs."""

    env: Envelope
    spec: EventSpec
    stored: bytes
    event: LedgerEvent
    is_registry: bool


@dataclass(frozen=True)
class AppendResult:
    """A receipt, and whether it is the original receipt of an earlier identical append."""

    receipt: Receipt
    duplicate: bool = False


class StoreNodeSource:
    """Leaf hashes for proofs, read from the log table, with a cache of wide subtrees."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self.subtree_cache = DictSubtreeCache()

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return self._store.log.leaf_hashes(start, end)


class LedgerService:
    """One process's handle on a ledger (see module docstring)."""

    def __init__(
        self,
        store: LedgerStore,
        ledger_key: SigningKey | None,
        *,
        catalogue: Catalogue = DEFAULT_CATALOGUE,
        checkpoint_every: int = 1000,
        group_commit_max: int = 256,
        rules: Rules | None = None,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self._ledger_key = ledger_key
        self._checkpoint_every = checkpoint_every
        self._registry = Registry()
        self._registry_lock = threading.Lock()
        self._keys = KeyCache()
        self._nodes = StoreNodeSource(store)
        self._decisions = DecisionEngine(rules or build_rules(), self._registry, catalogue)
        self._decisions_loaded = False
        self._committer = GroupCommitter(
            self._save,
            max_batch=group_commit_max,
            after_commit=self._after_commit,
            screen=self._screen,
            recorded=self.store.log.recorded_event_ids,
        )
        self._last_checkpoint_size = -1
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()
        self.refresh_registry()

    # ------------------------------------------------------------------ registry

    @property
    def registry(self) -> Registry:
        """The registry as of the last refresh (read-only use)."""
        return self._registry

    def refresh_registry(self) -> bool:
        """Fold registry events recorded since the last refresh (by any process); ``True`` if
        there were any."""
        with self._registry_lock:
            entries = self.store.log.stream_entries(REGISTRY_UUID, self._registry.version)
            for entry in entries:
                env = parse_envelope(entry.state)
                apply_registry_event(self._registry, env, entry.index)
            return bool(entries)

    @property
    def origin(self) -> str:
        """The checkpoint origin line (set by ``LedgerInitialised``)."""
        if self._registry.origin is None:
            raise LedgerStateError("the ledger is not initialised (run `ledger init`)")
        return self._registry.origin

    # ------------------------------------------------------------------ append

    def append(self, raw: bytes) -> AppendResult:
        """Validate, authorise, commit and acknowledge one envelope (see module docstring)."""
        return self.append_envelope(parse_envelope(raw))

    def append_envelope(self, env: Envelope) -> AppendResult:
        """:meth:`append` for an already-parsed envelope."""
        job = self._job(env)
        for _ in range(_STALE_RETRIES):
            with self._committer.preparing():
                pending = self._pending(job)
            if isinstance(pending, AppendResult):
                return pending
            self._committer.wait(pending)
            result = self._settle(job, pending)
            if result is not None:
                return result
        raise self._kept_changing(env)

    async def append_async(self, raw: bytes) -> AppendResult:
        """:meth:`append` for an event loop: the checks run in the calling thread, the commit
        and the receipt's signature in the group committer's own thread, awaited without
        blocking the loop (no thread hand-off per request).

        The signature is checked on the loop's thread too: ``cryptography`` releases the GIL
        while it verifies, so the committer thread runs meanwhile. Handing each check to a
        worker pool instead cost more in thread hand-offs than it won in parallelism
        (measured over HTTP with 1 and 2 workers).
        """
        loop = asyncio.get_running_loop()
        job = self._job(parse_envelope(raw))
        for _ in range(_STALE_RETRIES):
            pending = self._pending(job)
            if isinstance(pending, AppendResult):
                return pending
            committed: asyncio.Future[None] = loop.create_future()
            pending.waiter = (loop, committed)
            self._committer.submit(pending)
            await committed
            result = self._settle(job, pending)
            if result is not None:
                return result
        raise self._kept_changing(job.env)

    def _job(self, env: Envelope) -> _Job:
        spec = check_schema(self.catalogue, env)
        check_clock(env, datetime.now(UTC))
        stored = env.canonical_bytes()
        event = LedgerEvent(
            stream_uuid(env.stream_type, env.stream_id),
            env.expected_version + 1,
            env.event_type,
            stored,
            parsed=env,
        )
        return _Job(env, spec, stored, event, spec.stream_type == REGISTRY_STREAM[0])

    def _pending(self, job: _Job) -> Pending | AppendResult:
        """Authorise ``job`` for commit; an identical retry of a recorded event returns its
        original receipt instead."""
        try:
            version = self._authorize(job.env, job.spec)
        except LedgerError:
            # A retry of an event recorded before its key was revoked (or its role
            # withdrawn) still gets its original receipt: it was valid when recorded.
            existing = self.store.log.entry_by_event_id(job.env.event_id)
            if existing is not None and existing.state == job.stored:
                return self._retried(job.env, job.stored)
            raise
        return Pending(job.event, job.env.event_id, version, job.is_registry)

    def _settle(self, job: _Job, pending: Pending) -> AppendResult | None:
        """The receipt of a committed ``pending``; ``None`` if it must be authorised again
        (the registry moved); otherwise the refusal, translated."""
        env = job.env
        try:
            outcome = pending.result()
        except StaleRegistryError:
            self.refresh_registry()
            return None
        except StreamGapError as e:
            raise self._concurrency_error(env, e) from e
        except LedgerError:
            # A business rule refused it: unless it is a retry of an event that was
            # accepted earlier (its own effects now make the rules refuse a second copy).
            if self.store.log.entry_by_event_id(env.event_id) is not None:
                return self._retried(env, job.stored)
            raise
        except IntegrityError as e:
            # The stream-version key is checked before the event id, so a retried
            # envelope lands here too: tell the two apart by the event id.
            if self.store.log.entry_by_event_id(env.event_id) is not None:
                return self._retried(env, job.stored)
            raise self._concurrency_error(env, e) from e
        if job.is_registry:
            self.refresh_registry()
        return AppendResult(pending.receipt or self._receipt(outcome))

    @staticmethod
    def _kept_changing(env: Envelope) -> LedgerStateError:
        msg = "the registry kept changing while this event was being authorised; retry"
        return LedgerStateError(msg, code="ENV-3", event_id=env.event_id)

    def append_batch(self, raws: Sequence[bytes]) -> list[AppendResult]:
        """Append several envelopes of ONE stream atomically: all are recorded, in order and
        contiguously versioned, or none is (the first refusal is raised).

        A retry of a batch that was recorded with identical bytes returns the original
        receipts. Registry events are appended one at a time (each changes what the next may
        do).
        """
        envelopes = [parse_envelope(raw) for raw in raws]
        if not envelopes:
            raise SchemaError("an empty batch", reason="empty_batch")
        first = envelopes[0]
        self._check_batch_shape(envelopes)
        jobs = [self._job(env) for env in envelopes]
        if jobs[0].is_registry:
            raise SchemaError("registry events are appended one at a time", reason="registry_batch")
        stored = [job.stored for job in jobs]
        events = [job.event for job in jobs]
        for _ in range(_STALE_RETRIES):
            try:
                versions = {self._authorize(job.env, job.spec) for job in jobs}
            except LedgerError:
                retried = self._retried_batch(envelopes, stored)
                if retried is not None:
                    return retried
                raise
            if len(versions) != 1:
                self.refresh_registry()
                continue
            self._load_decisions()
            refusal = next((e for e in self._decisions.screen(envelopes) if e is not None), None)
            batch = AppendBatch([env.event_id for env in envelopes], versions.pop())
            try:
                if refusal is not None:
                    raise refusal
                self._save(events, batch)
            except StaleRegistryError:
                self.refresh_registry()
                continue
            except StreamGapError as e:
                raise self._concurrency_error(first, e) from e
            except (IntegrityError, LedgerError) as e:
                retried = self._retried_batch(envelopes, stored)
                if retried is not None:
                    return retried
                if isinstance(e, LedgerError):
                    raise
                raise self._concurrency_error(first, e) from e
            receipts = batch.receipts or [self._receipt(o) for o in batch.outcomes]
            return [AppendResult(receipt) for receipt in receipts]
        msg = "the registry kept changing while this batch was being authorised; retry"
        raise LedgerStateError(msg, code="ENV-3", event_id=first.event_id)

    @staticmethod
    def _check_batch_shape(envelopes: Sequence[Envelope]) -> None:
        first = envelopes[0]
        for offset, env in enumerate(envelopes):
            if (env.stream_type, env.stream_id) != (first.stream_type, first.stream_id):
                raise SchemaError(
                    "a batch is for one stream; envelope "
                    f"{offset} is for {env.stream_type}/{env.stream_id}",
                    reason="mixed_streams",
                    index=offset,
                )
            if env.expected_version != first.expected_version + offset:
                # Within a batch each event follows the previous one: a gap or a repeat is
                # the same conflict as a stale expected_version (ENV-3).
                raise ConcurrencyError(
                    f"envelope {offset} of the batch must expect version "
                    f"{first.expected_version + offset}, not {env.expected_version}",
                    stream_type=env.stream_type,
                    stream_id=env.stream_id,
                    expected_version=env.expected_version,
                    index=offset,
                )
        ids = [env.event_id for env in envelopes]
        if len(set(ids)) != len(ids):
            raise SchemaError("an event id appears twice in the batch", reason="repeated_event_id")

    def _retried_batch(
        self, envelopes: Sequence[Envelope], stored: Sequence[bytes]
    ) -> list[AppendResult] | None:
        """The original receipts if every envelope is already recorded identically; raises
        ENV-4 if any is recorded with other content; ``None`` if none is recorded."""
        found = [self.store.log.entry_by_event_id(env.event_id) for env in envelopes]
        if all(entry is None for entry in found):
            return None
        results = []
        for env, data, entry in zip(envelopes, stored, found, strict=True):
            if entry is None or entry.state != data:
                raise DuplicateEventError(
                    f"event id {env.event_id} of this batch is recorded with other content, or "
                    "the batch was only partly recorded before",
                    event_id=env.event_id,
                    recorded_index=None if entry is None else entry.index,
                )
            results.append(AppendResult(self.receipt_for_index(entry.index), duplicate=True))
        return results

    def group_commit_stats(self) -> tuple[int, int]:
        """(transactions, events) committed by this process: events/transactions is the
        mean group size."""
        return self._committer.transactions, self._committer.events

    def _authorize(self, env: Envelope, spec: Any) -> int:
        """Authorise against this process's registry; the registry version it used.

        An acceptance is re-checked inside the transaction (the registry version must not
        have moved). A refusal may come from a stale registry (another process registered the
        key or role a moment ago), so it is confirmed against a refreshed registry first.
        """
        try:
            return self._authorize_once(env, spec)
        except LedgerError:
            if not self.refresh_registry():
                raise
        return self._authorize_once(env, spec)

    def _authorize_once(self, env: Envelope, spec: Any) -> int:
        if env.event_type == "LedgerInitialised":
            with self._registry_lock:
                authorize(self._registry, self._keys, env, spec, self.store.log.head().size)
                return self._registry.version
        with self._registry_lock:
            version = self._registry.version
            key = signer_key(self._registry, self._keys, env, _AFTER_EVERYTHING)
        # The slow part runs outside the lock. Should the registry change meanwhile, the
        # version returned is stale and the recorder refuses the commit (then we re-check).
        verify_signature(key, env)
        with self._registry_lock:
            check_permissions(self._registry, env, spec, _AFTER_EVERYTHING)
        return version

    def _save(self, events: list[LedgerEvent], batch: AppendBatch) -> None:
        envelopes = [e.parsed for e in events]
        decisions = self._decisions
        self._load_decisions()
        batch.before_write = lambda size, read: decisions.decide_in_transaction(
            envelopes, size, read
        )
        try:
            self.store.append(events, batch)
        except BaseException:
            decisions.abandoned()
            raise
        decisions.committed(batch.outcomes[-1].tree_size)
        if self._ledger_key is not None and self._registry.origin is not None:
            # Signed here, in the committer's thread (libcrypto releases the GIL), so that
            # the threads serving requests only hand the receipts out.
            batch.receipts = [self._receipt(outcome) for outcome in batch.outcomes]

    # ------------------------------------------------------------------ business rules

    @property
    def decisions(self) -> DecisionEngine:
        """The business state as of the last commit by this process (read-only use)."""
        return self._decisions

    def _load_decisions(self) -> None:
        """Fold the whole log into the business state, once (the first append pays)."""
        if not self._decisions_loaded:
            self._decisions.catch_up_from(self.store.log.entries, self.store.log.head().size)
            self._decisions_loaded = True

    def _screen(self, batch: Sequence[Pending]) -> list[BaseException | None]:
        """Pre-check a batch against the business state (see services/decisions.py).

        The state may lag another process's commits, so a refusal is only reported after
        catching up with the log and screening again.
        """
        self._load_decisions()
        envelopes = [p.event.parsed for p in batch]
        errors = self._decisions.screen(envelopes)
        if any(errors):
            self._decisions.catch_up_from(self.store.log.entries, self.store.log.head().size)
            errors = self._decisions.screen(envelopes)
        return errors

    def _retried(self, env: Envelope, stored: bytes) -> AppendResult:
        entry = self.store.log.entry_by_event_id(env.event_id)
        assert entry is not None
        if entry.state != stored:
            raise DuplicateEventError(
                f"event id {env.event_id} is already recorded at log index {entry.index} with "
                "different content",
                event_id=env.event_id,
                recorded_index=entry.index,
            )
        return AppendResult(self.receipt_for_index(entry.index), duplicate=True)

    def _concurrency_error(self, env: Envelope, cause: Exception) -> ConcurrencyError:
        current = self.store.log.stream_version(stream_uuid(env.stream_type, env.stream_id))
        return ConcurrencyError(
            f"stream {env.stream_type}/{env.stream_id} has {current} event(s); the envelope "
            f"expected {env.expected_version}",
            stream_type=env.stream_type,
            stream_id=env.stream_id,
            expected_version=env.expected_version,
            current_version=current,
            cause=str(cause),
        )

    # ------------------------------------------------------------------ receipts

    def _require_key(self) -> SigningKey:
        if self._ledger_key is None:
            raise LedgerStateError("this process has no ledger key: it cannot sign")
        return self._ledger_key

    def _receipt(self, outcome: AppendOutcome) -> Receipt:
        assert outcome.event_id is not None
        return sign_receipt(
            self._require_key(),
            origin=self.origin,
            event_id=outcome.event_id,
            index=outcome.index,
            recorded_at=outcome.recorded_at,
            leaf_hash=outcome.leaf_hash,
            tree_size=outcome.tree_size,
            root_hash=outcome.root,
        )

    def receipt_for_index(self, index: int) -> Receipt:
        """Re-issue the receipt of the event at ``index`` (identical to the original)."""
        entry = self.store.log.entry_at(index)
        if entry is None or entry.event_id is None:
            raise LedgerStateError(f"no event at log index {index}", code="NOT_FOUND", index=index)
        return self._receipt(
            AppendOutcome(
                entry.event_id,
                entry.index,
                entry.recorded_at,
                entry.leaf_hash,
                entry.index + 1,
                entry.root,
            )
        )

    # ------------------------------------------------------------------ checkpoints

    def issue_checkpoint(self, *, force: bool = False) -> StoredCheckpoint | None:
        """Sign a C2SP checkpoint of the current tree; ``None`` if nothing new (unless forced).

        Every checkpoint is kept. Forcing at an already-checkpointed size returns the kept one.
        """
        head = self.store.log.head()
        latest = self.store.log.latest_checkpoint()
        if latest is not None and latest.size >= head.size and not force:
            return None
        existing = self.store.log.checkpoint_at(head.size)
        if existing is not None:
            return existing
        root = Frontier.from_bytes(head.frontier).root()
        key = self._require_key()
        text = Checkpoint(self.origin, head.size, root).to_text()
        note = sign_note(text, self.origin, key.sign, key.public.raw)
        stored = StoredCheckpoint(head.size, root, format_recorded_at(datetime.now(UTC)), note)
        self.store.log.insert_checkpoint(stored)
        self._last_checkpoint_size = head.size
        return self.store.log.checkpoint_at(head.size) or stored

    def _after_commit(self, tree_size: int) -> None:
        if self._ledger_key is None or self._registry.origin is None:
            return
        if self._last_checkpoint_size < 0:
            latest = self.store.log.latest_checkpoint()
            self._last_checkpoint_size = latest.size if latest else 0
        if tree_size - self._last_checkpoint_size >= self._checkpoint_every:
            try:
                self.issue_checkpoint()
            except Exception:  # the events are committed; a checkpoint is retried next time
                log.exception("could not issue a checkpoint at size %d", tree_size)

    def start_checkpoint_timer(self, seconds: float) -> None:
        """Issue a checkpoint every ``seconds`` while new events arrive (daemon thread)."""

        def tick() -> None:
            while not self._stop.wait(seconds):
                try:
                    self.issue_checkpoint()
                except Exception:
                    log.exception("timed checkpoint failed")

        self._timer = threading.Thread(target=tick, name="checkpoint-timer", daemon=True)
        self._timer.start()

    # ------------------------------------------------------------------ proofs

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of the leaf at ``index`` in the tree of ``tree_size``."""
        self._check_size(tree_size)
        return inclusion_proof(index, tree_size, self._nodes)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 consistency proof from ``old_size`` to ``new_size``."""
        self._check_size(new_size)
        return consistency_proof(old_size, new_size, self._nodes)

    def _check_size(self, tree_size: int) -> None:
        size = self.store.log.head().size
        if not 0 <= tree_size <= size:
            raise LedgerStateError(
                f"tree size {tree_size} is beyond the log ({size} events)",
                code="NOT_FOUND",
                tree_size=tree_size,
                log_size=size,
            )

    def close(self) -> None:
        """Stop the timer and close the store."""
        self._stop.set()
        self.store.close()
