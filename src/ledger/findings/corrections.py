"""``AF-COR-NEAR-DECISION`` (``domain.md`` §7.8, M): corrections around key decisions.

A ``CorrectionRecorded`` that supersedes an investigation, public-notice or income event
within 10 days `[I]` before or after an approval or a termination *of the same case* is a
finding: the facts a decision rests on were changed right when it was taken. Corrections of
facts need no co-signature (COR-1 covers material decisions only), which is why an auditor is
shown them.

Which case an event concerns:

* investigation and income events of an application (``HouseholdInvestigationCompleted``,
  ``EconomicCheckRecorded``, ``HouseholdIncomeAssessed``) are on the application's stream, as
  is its ``ApplicationApproved``;
* ``IncomeAboveStandardDetermined`` is on the enrolment's stream, as is ``TerminationDecided``;
* a public notice (``PublicNoticePosted``, and ``PublicNoticeClosed`` on the notice's stream)
  concerns each of its ``subject_ids`` (applications or enrolments).

Score decisions are not paired: no investigation, notice or income event names an assessee.
One finding per correction, citing the correction, the corrected event and the decisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding

WINDOW_DAYS = 10
"""§7.8: "within 10 days before or after an approval, termination or score"."""

_CASE_FACTS = frozenset(
    {
        "HouseholdInvestigationCompleted",
        "EconomicCheckRecorded",
        "HouseholdIncomeAssessed",
        "IncomeAboveStandardDetermined",
    }
)
_NOTICE_FACTS = frozenset({"PublicNoticePosted", "PublicNoticeClosed"})
_DECISIONS = frozenset({"ApplicationApproved", "TerminationDecided"})


@dataclass(frozen=True)
class _Watched:
    event_type: str
    cases: tuple[str, ...]


@dataclass(frozen=True)
class _Correction:
    event_id: str
    target_event_id: str
    day: date
    watched: _Watched


class CorrectionNearDecision(Detector):
    """``AF-COR-NEAR-DECISION`` (see module docstring)."""

    name = "correction-near-decision"
    version = 1
    types = _CASE_FACTS | _NOTICE_FACTS | _DECISIONS | {"CorrectionRecorded"}

    def __init__(self, window_days: int = WINDOW_DAYS) -> None:
        self.window_days = window_days
        self._watched: dict[str, _Watched] = {}
        """Event id → the cases of an investigation, notice or income event."""
        self._notice_cases: dict[str, tuple[str, ...]] = {}
        self._decisions: dict[str, list[tuple[date, str, str]]] = {}
        """Case → (business date, event type, event id) of each decision on it."""
        self._corrections: list[_Correction] = []

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind in _CASE_FACTS:
            self._watched[event.event_id] = _Watched(kind, (event.stream_id,))
        elif kind == "PublicNoticePosted":
            self._notice_cases[event.stream_id] = tuple(p["subject_ids"])
            self._watched[event.event_id] = _Watched(kind, tuple(p["subject_ids"]))
        elif kind == "PublicNoticeClosed":
            cases = self._notice_cases.get(event.stream_id, ())
            self._watched[event.event_id] = _Watched(kind, cases)
        elif kind in _DECISIONS:
            entry = (event.day, kind, event.event_id)
            self._decisions.setdefault(event.stream_id, []).append(entry)
        else:
            watched = self._watched.get(p["target_event_id"])
            if watched is not None:
                self._corrections.append(
                    _Correction(event.event_id, p["target_event_id"], event.day, watched)
                )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for correction in self._corrections:
            near = [
                (case, decision)
                for case in correction.watched.cases
                for decision in self._decisions.get(case, [])
                if abs((decision[0] - correction.day).days) <= self.window_days
            ]
            if not near:
                continue
            described = "; ".join(f"{d[1]} of {case} on {d[0]}" for case, d in near)
            yield self.finding(
                "AF-COR-NEAR-DECISION",
                [correction.event_id],
                [correction.event_id, correction.target_event_id, *(d[2] for _, d in near)],
                f"a correction of {correction.watched.event_type} on {correction.day} falls "
                f"within {self.window_days} days of {described}",
                rule_ref=f"domain.md §7.8 AF-COR-NEAR-DECISION (±{self.window_days} days [I])",
                period=f"{correction.day:%Y-%m}",
            )
