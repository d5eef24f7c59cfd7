"""Casework detectors (``domain.md`` §7.2, the M and L rows): how an application was handled.

* :class:`ThinInvestigation` — ``AF-APP-THIN-INVESTIGATION`` (M): a household investigation
  without a home visit (data matching or paperwork only), or by fewer than 2 investigators
  `[I]`. One finding per application, citing each thin investigation.
* :class:`RepeatedDeficiency` — ``AF-APP-DEFICIENCY-REPEAT`` (L): materials demanded piecemeal
  (一次性告知). A second or later ``ApplicationMaterialsIncompleteNotified`` on an application
  that lists an item no earlier notice listed: that item was missing the first time too and
  should have been asked for then. Re-listing an item already asked for is not a finding (the
  supplement may not have been good enough). One finding per application.
* :class:`ResultNotPublished` — ``AF-APP-NO-RESULT-PUBLICATION`` (M): an approval with no
  ``RESULT_PUBLICATION`` notice (notice #2 of 三级两次公示) posted within 10 working days `[I]`.
* :class:`RejectionWithoutReason` — ``AF-APP-REJECT-NO-REASON`` (M): a rejection whose written
  notice (``DecisionNotified`` citing it) carries no reason, or a rejection never notified once
  the statutory 3 working days (004 篇十五, the APP-SLA rejection clock) have passed. A notice
  that comes late but with its reasons is only late: that is ``AF-APP-SLA`` (a soft invariant
  the rules record), not this finding.

"Today" is the latest business date of the log (:class:`~ledger.findings.runner.DetectorSet`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding, add_working_days

MIN_INVESTIGATORS = 2
"""§4.1 step 1.5: "≥2 investigators `[I]`"."""

HOME_VISIT = "HOME_VISIT"

RESULT_PUBLICATION_WORKING_DAYS = 10
"""§7.2 AF-APP-NO-RESULT-PUBLICATION: the result is published within 10 working days `[I]`."""

REJECTION_NOTICE_WORKING_DAYS = 3
"""§7.2 AF-APP-SLA: rejection → notice within 3 working days (004 篇十五)."""


class _Townships:
    """Application id → township (from ``ApplicationSubmitted``), for ``admin_unit_id``."""

    def __init__(self) -> None:
        self.of: dict[str, str] = {}

    def note(self, event: DomainEvent) -> None:
        self.of[event.stream_id] = event.payload["township_org_id"]


class ThinInvestigation(Detector):
    """``AF-APP-THIN-INVESTIGATION`` (see module docstring)."""

    name = "thin-investigation"
    version = 1
    types = frozenset({"ApplicationSubmitted", "HouseholdInvestigationCompleted"})

    def __init__(self) -> None:
        self._townships = _Townships()
        self._thin: dict[str, list[tuple[str, str]]] = {}
        """Application → (event id, what was thin) of each thin investigation."""

    def observe(self, event: DomainEvent) -> None:
        if event.event_type == "ApplicationSubmitted":
            self._townships.note(event)
            return
        p = event.payload
        gaps = []
        if HOME_VISIT not in p["methods"]:
            gaps.append(f"no home visit (methods: {', '.join(p['methods'])})")
        if len(p["investigator_actor_ids"]) < MIN_INVESTIGATORS:
            gaps.append(f"{len(p['investigator_actor_ids'])} investigator(s)")
        if gaps:
            self._thin.setdefault(event.stream_id, []).append((event.event_id, "; ".join(gaps)))

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for app, thin in sorted(self._thin.items()):
            yield self.finding(
                "AF-APP-THIN-INVESTIGATION",
                [app],
                [event_id for event_id, _ in thin],
                f"application {app}: household investigation with {thin[0][1]}; a home visit "
                f"by at least {MIN_INVESTIGATORS} investigators is required",
                rule_ref=f"domain.md §7.2 AF-APP-THIN-INVESTIGATION (HOME_VISIT, "
                f"≥{MIN_INVESTIGATORS} investigators [I])",
                admin_unit_id=self._townships.of.get(app),
            )


@dataclass
class _Demands:
    """The materials notices of one application, in log order."""

    asked: set[str] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)
    piecemeal: dict[str, str] = field(default_factory=dict)
    """Item first asked for on a later notice → that notice's event id."""


class RepeatedDeficiency(Detector):
    """``AF-APP-DEFICIENCY-REPEAT`` (see module docstring)."""

    name = "deficiency-repeat"
    version = 1
    types = frozenset({"ApplicationSubmitted", "ApplicationMaterialsIncompleteNotified"})

    def __init__(self) -> None:
        self._townships = _Townships()
        self._apps: dict[str, _Demands] = {}

    def observe(self, event: DomainEvent) -> None:
        if event.event_type == "ApplicationSubmitted":
            self._townships.note(event)
            return
        demands = self._apps.setdefault(event.stream_id, _Demands())
        items = set(event.payload["missing_items"])
        if demands.event_ids:
            for item in sorted(items - demands.asked):
                demands.piecemeal.setdefault(item, event.event_id)
        demands.asked |= items
        demands.event_ids.append(event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for app, demands in sorted(self._apps.items()):
            if not demands.piecemeal:
                continue
            yield self.finding(
                "AF-APP-DEFICIENCY-REPEAT",
                [app],
                demands.event_ids,
                f"application {app}: {len(demands.event_ids)} materials notices; "
                f"{', '.join(sorted(demands.piecemeal))} first asked for only on a later one "
                "(missing materials are to be listed at once, 一次性告知)",
                rule_ref="domain.md §7.2 AF-APP-DEFICIENCY-REPEAT (APP-2, 004 篇十五)",
                admin_unit_id=self._townships.of.get(app),
            )


@dataclass(frozen=True)
class _Decision:
    app: str
    day: date
    event_id: str


class ResultNotPublished(Detector):
    """``AF-APP-NO-RESULT-PUBLICATION`` (see module docstring): one finding per approval."""

    name = "result-publication"
    version = 1
    types = frozenset({"ApplicationSubmitted", "ApplicationApproved", "PublicNoticePosted"})

    def __init__(self, working_days: int = RESULT_PUBLICATION_WORKING_DAYS) -> None:
        self.working_days = working_days
        self._townships = _Townships()
        self._approvals: list[_Decision] = []
        self._published: dict[str, tuple[date, str]] = {}
        """Application → (business date, event id) of its first result publication."""

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind == "ApplicationSubmitted":
            self._townships.note(event)
        elif kind == "ApplicationApproved":
            self._approvals.append(_Decision(event.stream_id, event.day, event.event_id))
        elif p["kind"] == "RESULT_PUBLICATION":
            for app in p["subject_ids"]:
                self._published.setdefault(app, (event.day, event.event_id))

    def findings(self, clock: date) -> Iterator[Finding]:
        for approval in self._approvals:
            deadline = add_working_days(approval.day, self.working_days)
            published = self._published.get(approval.app)
            if published is not None and published[0] <= deadline:
                continue
            if published is None and clock <= deadline:
                continue  # still inside the window
            what = (
                f"was published only on {published[0]}"
                if published is not None
                else f"has not been published by {clock}"
            )
            yield self.finding(
                "AF-APP-NO-RESULT-PUBLICATION",
                [approval.app],
                [approval.event_id] + ([published[1]] if published is not None else []),
                f"application {approval.app} approved on {approval.day}: the result {what}; "
                f"due by {deadline} ({self.working_days} working days)",
                rule_ref=f"domain.md §7.2 AF-APP-NO-RESULT-PUBLICATION ({self.working_days} "
                "working days [I])",
                period=f"{approval.day:%Y-%m}",
                admin_unit_id=self._townships.of.get(approval.app),
            )


class RejectionWithoutReason(Detector):
    """``AF-APP-REJECT-NO-REASON`` (see module docstring): one finding per rejection."""

    name = "rejection-reason"
    version = 1
    types = frozenset({"ApplicationSubmitted", "ApplicationRejected", "DecisionNotified"})

    def __init__(self, working_days: int = REJECTION_NOTICE_WORKING_DAYS) -> None:
        self.working_days = working_days
        self._townships = _Townships()
        self._rejections: list[_Decision] = []
        self._notified: dict[str, list[tuple[str, bool]]] = {}
        """Decision event id → (notice event id, carries reasons) of each notice citing it."""

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind == "ApplicationSubmitted":
            self._townships.note(event)
        elif kind == "ApplicationRejected":
            self._rejections.append(_Decision(event.stream_id, event.day, event.event_id))
        else:
            notices = self._notified.setdefault(p["decision_event_id"], [])
            notices.append((event.event_id, bool(p["reasons"])))

    def findings(self, clock: date) -> Iterator[Finding]:
        for rejection in self._rejections:
            found = self._check(rejection, clock)
            if found is not None:
                yield found

    def _check(self, rejection: _Decision, clock: date) -> Finding | None:
        notices = self._notified.get(rejection.event_id, [])
        deadline = add_working_days(rejection.day, self.working_days)
        if notices and all(with_reasons for _, with_reasons in notices):
            return None
        if not notices and clock <= deadline:
            return None
        what = (
            "was notified in writing without its reasons"
            if notices
            else f"has not been notified in writing by {clock} (due by {deadline})"
        )
        return self.finding(
            "AF-APP-REJECT-NO-REASON",
            [rejection.app],
            [rejection.event_id] + [event_id for event_id, _ in notices],
            f"application {rejection.app}: the rejection of {rejection.day} {what}",
            rule_ref="domain.md §7.2 AF-APP-REJECT-NO-REASON (APP-13, 004 篇十五 說明理由)",
            period=f"{rejection.day:%Y-%m}",
            admin_unit_id=self._townships.of.get(rejection.app),
        )
