"""Run a set of detectors over a log, incrementally: decode each entry once, feed it to the
detectors that want its type, and list the findings not raised yet.

:class:`DetectorSet` keeps the detectors' folds between calls, so a follower that feeds it
each new page only pays for the new entries. ``AuditFindingRaised`` events in the log tell
it which findings were already raised (by this process or any other), so a finding is
never proposed twice (AUD-1 would refuse it anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

import orjson

from ledger.domain.audit_findings import FindingKey, finding_key
from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding
from ledger.services.decisions import domain_event

RAISED = "AuditFindingRaised"


class EntryLike(Protocol):
    """What the runner needs of a log entry (``ledger.store.records.LogEntry`` has it)."""

    @property
    def index(self) -> int: ...
    @property
    def event_type(self) -> str: ...
    @property
    def state(self) -> bytes: ...


def decode_entry(entry: EntryLike) -> DomainEvent:
    """The rules' view of one stored envelope."""
    return domain_event(orjson.loads(entry.state), entry.index)


class DetectorSet:
    """Detectors fed from one log, in order (see module docstring)."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = tuple(detectors)
        self.position = 0
        """Log entries observed so far (the next index to read)."""
        self.clock: date | None = None
        """The latest business date observed (the detectors' "today")."""
        self.raised: dict[FindingKey, str] = {}
        """Findings already raised in the log: key → finding id."""
        self._by_type: dict[str, list[Detector]] = {}
        for detector in self.detectors:
            for event_type in detector.types:
                self._by_type.setdefault(event_type, []).append(detector)
        self.types = frozenset(self._by_type) | {RAISED}

    def feed_entries(self, entries: Iterable[EntryLike]) -> int:
        """Decode and observe ``entries`` (contiguous, from :attr:`position`); the count."""
        count = 0
        for entry in entries:
            if entry.index < self.position:
                continue
            if entry.event_type in self.types:  # skip the JSON parse of everything else
                self.observe(decode_entry(entry))
            self.position = entry.index + 1
            count += 1
        return count

    def observe(self, event: DomainEvent) -> None:
        """Feed one decoded event to the detectors that handle its type."""
        if event.event_type == RAISED:
            p = event.payload
            key = finding_key(p["code"], p["subject_refs"], p["detector"], p["detector_version"])
            self.raised[key] = p["finding_id"]
            return
        if self.clock is None or event.day > self.clock:
            self.clock = event.day
        for detector in self._by_type.get(event.event_type, ()):
            detector.observe(event)

    def findings(self, clock: date | None = None) -> list[Finding]:
        """Every finding the observed prefix shows on ``clock`` (default: :attr:`clock`), in
        a deterministic order (code, subjects)."""
        today = clock or self.clock
        if today is None:
            return []
        found = {f.key: f for d in self.detectors for f in d.findings(today)}
        return sorted(found.values(), key=lambda f: (f.code, f.subject_refs, f.detector))

    def new_findings(self, clock: date | None = None) -> list[Finding]:
        """:meth:`findings` that the log has not raised yet."""
        return [f for f in self.findings(clock) if f.key not in self.raised]
