"""Eligibility detector (``domain.md`` §7.1): ``AF-ELIG-EXCLUSIVE-DUPLICATE``.

A person with two enrolments that are both still in force (neither terminated) in the same
programme, or in two programmes the programme configuration declares exclusive
(``ProgrammeDefined.exclusive_with``, either side), is enrolled twice. APP-12 refuses such an
approval on the append path; the detector re-checks it over the whole log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import combinations

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding


@dataclass(frozen=True)
class _Enrolment:
    enrolment_id: str
    person_id: str
    programme_code: str
    first_period: str
    event_id: str


class ExclusiveDuplicate(Detector):
    """``AF-ELIG-EXCLUSIVE-DUPLICATE`` (see module docstring)."""

    name = "exclusive-duplicate"
    version = 1
    types = frozenset({"ProgrammeDefined", "BeneficiaryEnrolled", "TerminationDecided"})

    def __init__(self) -> None:
        self._exclusive: dict[str, frozenset[str]] = {}
        self._active: dict[str, _Enrolment] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "ProgrammeDefined":
            self._exclusive[p["programme_code"]] = frozenset(p["exclusive_with"])
        elif event.event_type == "BeneficiaryEnrolled":
            self._active[p["enrolment_id"]] = _Enrolment(
                p["enrolment_id"],
                p["person_id"],
                p["programme_code"],
                p["first_payable_period"],
                event.event_id,
            )
        else:
            self._active.pop(event.stream_id, None)

    def _clash(self, a: str, b: str) -> bool:
        return a == b or b in self._exclusive.get(a, ()) or a in self._exclusive.get(b, ())

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        by_person: dict[str, list[_Enrolment]] = {}
        for enrolment in self._active.values():
            by_person.setdefault(enrolment.person_id, []).append(enrolment)
        for person, enrolments in sorted(by_person.items()):
            enrolments.sort(key=lambda e: e.enrolment_id)
            for a, b in combinations(enrolments, 2):
                if not self._clash(a.programme_code, b.programme_code):
                    continue
                yield self.finding(
                    "AF-ELIG-EXCLUSIVE-DUPLICATE",
                    [person, a.enrolment_id, b.enrolment_id],
                    [a.event_id, b.event_id],
                    f"{person} is enrolled in {a.programme_code} ({a.enrolment_id}) and in "
                    f"{b.programme_code} ({b.enrolment_id}) at once",
                    rule_ref="APP-12",
                    period=max(a.first_period, b.first_period),
                )
