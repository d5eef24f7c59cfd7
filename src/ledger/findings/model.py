"""What a findings detector is, and what it finds (``domain.md`` §7).

A detector is a versioned, deterministic fold over the decoded events of a log prefix
(:class:`~ledger.domain.model.DomainEvent`): :meth:`Detector.observe` takes each event of the
types it declares, in log order; :meth:`Detector.findings` says which irregularities the
prefix shows *on a business date* (the ``clock``). Nothing else goes in: the same prefix and
clock always give the same findings, which is what lets an auditor re-run a detector and
compare.

The clock is the latest business date in the prefix (:class:`DetectorSet`), not the wall
clock: a deadline counts as missed when the log itself has moved past it.

Each :class:`Finding` cites its evidence events and the rule it applied; its id is derived
from (code, subjects, detector, version), so a finding is raised once per detector version
(AUD-1) and a re-run finds the same id.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.domain.audit_findings import FindingKey, finding_key
from ledger.domain.model import DomainEvent

SEVERITY: dict[str, str] = {
    # §7.1-7.8: the severity column (L/M rows of AF-APP-SLA taken as M).
    "AF-ELIG-SHOULD-EXIT": "H",
    "AF-ELIG-EXCLUSIVE-DUPLICATE": "H",
    "AF-ELIG-GRADUAL-OVERRUN": "H",
    "AF-ELIG-LOST-COVERAGE": "H",
    "AF-PAY-AFTER-EXIT": "H",
    "AF-PAY-UNAUTHORISED": "H",
    "AF-PAY-NOT-IN-FULL": "M",
    "AF-PAY-LATE": "M",
    "AF-PAY-OVER": "H",
    "AF-PAY-DOUBLE-MODE": "H",
    "AF-PAY-GHOST": "H",
    "AF-PAY-ARREARS": "H",
    "AF-PAY-WRONG-CHANNEL": "H",
    "AF-PAY-SHARED-ACCOUNT": "H",
    "AF-FUND-OFF-EARMARK": "H",
    "AF-FUND-HEADCOUNT-MISMATCH": "H",
    "AF-FUND-DIVERSION": "H",
    "AF-FUND-MATCHING": "M",
    "AF-APP-NO-NOTICE": "H",
    "AF-APP-NO-RESULT-PUBLICATION": "M",
    "AF-APP-SLA": "M",
    "AF-APP-SPOTCHECK": "H",
    "AF-APP-RELATIVE-UNFILED": "H",
    "AF-TA-NO-MONTHLY-APPROVAL": "M",
    "AF-STD-LATE": "L",
    "AF-STD-BELOW-FLOOR": "H",
    "AF-CAP-EXCEEDED": "H",
    "AF-CAP-OOP": "H",
    "AF-SCO-MISMATCH": "H",
    "AF-SCO-LATE": "L",
    "AF-SCO-NO-CAUSE": "H",
    "AF-SCO-PENALTY-MISSING": "H",
    "AF-SCO-PROGRESS-INFLATION": "H",
    "AF-AWD-INCONSISTENT": "H",
    "AF-TGT-MILESTONE": "M",
    "AF-INS-LATE-REPORT": "L",
    "AF-INS-NO-EVIDENCE": "L",
    "AF-INS-TOO-FEW": "M",
    "AF-RECT-RECURRING": "M",
    "AF-ESC-NOT-APPLIED": "H",
    "AF-INS-CONFLICT": "H",
    "AF-INS-LEAK": "H",
    "AF-RECT-CLOSED-UNVERIFIED": "H",
    "AF-SUR-QUOTA": "M",
    "AF-BACKDATED": "H",
    "AF-APP-THIN-INVESTIGATION": "M",
    "AF-APP-DEFICIENCY-REPEAT": "L",
    "AF-APP-REJECT-NO-REASON": "M",
    "AF-RECT-EXTENSION-ABUSE": "L",
    "AF-SCO-DOUBLE-PENALTY": "L",
    "AF-INS-MOSTLY-ANNOUNCED": "L",
    "AF-SUR-DONTKNOW": "L",
    "AF-COR-NEAR-DECISION": "M",
    "AF-RECT-OVERDUE": "M",
    "AF-SCO-SELF-INFLATION": "M",
    "AF-ELIG-PERIODIC-REVIEW-MISSING": "M",
    "AF-FUND-COMMINGLED": "M",
    "AF-CAP-MULTI-PREFERENCE": "M",
}
"""Severity of each finding code the detectors (or the soft invariants) can raise."""


def severity_of(code: str) -> str:
    """The §7 severity of ``code`` (M for a code this table does not know yet)."""
    return SEVERITY.get(code, "M")


@dataclass(frozen=True, slots=True)
class Finding:
    """One irregularity found by a detector, with everything ``AuditFindingRaised`` carries."""

    code: str
    subject_refs: tuple[str, ...]
    evidence_event_ids: tuple[str, ...]
    detector: str
    detector_version: int
    summary: str
    rule_ref: str | None = None
    period: str | None = None
    admin_unit_id: str | None = None

    @property
    def severity(self) -> str:
        return severity_of(self.code)

    @property
    def key(self) -> FindingKey:
        """What makes two findings the same irregularity (AUD-1)."""
        return finding_key(self.code, self.subject_refs, self.detector, self.detector_version)

    @property
    def finding_id(self) -> str:
        """``F-`` and 24 hex digits of SHA-256 over the key: stable across re-runs."""
        code, subjects, detector, version = self.key
        text = "\x1f".join((code, "\x1e".join(subjects), detector, str(version)))
        return "F-" + hashlib.sha256(text.encode()).hexdigest()[:24]

    def payload(self) -> dict[str, object]:
        """The ``AuditFindingRaised`` payload of this finding."""
        return {
            "finding_id": self.finding_id,
            "code": self.code,
            "severity": self.severity,
            "subject_refs": list(self.subject_refs),
            "evidence_event_ids": list(dict.fromkeys(self.evidence_event_ids)),
            "detector": self.detector,
            "detector_version": self.detector_version,
            "rule_ref": self.rule_ref,
            "period": self.period,
            "admin_unit_id": self.admin_unit_id,
            "summary": self.summary[:1000],
        }


class Detector(ABC):
    """A versioned fold over decoded events (see module docstring).

    Bump ``version`` when the rule changes: findings are keyed by it, so a new version may
    raise again what an old one raised (and the old findings keep citing the old version).
    """

    name: str
    version: int
    types: frozenset[str]

    @abstractmethod
    def observe(self, event: DomainEvent) -> None:
        """Fold one event of a type in :attr:`types` (log order)."""

    @abstractmethod
    def findings(self, clock: date) -> Iterable[Finding]:
        """The irregularities the events observed so far show on business date ``clock``."""

    def finding(
        self,
        code: str,
        subjects: Iterable[str],
        evidence: Iterable[str],
        summary: str,
        *,
        rule_ref: str | None = None,
        period: str | None = None,
        admin_unit_id: str | None = None,
    ) -> Finding:
        """A finding of this detector (name and version filled in)."""
        return Finding(
            code=code,
            subject_refs=tuple(subjects),
            evidence_event_ids=tuple(evidence),
            detector=self.name,
            detector_version=self.version,
            summary=summary,
            rule_ref=rule_ref,
            period=period,
            admin_unit_id=admin_unit_id,
        )


def add_working_days(start: date, days: int) -> date:
    """``start`` plus ``days`` working days, Monday to Friday `[I]`.

    Why Monday to Friday: no ``WorkingDayCalendarPublished`` event exists yet; when it does,
    the detectors that count working days take the published calendar instead.
    """
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day
