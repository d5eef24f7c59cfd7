"""Independence of inspection and verification, and secrecy of unannounced visits
(``domain.md`` §7.7).

* ``AF-INS-CONFLICT`` — an inspector from the inspected unit (交叉配對, SOD-6): a member of an
  inspection's team whose organisation (``ActorRegistered``, or any ``ActorRoleGranted``)
  is one of its targets, or an inspection event (conducted, finding, score, report) emitted
  by an actor acting for a target; in a legacy ``INSPECTION`` record, a member whose recorded
  unit is a target. One finding per (inspection, actor).
* ``AF-RECT-CLOSED-UNVERIFIED`` — a rectification notice closed on the unit's own word: a
  ``RectificationVerified(PASSED)`` emitted by an actor acting for the notice's target, or by
  the actor who reported the rectification (SOD-7). The notice counts as closed with no
  independent verification. One finding per notice.

SOD-6 and SOD-7 refuse both on the append path; the detector re-checks the log.

:class:`InspectionLeak` — ``AF-INS-LEAK``: an unannounced inspection its targets knew of.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding
from ledger.findings.procedure import LEGACY, legacy_record

_INSPECTION_ACTS = frozenset(
    {
        "InspectionConducted",
        "FindingRecorded",
        "InspectionScoreRecorded",
        "InspectionReportSubmitted",
    }
)


@dataclass
class _Inspection:
    targets: frozenset[str]
    team: tuple[str, ...]
    planned_event_id: str
    acted: list[tuple[str, str, str]] = field(default_factory=list)
    """(actor, acting org, event id) of each inspection event."""


@dataclass
class _Notice:
    target_org_id: str
    issued_event_id: str
    reporters: set[str] = field(default_factory=set)


class Independence(Detector):
    """``AF-INS-CONFLICT`` and ``AF-RECT-CLOSED-UNVERIFIED`` (see module docstring)."""

    name = "independence"
    version = 1
    types = _INSPECTION_ACTS | {
        LEGACY,
        "ActorRegistered",
        "ActorRoleGranted",
        "InspectionPlanned",
        "SupervisionNoticeIssued",
        "RectificationReported",
        "RectificationVerified",
    }

    def __init__(self) -> None:
        self._orgs: dict[str, dict[str, str]] = {}
        """actor → organisation → the registry event that puts the actor there."""
        self._inspections: dict[str, _Inspection] = {}
        self._notices: dict[str, _Notice] = {}
        self._closed: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind in {"ActorRegistered", "ActorRoleGranted"}:
            self._orgs.setdefault(p["actor_id"], {}).setdefault(p["org_id"], event.event_id)
        elif kind == "InspectionPlanned":
            self._inspections[p["inspection_id"]] = _Inspection(
                frozenset(p["target_org_ids"]), tuple(p["team_actor_ids"]), event.event_id
            )
        elif kind == LEGACY:
            self._legacy(event)
        elif kind in _INSPECTION_ACTS:
            inspection = self._inspections.get(event.stream_id)
            if inspection is not None:
                inspection.acted.append((event.actor_id, event.org_id, event.event_id))
        elif kind == "SupervisionNoticeIssued":
            self._notices[p["notice_id"]] = _Notice(p["target_org_id"], event.event_id)
        elif kind == "RectificationReported":
            notice = self._notices.get(event.stream_id)
            if notice is not None:
                notice.reporters.add(event.actor_id)
        elif p["result"] == "PASSED":
            self._verified(event)

    def _legacy(self, event: DomainEvent) -> None:
        """A legacy inspection: the old system recorded each member's unit."""
        record = legacy_record(event, "INSPECTION")
        if record is None:
            return
        inspection = _Inspection(frozenset(record["target_org_ids"]), (), event.event_id)
        inspection.acted = [(m["actor_id"], m["org_id"], event.event_id) for m in record["team"]]
        self._inspections[record["inspection_id"]] = inspection

    def _verified(self, event: DomainEvent) -> None:
        notice = self._notices.get(event.stream_id)
        if notice is None:
            return
        if event.org_id == notice.target_org_id:
            why = f"by {event.actor_id}, acting for the rectifying unit {event.org_id}"
        elif event.actor_id in notice.reporters:
            why = f"by {event.actor_id}, who reported the rectification"
        else:
            return
        self._closed.append(
            self.finding(
                "AF-RECT-CLOSED-UNVERIFIED",
                [event.stream_id],
                [notice.issued_event_id, event.event_id],
                f"notice {event.stream_id} to {notice.target_org_id} was closed as PASSED {why}"
                ", with no independent verification",
                rule_ref="SOD-7",
                period=f"{event.day:%Y-%m}",
                admin_unit_id=notice.target_org_id,
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for inspection_id, inspection in sorted(self._inspections.items()):
            yield from self._conflicts(inspection_id, inspection)
        yield from self._closed

    def _conflicts(self, inspection_id: str, inspection: _Inspection) -> Iterator[Finding]:
        evidence: dict[str, list[str]] = {}
        """actor → the events showing the actor inside a target."""
        for actor in inspection.team:
            for org, event_id in self._orgs.get(actor, {}).items():
                if org in inspection.targets:
                    evidence.setdefault(actor, []).append(event_id)
        for actor, org, event_id in inspection.acted:
            if org in inspection.targets:
                evidence.setdefault(actor, []).append(event_id)
        for actor, cited in sorted(evidence.items()):
            yield self.finding(
                "AF-INS-CONFLICT",
                [inspection_id, actor],
                [inspection.planned_event_id, *cited],
                f"inspection {inspection_id} of {', '.join(sorted(inspection.targets))}: "
                f"{actor} belongs to an inspected unit",
                rule_ref="SOD-6",
                admin_unit_id=sorted(inspection.targets)[0],
            )


LEAK_WINDOW = timedelta(hours=48)
"""§7.7 AF-INS-LEAK: target activity this long before an unannounced visit `[I]`."""

_TARGET_ACTS = frozenset({"ProgressReported", "RectificationReported"})


@dataclass
class _Unannounced:
    targets: frozenset[str]
    planned_event_id: str
    started_at: datetime | None = None
    conducted_event_id: str | None = None
    notified: list[str] = field(default_factory=list)


class InspectionLeak(Detector):
    """``AF-INS-LEAK`` (§7.7, 以暗訪為主): an unannounced inspection whose targets knew.

    * the inspection was notified to a target (``InspectionNotified``; INS-3 refuses it on
      the append path);
    * a target unit filed progress or a rectification report (``ProgressReported``,
      ``RectificationReported``, emitted for a target organisation) within 48 hours `[I]`
      before the visit started: activity that anticipates the visit.

    The plan's access log (who read it before the visit) is not in the event log, so that
    clause of §7.7 is for the API's audit trail, not this detector. One finding per
    inspection, citing every sign.
    """

    name = "inspection-leak"
    version = 1
    types = _TARGET_ACTS | {"InspectionPlanned", "InspectionNotified", "InspectionConducted"}

    def __init__(self, window: timedelta = LEAK_WINDOW) -> None:
        self.window = window
        self._inspections: dict[str, _Unannounced] = {}
        self._acts: list[tuple[str, datetime, str]] = []
        """(acting org, when, event id) of each progress or rectification report."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind in _TARGET_ACTS:
            self._acts.append((event.org_id, event.occurred_at, event.event_id))
        elif kind == "InspectionPlanned":
            if p["mode"] == "UNANNOUNCED":
                self._inspections[p["inspection_id"]] = _Unannounced(
                    frozenset(p["target_org_ids"]), event.event_id
                )
        elif (inspection := self._inspections.get(event.stream_id)) is not None:
            if kind == "InspectionNotified":
                inspection.notified.append(event.event_id)
            elif inspection.started_at is None:
                inspection.started_at = datetime.fromisoformat(p["started_at"])
                inspection.conducted_event_id = event.event_id

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for inspection_id, inspection in sorted(self._inspections.items()):
            signs = self._signs(inspection)
            if not signs:
                continue
            evidence = [inspection.planned_event_id, *(e for _, e in signs)]
            if inspection.conducted_event_id is not None:
                evidence.append(inspection.conducted_event_id)
            yield self.finding(
                "AF-INS-LEAK",
                [inspection_id],
                evidence,
                f"unannounced inspection {inspection_id} of "
                f"{', '.join(sorted(inspection.targets))}: {'; '.join(w for w, _ in signs)}",
                rule_ref="INS-3",
                admin_unit_id=sorted(inspection.targets)[0],
            )

    def _signs(self, inspection: _Unannounced) -> list[tuple[str, str]]:
        """(what, event id) of each sign that the targets knew of the visit."""
        signs = [("it was notified to its target", e) for e in inspection.notified]
        start = inspection.started_at
        if start is None:
            return signs
        for org, when, event_id in self._acts:
            if org in inspection.targets and start - self.window <= when < start:
                signs.append((f"{org} filed a report {start - when} before the visit", event_id))
        return signs
