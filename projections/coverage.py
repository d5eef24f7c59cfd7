"""Coverage metrics (``domain.md`` §6.5 ``CoverageMetrics``, §5.9), bitemporal.

The stored rows are the *inputs* of the metrics, one per subject, so that every metric can be
computed on both time axes (as known at a log position, as effective at a month or date):

* ``enrolment:<enrolment_id>`` — programme, township and village (from the application),
  the support mode history ``[[from_period, mode], …]`` (enrolment, ``SupportModeChanged``),
  first and last payable month (``TerminationDecided``, with the roster's rule for deaths);
* ``stay:<institution>/<person>/<admitted_on>`` — an institution residency
  (``InstitutionResidencyRecorded``: admission, then discharge);
* ``target:<year>:<programme>`` — the centralised-support target published for a year
  (``CoverageTargetsPublished``).

Beside them, the organisation tree (``OrganisationRegistered``: each unit's parent), so that
a question about a county covers its townships and institutions.

:func:`summarise` turns the rows valid at a position into the metrics: per township and
programme the active beneficiaries in a month by support mode and the centralised-support
rate = centralised ÷ (centralised + dispersed) as an exact fraction, checked against the
target in force for the programme and the month's year (N-WB-7; EX-RATE-1/2, via
:mod:`ledger.domain.assistance_indicators`) — no target published, no check; per
institution the residents on a date. Bed-construction progress is an assessment target
(agreement milestones, the target-progress read model), not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, ClassVar, Self

import orjson

from ledger.domain.assistance_indicators import centralised_rate, centralised_rate_met
from ledger.domain.periods import parse_ratio
from ledger.projections.base import Projection, State
from ledger.projections.events import Event
from ledger.projections.inspections import json_text
from ledger.projections.roster import ApplicationRow, last_payable_period
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table

ENROLMENT, STAY, TARGET = "ENROLMENT", "STAY", "TARGET"
CENTRALISED, DISPERSED = "CENTRALISED", "DISPERSED"
RATE_RULE = "N-WB-7"


@dataclass(slots=True)
class CoverageRow:
    """One enrolment or institution stay, as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("subject_id", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("programme_code", "TEXT"),
        ("township_org_id", "TEXT"),
        ("residence_org_id", "TEXT"),
        ("institution_id", "TEXT"),
        ("person_id", "TEXT"),
        ("modes", "TEXT NOT NULL"),
        ("first_payable_period", "TEXT"),
        ("last_payable_period", "TEXT"),
        ("terminated", "BIGINT NOT NULL"),
        ("termination_reason", "TEXT"),
        ("death_date", "TEXT"),
        ("admitted_on", "TEXT"),
        ("discharged_on", "TEXT"),
        ("centralised_rate_min", "TEXT"),
    )

    subject_id: str
    kind: str
    programme_code: str | None = None
    township_org_id: str | None = None
    residence_org_id: str | None = None
    institution_id: str | None = None
    person_id: str | None = None
    modes: str = "[]"
    first_payable_period: str | None = None
    last_payable_period: str | None = None
    terminated: int = 0
    termination_reason: str | None = None
    death_date: str | None = None
    admitted_on: str | None = None
    discharged_on: str | None = None
    centralised_rate_min: str | None = None
    """TARGET rows: the published share (``first_payable_period`` holds the year)."""
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    def mode_in(self, period: str | None) -> str | None:
        """The support mode in ``period`` (the latest change from that month or earlier);
        the current mode when ``period`` is ``None``."""
        mode = None
        for since, value in orjson.loads(self.modes):
            if period is None or since <= period:
                mode = value
        return mode

    def active_in(self, period: str | None) -> bool:
        """Payable in ``period``; not terminated when ``period`` is ``None``."""
        if period is None:
            return not self.terminated
        if self.first_payable_period is None or self.first_payable_period > period:
            return False
        return self.last_payable_period is None or self.last_payable_period >= period

    def resident_on(self, day: date | None) -> bool:
        """In the institution on ``day`` (admitted by then, not yet discharged); now when
        ``day`` is ``None``."""
        if self.admitted_on is None:
            return False
        if day is None:
            return self.discharged_on is None
        on = day.isoformat()
        return self.admitted_on <= on and (self.discharged_on is None or self.discharged_on > on)


COVERAGE = Table(
    "proj_coverage",
    CoverageRow,
    versioned=True,
    indexes=("(kind, subject_id) WHERE known_to IS NULL",),
)
COVERAGE_APPLICATIONS = Table("proj_coverage_applications", ApplicationRow, versioned=False)


@dataclass(slots=True)
class OrgRow:
    """An organisation's parent, so a county's question covers its townships."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("org_id", "TEXT NOT NULL"),
        ("parent_org_id", "TEXT"),
    )
    org_id: str
    parent_org_id: str | None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


COVERAGE_ORGS = Table("proj_coverage_orgs", OrgRow, versioned=False)


def within(org_id: str | None, unit: str, parents: dict[str, str | None]) -> bool:
    """``org_id`` is ``unit`` or lies below it in the organisation tree."""
    seen: set[str] = set()
    while org_id is not None and org_id not in seen:
        if org_id == unit:
            return True
        seen.add(org_id)
        org_id = parents.get(org_id)
    return False


class CoverageState(State):
    """Working copies of the coverage inputs and the applications' places."""

    def __init__(
        self,
        subjects: Rows[CoverageRow],
        applications: Rows[ApplicationRow],
        orgs: Rows[OrgRow],
    ) -> None:
        self.subjects = subjects
        self.applications = applications
        self.orgs = orgs

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.subjects, self.applications, self.orgs)


def enrolment_key(enrolment_id: str) -> str:
    return f"enrolment:{enrolment_id}"


def stay_key(payload: dict[str, Any]) -> str:
    return "stay:{}/{}/{}".format(
        payload.get("institution_id"), payload.get("person_id"), payload.get("admitted_on")
    )


# --------------------------------------------------------------------------- pure folds


def target_key(year: object, programme_code: object) -> str:
    return f"target:{year}:{programme_code}"


def _targets(state: CoverageState, ev: Event) -> None:
    """A year's centralised-support target per programme (``CoverageTargetsPublished``)."""
    p = ev.payload
    for code in p.get("programme_codes") or ():
        row = CoverageRow(
            target_key(p.get("year"), code),
            TARGET,
            programme_code=code,
            first_payable_period=str(p.get("year")),
            centralised_rate_min=p.get("centralised_rate_min"),
        )
        state.subjects.add(row.subject_id, row, ev.index)


def _application(state: CoverageState, ev: Event) -> None:
    p = ev.payload
    app_id = str(p.get("application_id") or ev.stream_id)
    row = ApplicationRow(
        app_id, p.get("township_org_id"), p.get("residence_org_id"), p.get("household_id")
    )
    state.applications.add(app_id, row, ev.index)


def _enrolled(state: CoverageState, ev: Event) -> None:
    p = ev.payload
    app = state.applications.get(str(p.get("application_id")))
    first = p.get("first_payable_period")
    row = CoverageRow(
        enrolment_key(ev.stream_id),
        ENROLMENT,
        programme_code=p.get("programme_code"),
        township_org_id=app.township_org_id if app else None,
        residence_org_id=app.residence_org_id if app else None,
        institution_id=p.get("institution_id"),
        person_id=p.get("person_id"),
        modes=json_text([[first, p.get("support_mode")]]),
        first_payable_period=first,
    )
    state.subjects.add(row.subject_id, row, ev.index)


def _on_enrolment(
    apply: Callable[[CoverageRow, dict[str, Any]], None],
) -> Callable[[CoverageState, Event], None]:
    """A fold on a known enrolment (one never enrolled has nothing to count)."""

    def fold(state: CoverageState, ev: Event) -> None:
        key = enrolment_key(ev.stream_id)
        row = state.subjects.get(key)
        if row is not None:
            apply(row, ev.payload)
            state.subjects.touch(key, ev.index)

    return fold


def _mode_changed(row: CoverageRow, p: dict[str, Any]) -> None:
    modes = [m for m in orjson.loads(row.modes) if m[0] != p.get("effective_period")]
    modes.append([p.get("effective_period"), p.get("to")])
    row.modes = json_text(sorted(modes, key=lambda m: str(m[0])))
    row.institution_id = p.get("institution_id")


def _proposed(row: CoverageRow, p: dict[str, Any]) -> None:
    row.termination_reason = p.get("reason_code")
    row.death_date = p.get("death_date")


def _withdrawn(row: CoverageRow, _p: dict[str, Any]) -> None:
    row.termination_reason = row.death_date = None


def _decided(row: CoverageRow, p: dict[str, Any]) -> None:
    row.terminated = 1
    row.last_payable_period = last_payable_period(
        str(p.get("effective_period")), row.termination_reason, row.death_date
    )


def _residency(state: CoverageState, ev: Event) -> None:
    p = ev.payload
    key = stay_key(p)
    row = state.subjects.get(key) or CoverageRow(
        key,
        STAY,
        institution_id=p.get("institution_id"),
        person_id=p.get("person_id"),
        admitted_on=p.get("admitted_on"),
    )
    row.discharged_on = p.get("discharged_on") or row.discharged_on
    state.subjects.add(key, row, ev.index)


def _organisation(state: CoverageState, ev: Event) -> None:
    org_id = str(ev.payload.get("org_id"))
    state.orgs.add(org_id, OrgRow(org_id, ev.payload.get("parent_org_id")), ev.index)


COVERAGE_FOLDS: dict[str, Callable[[CoverageState, Event], None]] = {
    "OrganisationRegistered": _organisation,
    "ApplicationSubmitted": _application,
    "BeneficiaryEnrolled": _enrolled,
    "SupportModeChanged": _on_enrolment(_mode_changed),
    "TerminationProposed": _on_enrolment(_proposed),
    "TerminationWithdrawn": _on_enrolment(_withdrawn),
    "TerminationDecided": _on_enrolment(_decided),
    "InstitutionResidencyRecorded": _residency,
    "CoverageTargetsPublished": _targets,
}


class CoverageProjection(Projection[CoverageState]):
    """The inputs of ``CoverageMetrics`` (see module docstring)."""

    name = "coverage"
    version = 2
    types = frozenset(COVERAGE_FOLDS)
    tables = (COVERAGE, COVERAGE_APPLICATIONS, COVERAGE_ORGS)

    def empty(self) -> CoverageState:
        return CoverageState(Rows(COVERAGE), Rows(COVERAGE_APPLICATIONS), Rows(COVERAGE_ORGS))

    def load(self, tx: Tx, events: Sequence[Event]) -> CoverageState:
        keys: set[str] = set()
        applications: set[str] = set()
        orgs = {str(e.payload.get("org_id")) for e in events if e.stream_type == "registry"}
        for ev in events:
            if ev.event_type == "InstitutionResidencyRecorded":
                keys.add(stay_key(ev.payload))
            elif ev.event_type == "CoverageTargetsPublished":
                codes = ev.payload.get("programme_codes") or ()
                keys |= {target_key(ev.payload.get("year"), c) for c in codes}
            elif ev.stream_type == "enrolment":
                keys.add(enrolment_key(ev.stream_id))
            if ev.event_type == "BeneficiaryEnrolled":
                applications.add(str(ev.payload.get("application_id")))
        return CoverageState(
            Rows(COVERAGE, COVERAGE.load(tx, keys)),
            Rows(COVERAGE_APPLICATIONS, COVERAGE_APPLICATIONS.load(tx, applications)),
            Rows(COVERAGE_ORGS, COVERAGE_ORGS.load(tx, orgs)),
        )

    def fold(self, state: CoverageState, event: Event) -> None:
        handler = COVERAGE_FOLDS.get(event.event_type)
        if handler is not None:
            handler(state, event)


# --------------------------------------------------------------------------- the metrics


def percent_text(ratio: Fraction) -> str:
    """``ratio`` as a percentage with two decimals, half up (13/30 → "43.33")."""
    hundredths = math.floor(ratio * 10_000 + Fraction(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


@dataclass(frozen=True, slots=True)
class UnitCoverage:
    """One township's beneficiaries of one programme in a month (or now)."""

    admin_unit_id: str | None
    programme_code: str | None
    centralised: int
    dispersed: int
    target: Fraction | None = None
    """The centralised-support target in force for the programme and year, if published."""

    def as_dict(self) -> dict[str, Any]:
        rate = centralised_rate(self.centralised, self.dispersed)
        target = self.target
        tracked = target is not None
        return {
            "admin_unit_id": self.admin_unit_id,
            "programme_code": self.programme_code,
            "active": self.centralised + self.dispersed,
            "centralised": self.centralised,
            "dispersed": self.dispersed,
            "centralised_rate": f"{rate.numerator}/{rate.denominator}",
            "centralised_rate_percent": percent_text(rate),
            "target": str(target) if target is not None else None,
            "target_met": centralised_rate_met(self.centralised, self.dispersed, target)
            if target is not None
            else None,
            "rule": RATE_RULE if tracked else None,
        }


def targets_in_force(rows: Iterable[CoverageRow], period: str | None) -> dict[str, Fraction]:
    """Programme code → the target of ``period``'s year (now: the latest year published)."""
    by_year: dict[str, dict[str, Fraction]] = {}
    for row in rows:
        if row.kind == TARGET and row.centralised_rate_min is not None:
            year = str(row.first_payable_period)
            by_year.setdefault(year, {})[str(row.programme_code)] = parse_ratio(
                row.centralised_rate_min
            )
    if not by_year:
        return {}
    year = period[:4] if period else max(by_year)
    return by_year.get(year, {})


def unit_coverage(rows: Sequence[CoverageRow], period: str | None) -> list[UnitCoverage]:
    """Active enrolments in ``period`` counted per (township, programme) and support mode,
    with the centralised-support target in force for the programme."""
    targets = targets_in_force(rows, period)
    counts: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        if row.kind != ENROLMENT or not row.active_in(period):
            continue
        key = (row.township_org_id or "", row.programme_code or "")
        pair = counts.setdefault(key, [0, 0])
        pair[0 if row.mode_in(period) == CENTRALISED else 1] += 1
    return [
        UnitCoverage(unit or None, programme or None, c, d, targets.get(programme))
        for (unit, programme), (c, d) in sorted(counts.items())
    ]


def institution_occupancy(rows: Iterable[CoverageRow], day: date | None) -> list[dict[str, Any]]:
    """Residents per institution on ``day`` (now when ``None``)."""
    residents: dict[str, int] = {}
    for row in rows:
        if row.kind == STAY and row.institution_id is not None:
            residents.setdefault(row.institution_id, 0)
            if row.resident_on(day):
                residents[row.institution_id] += 1
    return [{"institution_id": k, "residents": v} for k, v in sorted(residents.items())]


def summarise(rows: Sequence[CoverageRow], period: str | None, day: date | None) -> dict[str, Any]:
    """The coverage metrics of ``rows`` (all valid at one position) in ``period``/on ``day``."""
    return {
        "units": [u.as_dict() for u in unit_coverage(rows, period)],
        "institutions": institution_occupancy(rows, day),
    }
