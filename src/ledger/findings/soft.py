"""Soft invariants surfaced as findings (``domain.md`` §6.4 "Soft → AF-…").

The business rules record a :class:`~ledger.domain.model.SoftFinding` when an accepted event
breaks a soft invariant (for example INS-5, a late inspection report). This detector folds
the log through the same rules (apply only: every event in the log was accepted) and raises
one finding per recorded soft breach, citing the event and the invariant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ledger.domain.model import SOFT_FINDINGS, DomainEvent, DomainState, SoftFinding
from ledger.domain.rules import build_rules
from ledger.findings.model import Detector, Finding


class SoftInvariants(Detector):
    """One finding per soft breach the rules recorded (see module docstring)."""

    name = "soft-invariants"
    version = 1

    def __init__(self) -> None:
        self._rules = build_rules()
        self._state = DomainState()
        self.types = frozenset(self._rules.event_types())

    def observe(self, event: DomainEvent) -> None:
        self._rules.apply(self._state, event)
        self._state.position = event.position + 1

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        recorded: list[SoftFinding] = list(self._state.table(SOFT_FINDINGS).values())
        for soft in sorted(recorded, key=lambda s: (s.position, s.rule)):
            yield self.finding(
                soft.finding_code,
                [soft.event_id, soft.rule],
                [soft.event_id],
                f"{soft.rule}: {soft.detail}",
                rule_ref=soft.rule,
            )
