"""Procedure detectors (``domain.md`` §7.2), over live decisions *and* imported legacy records.

The live decisions are already held to APP-7, APP-10 and APP-11 on the append path; the
detectors re-check them anyway (§7: "the blocking code itself must be checked") and check
``LegacyRecordImported`` records, which no invariant ever saw.

* :class:`NoticeTooShort` — ``AF-APP-NO-NOTICE``: a public notice up for fewer calendar days
  (both ends included, §5.13) than the programme's ``notice_days`` (``termination_notice_days``
  for a termination notice). A notice whose subjects belong to no known application is held
  to the smallest period any defined programme publishes (the most lenient reading).
* :class:`RelativeUnfiled` — ``AF-APP-RELATIVE-UNFILED``: an approval of an applicant related
  to a caseworker or committee member with no ``RelativeOfOfficialFiled`` before it, or (in
  legacy data) approved by the related official.
* :class:`ApprovalWithoutNotice` — ``AF-APP-NO-NOTICE`` for an approval (live or legacy) with
  no preliminary-opinion notice, a notice recorded only after it (backdated), a notice that
  had not ended, or an objection left uninvestigated (APP-8).
* :class:`SpotCheckNotReproducible` — ``AF-APP-SPOTCHECK``: a county sample that is not the one
  ``SPLITMIX64-FISHER-YATES-v1`` draws from its seed, or smaller than ceil(ratio * N).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.model import DomainEvent
from ledger.domain.notices import window_days
from ledger.domain.periods import parse_date, parse_ratio
from ledger.domain.spot_checks import draw_sample, minimum_sample_size
from ledger.findings.model import Detector, Finding

LEGACY = "LegacyRecordImported"


def legacy_record(event: DomainEvent, record_type: str) -> Mapping[str, Any] | None:
    """The typed record of a ``LegacyRecordImported`` if it is a ``record_type``."""
    if event.event_type != LEGACY:
        return None
    found: Mapping[str, Any] = event.payload["record"]
    return found if found["type"] == record_type else None


@dataclass(frozen=True)
class _Notice:
    notice_id: str
    kind: str
    subject_ids: tuple[str, ...]
    location_org_id: str
    start: date
    end: date
    event_id: str
    legacy: bool


class NoticeTooShort(Detector):
    """``AF-APP-NO-NOTICE`` for short notice windows (see module docstring)."""

    name = "notice-window"
    version = 1
    types = frozenset({"ProgrammeDefined", "ApplicationSubmitted", "PublicNoticePosted", LEGACY})

    def __init__(self) -> None:
        self._days: dict[str, tuple[int, int, str]] = {}
        """programme → (notice days, termination notice days, defining event id)."""
        self._programme_of: dict[str, str] = {}
        self._notices: list[_Notice] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        if event.event_type == "ProgrammeDefined":
            self._days[p["programme_code"]] = (
                p["notice_days"],
                p["termination_notice_days"],
                event.event_id,
            )
        elif event.event_type == "ApplicationSubmitted":
            self._programme_of[event.stream_id] = p["programme_code"]
        elif event.event_type == "PublicNoticePosted":
            self._notices.append(self._notice(p, event, legacy=False))
        else:
            record = legacy_record(event, "PUBLIC_NOTICE")
            if record is not None:
                self._notices.append(self._notice(record, event, legacy=True))

    @staticmethod
    def _notice(p: Mapping[str, Any], event: DomainEvent, *, legacy: bool) -> _Notice:
        return _Notice(
            p["notice_id"],
            p["kind"],
            tuple(p["subject_ids"]),
            p["location_org_id"],
            parse_date(p["start_date"]),
            parse_date(p["end_date"]),
            event.event_id,
            legacy,
        )

    def _minimum(self, notice: _Notice) -> tuple[int, str] | None:
        """The days the notice needed and the ``ProgrammeDefined`` that says so."""
        which = 1 if notice.kind == "TERMINATION" else 0
        programmes = {self._programme_of[s] for s in notice.subject_ids if s in self._programme_of}
        known = [self._days[c] for c in sorted(programmes) if c in self._days]
        rules = known or list(self._days.values())
        if not rules:
            return None
        # Known programmes: the strictest applies; unknown subjects: the most lenient.
        pick = max if known else min
        chosen = pick(rules, key=lambda r: r[1] if which else r[0])
        days: int = chosen[1] if which else chosen[0]
        return days, chosen[2]

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for notice in self._notices:
            if notice.kind == "RESULT_PUBLICATION":
                continue  # the 7-day rule (APP-7) is for opinions and terminations
            needed = self._minimum(notice)
            days = window_days(notice.start, notice.end)
            if needed is None or days >= needed[0]:
                continue
            source = "legacy " if notice.legacy else ""
            yield self.finding(
                "AF-APP-NO-NOTICE",
                [notice.notice_id],
                [notice.event_id, needed[1]],
                f"{source}{notice.kind} notice {notice.notice_id} was up {days} day(s) "
                f"({notice.start} to {notice.end}); {needed[0]} are required",
                rule_ref="APP-7",
                period=f"{notice.start:%Y-%m}",
                admin_unit_id=notice.location_org_id,
            )


class RelativeUnfiled(Detector):
    """``AF-APP-RELATIVE-UNFILED`` (see module docstring)."""

    name = "relative-unfiled"
    version = 1
    types = frozenset(
        {
            "ApplicationSubmitted",
            "OfficialRelationshipDeclared",
            "RelativeOfOfficialFiled",
            "ApplicationApproved",
            LEGACY,
        }
    )

    def __init__(self) -> None:
        self._township: dict[str, str] = {}
        self._declared: dict[str, dict[str, str]] = {}
        """application → official → declaring event id."""
        self._filed: dict[str, set[str]] = {}
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        app = event.stream_id
        kind = event.event_type
        if kind == "ApplicationSubmitted":
            self._township[app] = p["township_org_id"]
        elif kind == "OfficialRelationshipDeclared":
            self._declared.setdefault(app, {})[p["official_actor_id"]] = event.event_id
        elif kind == "RelativeOfOfficialFiled":
            self._filed.setdefault(app, set()).add(p["official_actor_id"])
        elif kind == "ApplicationApproved":
            self._check_live(event)
        else:
            record = legacy_record(event, "APPROVAL")
            if record is not None:
                self._check_legacy(event, record)

    def _check_live(self, event: DomainEvent) -> None:
        app = event.stream_id
        declared = self._declared.get(app, {})
        unfiled = sorted(set(declared) - self._filed.get(app, set()))
        if unfiled:
            self._found.append(
                self.finding(
                    "AF-APP-RELATIVE-UNFILED",
                    [app],
                    [*(declared[o] for o in unfiled), event.event_id],
                    f"application {app} was approved although its applicant is related to "
                    f"{', '.join(unfiled)} and no relationship was filed",
                    rule_ref="APP-11",
                    period=f"{event.day:%Y-%m}",
                    admin_unit_id=self._township.get(app),
                )
            )

    def _check_legacy(self, event: DomainEvent, record: Mapping[str, Any]) -> None:
        officials = sorted(o["official_actor_id"] for o in record["related_officials"])
        if not officials:
            return
        approver_related = record["approver_actor_id"] in officials
        if record["relative_filed"] and not approver_related:
            return
        why = (
            f"was approved by the related official {record['approver_actor_id']}"
            if approver_related
            else "was approved with no relationship filed"
        )
        self._found.append(
            self.finding(
                "AF-APP-RELATIVE-UNFILED",
                [record["application_id"]],
                [event.event_id],
                f"legacy application {record['application_id']} of a relative of "
                f"{', '.join(officials)} {why}",
                rule_ref="APP-11",
                period=record["approved_on"][:7],
                admin_unit_id=event.payload["admin_unit_id"],
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found


class SpotCheckNotReproducible(Detector):
    """``AF-APP-SPOTCHECK`` for samples that do not re-draw (see module docstring)."""

    name = "spot-check-redraw"
    version = 1
    types = frozenset({"CountySpotCheckSampleDrawn", LEGACY})

    def __init__(self) -> None:
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        if event.event_type == "CountySpotCheckSampleDrawn":
            self._check(event, event.payload, legacy=False)
            return
        record = legacy_record(event, "SPOT_CHECK_SAMPLE")
        if record is not None:
            self._check(event, record, legacy=True)

    def _check(self, event: DomainEvent, p: Mapping[str, Any], *, legacy: bool) -> None:
        population: list[str] = list(p["population_ids"])
        sampled: list[str] = list(p["sampled_ids"])
        problems = []
        minimum = minimum_sample_size(parse_ratio(p["ratio"]), len(population))
        if len(sampled) < minimum:
            problems.append(f"{len(sampled)} sampled of {len(population)}, at least {minimum}")
        if (
            len(sampled) > len(population)
            or draw_sample(population, p["rng_seed"], len(sampled)) != sampled
        ):
            problems.append(f"not the sample {p['rng_algorithm']} draws from seed {p['rng_seed']}")
        if not problems:
            return
        source = "legacy " if legacy else ""
        self._found.append(
            self.finding(
                "AF-APP-SPOTCHECK",
                [p["batch_id"]],
                [event.event_id],
                f"{source}spot-check batch {p['batch_id']}: {'; '.join(problems)}",
                rule_ref="APP-10",
                period=(event.payload["period"] if legacy else None) or f"{event.day:%Y-%m}",
                admin_unit_id=p["township_org_id"],
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found


@dataclass
class _Posted:
    """A preliminary-opinion notice as the approval detector needs it."""

    notice_id: str
    end: date
    event_id: str
    position: int
    objections: dict[str, str]
    """Objection id → the event that received it."""
    investigated: dict[str, int]
    """Objection id → log position of its investigation."""


@dataclass(frozen=True)
class _Approval:
    application_id: str
    day: date
    position: int
    event_id: str
    admin_unit_id: str | None
    legacy: bool


class ApprovalWithoutNotice(Detector):
    """``AF-APP-NO-NOTICE`` for approvals (APP-8), live and legacy: one finding per approval.

    An approval is judged against the preliminary-opinion notices naming its application
    (live ``PublicNoticePosted`` and legacy ``PUBLIC_NOTICE`` records alike):

    * none at all: approved with no notice;
    * none recorded before the approval, only after it: a backdated notice;
    * the latest one recorded before it ends on or after the approval date: approved before
      the notice period was over;
    * an objection received on that notice and not investigated before the approval.

    A notice that was too short is :class:`NoticeTooShort`'s finding (on the notice), not a
    second one here: one irregularity, one finding.
    """

    name = "approval-notice"
    version = 1
    types = frozenset(
        {
            "PublicNoticePosted",
            "ObjectionReceived",
            "ObjectionInvestigated",
            "ApplicationSubmitted",
            "ApplicationApproved",
            LEGACY,
        }
    )

    def __init__(self) -> None:
        self._notices: dict[str, list[_Posted]] = {}
        """application id → its preliminary-opinion notices, in log order."""
        self._by_id: dict[str, _Posted] = {}
        self._objection_notice: dict[str, str] = {}
        self._township: dict[str, str] = {}
        self._approvals: list[_Approval] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "PublicNoticePosted":
            self._posted(p, event)
        elif kind == "ObjectionReceived":
            notice = self._by_id.get(event.stream_id)
            if notice is not None:
                notice.objections[p["objection_id"]] = event.event_id
                self._objection_notice[p["objection_id"]] = notice.notice_id
        elif kind == "ObjectionInvestigated":
            notice_id = self._objection_notice.get(p["objection_id"])
            if notice_id is not None:
                investigated = self._by_id[notice_id].investigated
                investigated.setdefault(p["objection_id"], event.position)
        elif kind == "ApplicationSubmitted":
            self._township[event.stream_id] = p["township_org_id"]
        elif kind == "ApplicationApproved":
            self._approvals.append(
                _Approval(
                    event.stream_id,
                    event.day,
                    event.position,
                    event.event_id,
                    self._township.get(event.stream_id),
                    legacy=False,
                )
            )
        else:
            self._legacy(event)

    def _legacy(self, event: DomainEvent) -> None:
        notice = legacy_record(event, "PUBLIC_NOTICE")
        if notice is not None:
            self._posted(notice, event)
        approval = legacy_record(event, "APPROVAL")
        if approval is not None:
            self._approvals.append(
                _Approval(
                    approval["application_id"],
                    parse_date(approval["approved_on"]),
                    event.position,
                    event.event_id,
                    event.payload["admin_unit_id"],
                    legacy=True,
                )
            )

    def _posted(self, p: Mapping[str, Any], event: DomainEvent) -> None:
        if p["kind"] != "PRELIMINARY_OPINION":
            return
        notice = _Posted(
            p["notice_id"], parse_date(p["end_date"]), event.event_id, event.position, {}, {}
        )
        self._by_id[notice.notice_id] = notice
        for subject in p["subject_ids"]:
            self._notices.setdefault(subject, []).append(notice)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for approval in self._approvals:
            problem = self._problem(approval)
            if problem is None:
                continue
            why, cited = problem
            source = "legacy " if approval.legacy else ""
            yield self.finding(
                "AF-APP-NO-NOTICE",
                [approval.application_id],
                [approval.event_id, *cited],
                f"{source}application {approval.application_id} was approved on "
                f"{approval.day} {why}",
                rule_ref="APP-8",
                period=f"{approval.day:%Y-%m}",
                admin_unit_id=approval.admin_unit_id,
            )

    def _problem(self, approval: _Approval) -> tuple[str, list[str]] | None:
        """Why the approval lacks a completed notice, and the notice events that show it."""
        notices = self._notices.get(approval.application_id, [])
        if not notices:
            return "with no preliminary-opinion notice", []
        before = [n for n in notices if n.position < approval.position]
        if not before:
            late = notices[0]
            return (
                f"before its notice {late.notice_id} was recorded (a backdated notice)",
                [late.event_id],
            )
        notice = before[-1]
        if approval.day <= notice.end:
            return (
                f"before notice {notice.notice_id} ended on {notice.end}",
                [notice.event_id],
            )
        open_objections = sorted(
            o
            for o in notice.objections
            if notice.investigated.get(o, approval.position) >= approval.position
        )
        if open_objections:
            return (
                f"with objection(s) {', '.join(open_objections)} to notice "
                f"{notice.notice_id} not investigated",
                [notice.event_id, *(notice.objections[o] for o in open_objections)],
            )
        return None
