"""Supervision-practice detectors (``domain.md`` §7.6-7.7, the M and L rows).

* :class:`ExtensionAbuse` — ``AF-RECT-EXTENSION-ABUSE`` (L): a rectification notice whose
  deadline was extended 2 or more times. One finding per notice, citing the issue and every
  extension.
* :class:`DoublePenalty` — ``AF-SCO-DOUBLE-PENALTY`` (L): the same incident penalised twice,
  i.e. two ``CriticismIssued`` to the same unit under the same document reference (one 通报
  is one incident; criticising a unit twice on it counts its points twice). One finding per
  (unit, document reference).
* :class:`MostlyAnnounced` — ``AF-INS-MOSTLY-ANNOUNCED`` (L): in a calendar year, less than
  half of an inspecting organisation's ROUTINE inspections were UNANNOUNCED (004 篇三 "以暗訪為
  主"). The share is judged once the year is over (clock after 31 December): before that, the
  rest of the year may still restore it. Inspections are counted by plan, in the year their
  window starts.
* :class:`RectificationOverdue` — ``AF-RECT-OVERDUE`` (M): a rectification notice still not
  PASSED after its (possibly extended) deadline, or PASSED only after it (it was open past the
  deadline). A notice replaced by ``SupervisionNoticeReissued`` (反复督办) before its deadline
  is carried on by its successor; one replaced after it had already gone overdue. One finding
  per notice. Verification dates are the ones the escalation ladder uses (§5.12,
  :func:`ledger.domain.escalation.rectification_due`), so "overdue" means the same thing here
  and there.
* :class:`RecurringProblem` — ``AF-RECT-RECURRING`` (M): a problem found again (same unit,
  category and location) within 90 days `[I]` after a notice citing it was verified PASSED
  (整改不力). One finding per new finding, citing the old finding, the PASSED verification and
  the new finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from ledger.domain.model import DomainEvent
from ledger.domain.periods import parse_date
from ledger.findings.model import Detector, Finding

MAX_EXTENSIONS = 1
"""§7.7 AF-RECT-EXTENSION-ABUSE: "≥2 extensions on one notice" is the finding."""

RECURRENCE_DAYS = 90
"""§7.7 AF-RECT-RECURRING: "within 90 days `[I]` after PASSED"."""

MIN_UNANNOUNCED_SHARE = Fraction(1, 2)
"""§7.7 AF-INS-MOSTLY-ANNOUNCED: routine inspections "mainly unannounced" (≥ 50 %)."""


@dataclass
class _Notice:
    target_org_id: str | None = None
    issued_event_id: str | None = None
    extensions: list[str] = field(default_factory=list)


class ExtensionAbuse(Detector):
    """``AF-RECT-EXTENSION-ABUSE`` (see module docstring)."""

    name = "extension-abuse"
    version = 1
    types = frozenset({"SupervisionNoticeIssued", "RectificationDeadlineExtended"})

    def __init__(self, max_extensions: int = MAX_EXTENSIONS) -> None:
        self.max_extensions = max_extensions
        self._notices: dict[str, _Notice] = {}

    def observe(self, event: DomainEvent) -> None:
        notice = self._notices.setdefault(event.stream_id, _Notice())
        if event.event_type == "SupervisionNoticeIssued":
            notice.target_org_id = event.payload["target_org_id"]
            notice.issued_event_id = event.event_id
        else:
            notice.extensions.append(event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for notice_id, notice in sorted(self._notices.items()):
            if len(notice.extensions) <= self.max_extensions:
                continue
            issued = [notice.issued_event_id] if notice.issued_event_id else []
            yield self.finding(
                "AF-RECT-EXTENSION-ABUSE",
                [notice_id],
                issued + notice.extensions,
                f"notice {notice_id} to {notice.target_org_id}: deadline extended "
                f"{len(notice.extensions)} times",
                rule_ref=f"domain.md §7.7 AF-RECT-EXTENSION-ABUSE (more than "
                f"{self.max_extensions} extension)",
                admin_unit_id=notice.target_org_id,
            )


class DoublePenalty(Detector):
    """``AF-SCO-DOUBLE-PENALTY`` (see module docstring)."""

    name = "double-penalty"
    version = 1
    types = frozenset({"CriticismIssued"})

    def __init__(self) -> None:
        self._criticisms: dict[tuple[str, str], list[DomainEvent]] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        self._criticisms.setdefault((p["target_org"], p["document_ref"]), []).append(event)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for (target, document), events in sorted(self._criticisms.items()):
            if len(events) < 2:
                continue
            first = events[0].payload
            yield self.finding(
                "AF-SCO-DOUBLE-PENALTY",
                [target, document],
                [e.event_id for e in events],
                f"{target} was criticised {len(events)} times under document {document!r} "
                f"(issued {', '.join(e.payload['issued_at'] for e in events)}): one incident, "
                "penalised more than once",
                rule_ref="domain.md §7.6 AF-SCO-DOUBLE-PENALTY (same document reference)",
                period=first["issued_at"][:4],
                admin_unit_id=target,
            )


@dataclass
class _Year:
    routine: list[str] = field(default_factory=list)
    unannounced: int = 0


class MostlyAnnounced(Detector):
    """``AF-INS-MOSTLY-ANNOUNCED`` (see module docstring)."""

    name = "mostly-announced"
    version = 1
    types = frozenset({"InspectionPlanned"})

    def __init__(self, min_share: Fraction = MIN_UNANNOUNCED_SHARE) -> None:
        self.min_share = min_share
        self._years: dict[tuple[str, int], _Year] = {}
        """(inspecting organisation, year) → its routine plans."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if p["type"] != "ROUTINE":
            return
        year = parse_date(p["window"]["start"]).year
        counted = self._years.setdefault((event.org_id, year), _Year())
        counted.routine.append(event.event_id)
        counted.unannounced += p["mode"] == "UNANNOUNCED"

    def findings(self, clock: date) -> Iterator[Finding]:
        for (org, year), counted in sorted(self._years.items()):
            if year >= clock.year:
                continue  # the year is not over: its share may still change
            share = Fraction(counted.unannounced, len(counted.routine))
            if share >= self.min_share:
                continue
            yield self.finding(
                "AF-INS-MOSTLY-ANNOUNCED",
                [org, str(year)],
                counted.routine,
                f"{org}: {counted.unannounced} of {len(counted.routine)} routine inspections in "
                f"{year} were unannounced (at least {self.min_share} required)",
                rule_ref=f"domain.md §7.7 AF-INS-MOSTLY-ANNOUNCED (UNANNOUNCED share ≥ "
                f"{self.min_share}, 004 篇三)",
                period=str(year),
                admin_unit_id=org,
            )


@dataclass
class _Open:
    """A rectification notice's deadline and how it ended."""

    target_org_id: str
    deadline: date
    event_ids: list[str]
    passed_on: date | None = None
    superseded_on: date | None = None


class RectificationOverdue(Detector):
    """``AF-RECT-OVERDUE`` (see module docstring)."""

    name = "rectification-overdue"
    version = 1
    types = frozenset(
        {
            "SupervisionNoticeIssued",
            "SupervisionNoticeReissued",
            "RectificationDeadlineExtended",
            "RectificationReported",
            "RectificationVerified",
        }
    )

    def __init__(self) -> None:
        self._notices: dict[str, _Open] = {}

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind == "SupervisionNoticeIssued":
            deadline = parse_date(p["deadline"])
            self._notices[p["notice_id"]] = _Open(p["target_org_id"], deadline, [event.event_id])
            return
        if kind == "SupervisionNoticeReissued":
            previous = self._notices.get(p["previous_notice_id"])
            if previous is not None:
                previous.superseded_on = previous.superseded_on or event.day
                previous.event_ids.append(event.event_id)
                self._notices[p["notice_id"]] = _Open(
                    previous.target_org_id, parse_date(p["new_deadline"]), [event.event_id]
                )
            return
        notice = self._notices.get(event.stream_id)
        if notice is None:
            return
        notice.event_ids.append(event.event_id)
        if kind == "RectificationDeadlineExtended":
            notice.deadline = parse_date(p["new_deadline"])
        elif kind == "RectificationVerified" and p["result"] == "PASSED":
            notice.passed_on = notice.passed_on or parse_date(p["verified_at"])

    def findings(self, clock: date) -> Iterator[Finding]:
        for notice_id, notice in sorted(self._notices.items()):
            if clock <= notice.deadline:
                continue
            if notice.passed_on is not None and notice.passed_on <= notice.deadline:
                continue
            if notice.superseded_on is not None and notice.superseded_on <= notice.deadline:
                continue  # its successor carries the case on, with its own deadline
            what = (
                f"was verified PASSED only on {notice.passed_on}"
                if notice.passed_on is not None
                else f"is still not rectified on {clock}"
            )
            yield self.finding(
                "AF-RECT-OVERDUE",
                [notice_id],
                notice.event_ids,
                f"notice {notice_id} to {notice.target_org_id}: deadline {notice.deadline}; "
                f"it {what}",
                rule_ref="domain.md §7.7 AF-RECT-OVERDUE (004 篇七 逾期整改不到位)",
                period=f"{notice.deadline:%Y-%m}",
                admin_unit_id=notice.target_org_id,
            )


@dataclass(frozen=True)
class _Problem:
    target_org_id: str
    category: str
    location: str | None
    event_id: str


class RecurringProblem(Detector):
    """``AF-RECT-RECURRING`` (see module docstring)."""

    name = "rectification-recurring"
    version = 1
    types = frozenset({"FindingRecorded", "SupervisionNoticeIssued", "RectificationVerified"})

    def __init__(self, days: int = RECURRENCE_DAYS) -> None:
        self.days = days
        self._problems: dict[str, _Problem] = {}
        """Inspection finding id → what was found."""
        self._cited: dict[str, list[str]] = {}
        """Notice id → the inspection findings it cites."""
        self._rectified: dict[tuple[str, str, str | None], list[tuple[date, str, str]]] = {}
        """(unit, category, location) → (PASSED on, verification event id, old finding event)."""
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind == "SupervisionNoticeIssued":
            self._cited[p["notice_id"]] = list(p["finding_ids"])
        elif kind == "RectificationVerified":
            if p["result"] == "PASSED":
                self._passed(event)
        else:
            problem = _Problem(p["target_org_id"], p["category"], p["location"], event.event_id)
            self._recurs(problem, event)
            self._problems[p["finding_id"]] = problem

    def _passed(self, event: DomainEvent) -> None:
        on = parse_date(event.payload["verified_at"])
        for finding_id in self._cited.get(event.stream_id, []):
            problem = self._problems.get(finding_id)
            if problem is not None:
                key = (problem.target_org_id, problem.category, problem.location)
                self._rectified.setdefault(key, []).append((on, event.event_id, problem.event_id))

    def _recurs(self, problem: _Problem, event: DomainEvent) -> None:
        key = (problem.target_org_id, problem.category, problem.location)
        for passed_on, verified_id, old_id in self._rectified.get(key, []):
            if passed_on <= event.day <= passed_on + timedelta(days=self.days):
                self._found.append(
                    self.finding(
                        "AF-RECT-RECURRING",
                        [event.payload["finding_id"]],
                        [old_id, verified_id, event.event_id],
                        f"{problem.target_org_id}: {problem.category!r} at "
                        f"{problem.location or 'the unit'} found again on {event.day}, "
                        f"{(event.day - passed_on).days} days after its rectification passed "
                        f"on {passed_on}",
                        rule_ref=f"domain.md §7.7 AF-RECT-RECURRING ({self.days} days [I])",
                        period=f"{event.day:%Y-%m}",
                        admin_unit_id=problem.target_org_id,
                    )
                )
                return

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found
