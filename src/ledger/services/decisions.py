"""Business decisions on the append path: the domain rules, run where they cannot be raced.

A decision is only as good as the state it was taken against. Two processes approving
payments from the same fund must never both see the same balance, so the rules run **inside
the write transaction**, after the store has taken its write lock and read the head:

1. catch up: fold every committed entry this process has not seen yet (written by another
   process, or by this one) into :class:`~ledger.domain.model.DomainState`, read through the
   writing transaction itself;
2. decide each event of the batch in order, applying each accepted one so that the next sees
   it (a batch of an approval and a second approval of the same money fails the second);
3. if the transaction commits, keep the changes; if anything fails, undo them exactly.

Before the transaction, the leader *screens* the batch against the same state so that an
ordinary refusal (the usual case: a clerk's mistake) fails alone without rolling back its
neighbours' transaction. Screening is advisory; the in-transaction decision is the one that
counts.

Only event types that have rules are decoded; the rest only advance the position.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ledger.domain.catalogue import Catalogue
from ledger.domain.model import DomainEvent, DomainState, Rules
from ledger.domain.registry import Registry
from ledger.integrity.envelope import Envelope
from ledger.store.records import TOPIC_PREFIX, EntryReader, LogEntry

_PAGE = 5000


class RegistryDirectory:
    """The :class:`~ledger.domain.model.Directory` view of the key/actor/organisation registry."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def org_exists(self, org_id: str) -> bool:
        return org_id in self._registry.organisations

    def org_kind(self, org_id: str) -> str | None:
        org = self._registry.organisations.get(org_id)
        return None if org is None else org.kind

    def org_parent(self, org_id: str) -> str | None:
        org = self._registry.organisations.get(org_id)
        return None if org is None else org.parent_org_id

    def is_within(self, org_id: str, ancestor_id: str) -> bool:
        return org_id == ancestor_id or ancestor_id in self._registry.ancestors(org_id)

    def actor_org(self, actor_id: str) -> str | None:
        actor = self._registry.actors.get(actor_id)
        return None if actor is None else actor.org_id

    def actor_person(self, actor_id: str) -> str:
        actor = self._registry.actors.get(actor_id)
        if actor is None or actor.person_ref is None:
            return actor_id
        return actor.person_ref


def domain_event(fields: dict[str, Any] | Any, position: int) -> DomainEvent:
    """The rules' view of an envelope's fields, as recorded (or to be recorded) at
    ``position``."""
    actor = fields["actor"]
    return DomainEvent(
        event_id=fields["event_id"],
        event_type=fields["event_type"],
        stream_type=fields["stream_type"],
        stream_id=fields["stream_id"],
        version=fields["expected_version"] + 1,
        position=position,
        occurred_at=datetime.fromisoformat(fields["occurred_at"].replace("Z", "+00:00")),
        actor_id=actor["actor_id"],
        role=actor["role"],
        org_id=actor["org_id"],
        payload=fields["payload"],
        causation_id=fields["causation_id"],
        correlation_id=fields["correlation_id"],
    )


@dataclass(frozen=True)
class Candidate:
    """An event of a batch as the decision engine sees it."""

    envelope: Envelope
    stream_key: tuple[str, str]


class DecisionEngine:
    """Holds this process's :class:`DomainState` and runs the rules (see module docstring).

    Thread safety: the group committer has one leader at a time per process, and only the
    leader calls :meth:`screen` and :meth:`decide_in_transaction`; the lock also keeps
    :meth:`catch_up_from` (used on start-up and by read-side callers) out of their way.
    """

    def __init__(self, rules: Rules, registry: Registry, catalogue: Catalogue) -> None:
        self.rules = rules
        ruled_streams = {
            spec.stream_type for spec in catalogue.specs() if rules.handles(spec.event_type)
        }
        self._tracked = frozenset(
            spec.event_type for spec in catalogue.specs() if spec.stream_type in ruled_streams
        )
        """Event types on streams that have rules: their versions are tracked (a fact on an
        application stream moves its version as much as a decision does)."""
        self.state = DomainState()
        self.directory = RegistryDirectory(registry)
        self.lock = threading.RLock()
        self._streams: dict[tuple[str, str], int] = {}
        self._pending_streams: dict[tuple[str, str], int] = {}

    # ------------------------------------------------------------------ catching up

    def catch_up(self, rows: Iterable[tuple[int, str, bytes]]) -> None:
        """Fold committed entries ``(index, topic, state)`` in log order (no decisions: they
        were decided when they were recorded)."""
        for index, topic, state in rows:
            if index != self.state.position:
                msg = f"catch-up expected log index {self.state.position}, got {index}"
                raise RuntimeError(msg)
            event_type = topic[len(TOPIC_PREFIX) :] if topic.startswith(TOPIC_PREFIX) else topic
            if event_type in self._tracked:
                fields = orjson.loads(state)
                self._track_stream(fields)
                if self.rules.handles(event_type):
                    self.rules.apply(self.state, domain_event(fields, index))
            self.state.position = index + 1

    def catch_up_from(self, entries_reader: Any, size: int) -> None:
        """Fold committed entries up to ``size`` using ``entries_reader(start, limit)`` (the
        store's :meth:`entries`), page by page."""
        with self.lock:
            while self.state.position < size:
                page: list[LogEntry] = entries_reader(
                    self.state.position, min(_PAGE, size - self.state.position)
                )
                if not page:
                    return
                self.catch_up((e.index, e.topic, e.state) for e in page)

    def _track_stream(self, fields: dict[str, Any]) -> None:
        key = (fields["stream_type"], fields["stream_id"])
        self._streams[key] = fields["expected_version"] + 1

    def stream_version(self, stream_type: str, stream_id: str) -> int | None:
        """The version of a stream that has rules, as far as this state knows."""
        return self._streams.get((stream_type, stream_id))

    # ------------------------------------------------------------------ deciding

    def screen(self, envelopes: Sequence[Envelope | None]) -> list[BaseException | None]:
        """Decide each envelope against the current state (in order, each seeing the earlier
        accepted ones) and forget everything afterwards: the refusals to report at once.

        An envelope whose ``expected_version`` is not the stream's current version is left to
        the store, which reports the conflict (ENV-3) or the identical retry (ENV-4).
        """
        results: list[BaseException | None] = []
        with self.lock:
            self.state.begin()
            try:
                position = self.state.position
                streams: dict[tuple[str, str], int] = {}
                for env in envelopes:
                    if env is None or env.event_type not in self._tracked:
                        results.append(None)
                        position += 1
                        continue
                    error = self._try(env, position, streams)
                    results.append(error)
                    if error is None:
                        position += 1
            finally:
                self.state.rollback()
        return results

    def _try(
        self, env: Envelope, position: int, streams: dict[tuple[str, str], int]
    ) -> BaseException | None:
        key = (env.stream_type, env.stream_id)
        current = streams.get(key, self._streams.get(key, 0))
        if env.expected_version != current:
            return None
        event = domain_event(env.fields, position)
        try:
            self.rules.decide(self.state, self.directory, event)
        except Exception as e:  # noqa: BLE001 - handed to the submitter
            return e
        self.rules.apply(self.state, event)  # no-op for a type without rules
        streams[key] = current + 1
        return None

    def decide_in_transaction(
        self, envelopes: Sequence[Envelope | None], committed_size: int, read: EntryReader
    ) -> None:
        """Catch up to ``committed_size`` through ``read``, then decide and apply each
        envelope; raise the first refusal (the transaction then rolls back). Call
        :meth:`committed` or :meth:`abandoned` once the transaction's fate is known."""
        if not any(env is not None and env.event_type in self._tracked for env in envelopes):
            # Nothing to decide: leave the catching up to the next batch that has something
            # (the position stays behind, so it will read these entries too).
            return
        self.lock.acquire()
        try:
            if self.state.position < committed_size:
                self.catch_up(read(self.state.position, committed_size))
            self.state.begin()
            self._pending_streams = {}
            for offset, env in enumerate(envelopes):
                if env is None or env.event_type not in self._tracked:
                    continue
                key = (env.stream_type, env.stream_id)
                current = self._pending_streams.get(key, self._streams.get(key, 0))
                if env.expected_version != current:
                    # The store refuses it (ENV-3) or recognises an identical retry (ENV-4);
                    # either way it must not be judged against a state it did not expect.
                    continue
                event = domain_event(env.fields, committed_size + offset)
                self.rules.decide(self.state, self.directory, event)
                self.rules.apply(self.state, event)
                self._pending_streams[(env.stream_type, env.stream_id)] = event.version
        except BaseException:
            # Undo the batch (catch-up before it was of committed entries and stays) and let
            # go of the lock: the transaction is about to roll back.
            self._pending_streams = {}
            self.state.rollback()
            self.lock.release()
            raise

    def committed(self, new_size: int) -> None:
        """The transaction committed: keep the changes; the state now covers ``new_size``."""
        if self.state.journal is None:
            return
        self._streams.update(self._pending_streams)
        self._pending_streams = {}
        self.state.commit(new_size)
        self.lock.release()

    def abandoned(self) -> None:
        """The transaction did not commit: undo the batch's changes."""
        if self.state.journal is None:
            return
        self._pending_streams = {}
        self.state.rollback()
        self.lock.release()
