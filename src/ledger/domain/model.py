"""The shape every business rule is written against: events in, state, refusals out.

The domain sees an event as a :class:`DomainEvent` (the signed envelope's meaning, already
authenticated and schema-checked by the service layer). Each business module registers, per
event type, a *decide* function (raise :class:`~ledger.errors.RuleViolation` to refuse a
decision) and an *apply* function (fold the event into :class:`DomainState`).

State changes go through :class:`Table` so that a batch of tentative decisions can be undone
exactly (:meth:`DomainState.begin` / :meth:`DomainState.rollback`): the service decides a
whole group-commit batch inside the write transaction and must forget it if the transaction
does not commit. Values stored in tables are immutable (frozen dataclasses, tuples,
frozensets): a change replaces the value, which is what the undo journal records.

Nothing here knows about storage, HTTP or cryptography (DESIGN.md §2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from ledger.errors import AuthorizationError, RuleViolation

K = TypeVar("K")
V = TypeVar("V")

_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One authenticated, schema-valid event as the business rules see it.

    ``version`` is the event's 1-based position in its stream; ``position`` its log index
    (the index it will get, while being decided). ``occurred_at`` is timezone-aware; its
    calendar date in its own offset is the business date (:attr:`day`).
    """

    event_id: str
    event_type: str
    stream_type: str
    stream_id: str
    version: int
    position: int
    occurred_at: datetime
    actor_id: str
    role: str
    org_id: str
    payload: Mapping[str, Any]
    causation_id: str | None = None
    correlation_id: str | None = None

    @property
    def day(self) -> date:
        """The business date (the date of ``occurred_at`` in the emitter's own offset)."""
        return self.occurred_at.date()


class Directory(Protocol):
    """What the business rules may ask of the key/actor/organisation registry."""

    def org_exists(self, org_id: str) -> bool: ...

    def org_kind(self, org_id: str) -> str | None: ...

    def org_parent(self, org_id: str) -> str | None: ...

    def is_within(self, org_id: str, ancestor_id: str) -> bool:
        """``org_id`` is ``ancestor_id`` or one of its descendants."""
        ...

    def actor_org(self, actor_id: str) -> str | None: ...

    def actor_person(self, actor_id: str) -> str:
        """The natural person behind an actor (``person_ref``, else the actor id): separation
        of duties compares persons, not accounts."""
        ...


class Journal:
    """Undo records of the tables changed since :meth:`DomainState.begin`."""

    def __init__(self) -> None:
        self.entries: list[tuple[dict[Any, Any], Any, Any]] = []


class Table(Generic[K, V]):
    """A dict of immutable values whose changes can be undone (see module docstring)."""

    def __init__(self, state: DomainState, name: str) -> None:
        self.name = name
        self._rows: dict[K, V] = {}
        self._state = state

    def get(self, key: K) -> V | None:
        return self._rows.get(key)

    def __getitem__(self, key: K) -> V:
        return self._rows[key]

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(list(self._rows.items()))

    def values(self) -> Iterator[V]:
        return iter(list(self._rows.values()))

    def put(self, key: K, value: V) -> None:
        journal = self._state.journal
        if journal is not None:
            journal.entries.append((self._rows, key, self._rows.get(key, _MISSING)))
        self._rows[key] = value

    def delete(self, key: K) -> None:
        if key not in self._rows:
            return
        journal = self._state.journal
        if journal is not None:
            journal.entries.append((self._rows, key, self._rows[key]))
        del self._rows[key]


class DomainState:
    """All business state after a log prefix: named tables plus the prefix length."""

    def __init__(self) -> None:
        self.position = 0
        """Number of log entries folded in (the next event's log index)."""
        self.journal: Journal | None = None
        self._tables: dict[str, Table[Any, Any]] = {}

    def table(self, name: str) -> Table[Any, Any]:
        """The table called ``name`` (created empty on first use)."""
        found = self._tables.get(name)
        if found is None:
            found = Table(self, name)
            self._tables[name] = found
        return found

    def begin(self) -> None:
        """Start recording changes so that :meth:`rollback` can undo them."""
        self.journal = Journal()

    def commit(self, position: int) -> None:
        """Keep the changes since :meth:`begin`; the state now reflects ``position`` events."""
        self.journal = None
        self.position = position

    def rollback(self) -> None:
        """Undo every change since :meth:`begin`."""
        journal, self.journal = self.journal, None
        if journal is None:
            return
        for rows, key, old in reversed(journal.entries):
            if old is _MISSING:
                rows.pop(key, None)
            else:
                rows[key] = old


Decide = Callable[[DomainState, Directory, DomainEvent], None]
Apply = Callable[[DomainState, DomainEvent], None]


def no_decision(_state: DomainState, _directory: Directory, _event: DomainEvent) -> None:
    """For observed facts (``domain.md`` §4.0): authentic facts are always accepted."""


def refuse(code: str, detail: str, **evidence: Any) -> RuleViolation:
    """A hard-invariant refusal: ``raise refuse("PAY-2", "...", period=...)``."""
    return RuleViolation(detail, code=code, **evidence)


def require(condition: bool, code: str, detail: str, **evidence: Any) -> None:
    """Refuse with ``code`` unless ``condition`` holds."""
    if not condition:
        raise refuse(code, detail, **evidence)


SOFT_FINDINGS = "audit.soft_finding"
"""(event_id, rule) → :class:`SoftFinding`: soft invariants broken by accepted events."""


@dataclass(frozen=True, slots=True)
class SoftFinding:
    """A soft invariant (``domain.md`` §6.4) that an accepted event breaks.

    Soft invariants never refuse: the event is recorded and the named audit finding is raised
    from this record by the findings detectors (§7), citing ``event_id`` as evidence.
    """

    rule: str
    """The invariant id, e.g. ``APP-9``."""
    finding_code: str
    """The audit finding it raises, e.g. ``AF-APP-SLA``."""
    event_id: str
    position: int
    detail: str
    evidence: tuple[tuple[str, Any], ...]
    """Sorted (name, value) pairs of JSON-able values."""


def note_soft_finding(
    state: DomainState,
    event: DomainEvent,
    rule: str,
    finding_code: str,
    detail: str,
    **evidence: Any,
) -> None:
    """Record that the accepted ``event`` breaks soft invariant ``rule`` (call from an apply).

    Call it from an *apply* function, never from a decide: a soft breach is a fact about an
    event that is being recorded, and must roll back with it if the transaction does.
    """
    state.table(SOFT_FINDINGS).put(
        (event.event_id, rule),
        SoftFinding(
            rule=rule,
            finding_code=finding_code,
            event_id=event.event_id,
            position=event.position,
            detail=detail,
            evidence=tuple(sorted(evidence.items())),
        ),
    )


def require_scope(directory: Directory, event: DomainEvent, subject_org_id: str) -> None:
    """The actor's organisation must cover the subject's organisation (ENV-2 scope)."""
    if not directory.is_within(subject_org_id, event.org_id):
        raise AuthorizationError(
            f"{event.actor_id} acts for {event.org_id}, which does not cover {subject_org_id}",
            reason="subject_outside_scope",
            actor_org_id=event.org_id,
            subject_org_id=subject_org_id,
        )


class Rules:
    """The registered rules of every business event type.

    Several modules may fold the same event type into their own tables (each owns the view it
    needs), and each may add its own checks; every decide function of a type runs before any
    apply function of it.
    """

    def __init__(self) -> None:
        self._deciders: dict[str, list[Decide]] = {}
        self._appliers: dict[str, list[Apply]] = {}

    def register(
        self, event_type: str, apply: Apply | None = None, decide: Decide | None = None
    ) -> None:
        """Add an apply and/or a decide function for ``event_type``."""
        if apply is not None:
            self._appliers.setdefault(event_type, []).append(apply)
        if decide is not None:
            self._deciders.setdefault(event_type, []).append(decide)

    def handles(self, event_type: str) -> bool:
        return event_type in self._appliers or event_type in self._deciders

    def decide(self, state: DomainState, directory: Directory, event: DomainEvent) -> None:
        """Refuse ``event`` if it breaks a hard invariant (facts are never refused)."""
        for decide in self._deciders.get(event.event_type, ()):
            decide(state, directory, event)

    def apply(self, state: DomainState, event: DomainEvent) -> None:
        """Fold ``event`` into ``state`` (a no-op for types with no rules)."""
        for apply in self._appliers.get(event.event_type, ()):
            apply(state, event)

    def event_types(self) -> list[str]:
        return sorted(set(self._appliers) | set(self._deciders))
