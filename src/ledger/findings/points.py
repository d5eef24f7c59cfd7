"""Point-adjustment detectors (``domain.md`` §7.6): penalties and bonuses against their causes.

* ``AF-SCO-NO-CAUSE`` — a ``PenaltyPointsApplied`` or ``BonusPointsApplied`` whose
  ``cause_event_id`` is no event recorded before it, is an event of a type that cannot cause
  it (a penalty cites a criticism or media exposure, a bonus a commendation:
  ``assessment_scores.PENALTY_CAUSES`` / ``BONUS_CAUSES``), or concerns another unit or
  another year than the scheme's (SCO-2). One finding per adjustment.
* ``AF-SCO-PENALTY-MISSING`` — a ``CriticismIssued`` that the scheme of its year prices
  (its subject in the scheme's ``priced_related_to`` and a non-zero price in its
  ``penalty_schedule``, F-PEN), against a unit assessed in that scheme (the agent of one of
  its target agreements), with no ``PenaltyPointsApplied`` in that scheme citing it once the
  scheme is consolidated (``AssessmentConsolidated``): until then the deduction may still
  come. One finding per (criticism, scheme).
* ``AF-SCO-PROGRESS-INFLATION`` — :class:`ProgressInflation`: reported progress above its
  verification.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from ledger.domain.assessment_scores import BONUS_CAUSES, PENALTY_CAUSES
from ledger.domain.model import DomainEvent
from ledger.domain.periods import parse_date, parse_ratio
from ledger.domain.scoring_scheme import SchemeConfig, scheme_config
from ledger.domain.supervision_points import points_for
from ledger.findings.model import Detector, Finding

_CAUSE_TYPES = PENALTY_CAUSES | BONUS_CAUSES
_ADJUSTMENTS = frozenset({"PenaltyPointsApplied", "BonusPointsApplied"})


@dataclass(frozen=True)
class _Cause:
    event_type: str
    target_org: str
    day: date
    related_to: str | None
    issuer_level: str | None
    item: str | None


@dataclass
class _Scheme:
    config: SchemeConfig
    event_id: str
    assessees: set[str] = field(default_factory=set)
    penalised: set[str] = field(default_factory=set)
    """Cause event ids some penalty of this scheme cites."""
    consolidated_event_id: str | None = None


class PointAdjustments(Detector):
    """``AF-SCO-NO-CAUSE`` and ``AF-SCO-PENALTY-MISSING`` (see module docstring)."""

    name = "point-adjustments"
    version = 1
    types = (
        _CAUSE_TYPES
        | _ADJUSTMENTS
        | {
            "AssessmentSchemePublished",
            "TargetResponsibilityAgreementSigned",
            "AssessmentConsolidated",
        }
    )

    def __init__(self) -> None:
        self._schemes: dict[str, _Scheme] = {}
        self._causes: dict[str, _Cause] = {}
        self._criticisms: list[str] = []
        self._no_cause: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "AssessmentSchemePublished":
            self._schemes[p["scheme_id"]] = _Scheme(scheme_config(p), event.event_id)
        elif kind == "TargetResponsibilityAgreementSigned":
            scheme = self._schemes.get(p["scheme_id"])
            if scheme is not None:
                scheme.assessees.add(p["agent_org_id"])
        elif kind == "AssessmentConsolidated":
            scheme = self._schemes.get(p["scheme_id"])
            if scheme is not None:
                scheme.consolidated_event_id = event.event_id
        elif kind in _CAUSE_TYPES:
            self._causes[event.event_id] = _Cause(
                kind,
                p["target_org"],
                parse_date(p.get("issued_at") or p["published_at"]),
                p.get("related_to"),
                p.get("issuer_level"),
                p["item"],
            )
            if kind == "CriticismIssued":
                self._criticisms.append(event.event_id)
        else:
            self._adjusted(event)

    def _adjusted(self, event: DomainEvent) -> None:
        p = event.payload
        scheme = self._schemes.get(p["scheme_id"])
        penalty = event.event_type == "PenaltyPointsApplied"
        if penalty and scheme is not None:
            scheme.penalised.add(p["cause_event_id"])
        why = self._no_cause_reason(event, scheme)
        if why is None:
            return
        self._no_cause.append(
            self.finding(
                "AF-SCO-NO-CAUSE",
                [event.event_id],
                [event.event_id] + ([p["cause_event_id"]] if why[1] else []),
                f"{event.event_type} of {p['points']} points to {p['assessee']} in scheme "
                f"{p['scheme_id']}: {why[0]}",
                rule_ref="SCO-2",
                period=None if scheme is None else str(scheme.config.year),
                admin_unit_id=p["assessee"],
            )
        )

    def _no_cause_reason(
        self, event: DomainEvent, scheme: _Scheme | None
    ) -> tuple[str, bool] | None:
        """Why the adjustment has no valid cause, and whether the cited cause is recorded."""
        p = event.payload
        cause = self._causes.get(p["cause_event_id"])
        allowed = PENALTY_CAUSES if event.event_type == "PenaltyPointsApplied" else BONUS_CAUSES
        if cause is None:
            return f"its cause {p['cause_event_id']} is not a recorded event of its kind", False
        if cause.event_type not in allowed:
            return (
                f"its cause is a {cause.event_type}, not a {' or '.join(sorted(allowed))}",
                True,
            )
        if cause.target_org != p["assessee"]:
            return f"its cause concerns {cause.target_org}, not {p['assessee']}", True
        if scheme is not None and cause.day.year != scheme.config.year:
            return f"its cause is of {cause.day.year}, not {scheme.config.year}", True
        return None

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._no_cause
        yield from self._missing_penalties()

    def _missing_penalties(self) -> Iterator[Finding]:
        for criticism_id in self._criticisms:
            cause = self._causes[criticism_id]
            for scheme_id, scheme in sorted(self._schemes.items()):
                if not self._owed(cause, scheme) or criticism_id in scheme.penalised:
                    continue
                assert scheme.consolidated_event_id is not None
                yield self.finding(
                    "AF-SCO-PENALTY-MISSING",
                    [criticism_id, scheme_id],
                    [criticism_id, scheme.event_id, scheme.consolidated_event_id],
                    f"a criticism of {cause.target_org} ({cause.issuer_level}, "
                    f"{cause.related_to}, {cause.day}) was never deducted in scheme "
                    f"{scheme_id}, which prices it and is consolidated",
                    rule_ref="F-PEN (SCO-2)",
                    period=str(scheme.config.year),
                    admin_unit_id=cause.target_org,
                )

    @staticmethod
    def _owed(cause: _Cause, scheme: _Scheme) -> bool:
        """Whether ``scheme`` owes a deduction for the criticism ``cause``."""
        config = scheme.config
        return (
            scheme.consolidated_event_id is not None
            and cause.day.year == config.year
            and cause.target_org in scheme.assessees
            and cause.related_to in config.priced_related_to
            and points_for(
                cause.event_type, cause.issuer_level, cause.item, schedule=config.penalty_schedule
            )
            != 0
        )


class ProgressInflation(Detector):
    """``AF-SCO-PROGRESS-INFLATION`` (§7.6, 瞞報): reported progress above what the ledger
    establishes for the same agreement, indicator and period: a ``ProgressVerified`` value
    below the ``ProgressReported`` one. One finding per (agreement, indicator, period), citing
    the latest report and the verification.

    Comparing a reported value with a projection (a centralised-support rate or a bed count
    from the rosters) needs a configured mapping from indicators to ledger metrics, which no
    configuration event carries yet; a verification is the ledger fact used instead.
    """

    name = "progress-inflation"
    version = 1
    types = frozenset({"ProgressReported", "ProgressVerified"})

    def __init__(self) -> None:
        self._reported: dict[tuple[str, str, str], tuple[Fraction, str, str]] = {}
        """(agreement, indicator, period) → (latest reported value, event id, reporting org)."""
        self._verified: dict[tuple[str, str, str], tuple[Fraction, str]] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        key = (event.stream_id, p["indicator_id"], p["period"])
        if event.event_type == "ProgressReported":
            self._reported[key] = (parse_ratio(p["value"]), event.event_id, event.org_id)
        else:
            self._verified[key] = (parse_ratio(p["verified_value"]), event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for key, (verified, verified_id) in sorted(self._verified.items()):
            reported = self._reported.get(key)
            if reported is None or reported[0] <= verified:
                continue
            agreement, indicator, period = key
            yield self.finding(
                "AF-SCO-PROGRESS-INFLATION",
                list(key),
                [reported[1], verified_id],
                f"{reported[2]} reported {reported[0]} on indicator {indicator} for {period} "
                f"(agreement {agreement}); the verification found {verified}",
                rule_ref="domain.md §7.6 AF-SCO-PROGRESS-INFLATION",
                period=period,
                admin_unit_id=reported[2],
            )
