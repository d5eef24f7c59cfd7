"""``AF-SCO-SELF-INFLATION`` (``domain.md`` §7.6, M): a self-assessment well above the verified
result (002 自查; 004 篇九 "漏報、瞞報").

For each (scheme, assessee) with a year-end ``SelfAssessmentSubmitted`` (its latest one) and
verified indicator scores (``IndicatorScoreRecorded``, the latest per indicator), over the
indicators present in both:

* the self-scored points minus the verified ``final`` points, summed, above 5 points `[I]`; or
* an indicator self-reported as met (``met: true``) whose verified score used F-SHORT (the
  target was missed; F-BONUS is the formula of a met target, §5.1-5.2).

Either is one finding per (scheme, assessee), citing the self-assessment and the scores that
contradict it. Points are exact decimals (§5.0). Mid-year self-checks are not compared: the
verified scores are the year's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding

MAX_EXCESS_POINTS = Decimal(5)
"""§7.6 AF-SCO-SELF-INFLATION: "self score minus final score > 5 points `[I]`"."""

MET_FORMULA = "F-BONUS"
"""§5.1: the indicator score of a met target (F-SHORT is the missed one, §5.2)."""


@dataclass(frozen=True)
class _Verified:
    final: Decimal
    met: bool
    event_id: str


class SelfInflation(Detector):
    """``AF-SCO-SELF-INFLATION`` (see module docstring)."""

    name = "self-inflation"
    version = 1
    types = frozenset({"SelfAssessmentSubmitted", "IndicatorScoreRecorded"})

    def __init__(self, max_excess: Decimal = MAX_EXCESS_POINTS) -> None:
        self.max_excess = max_excess
        self._self: dict[tuple[str, str], DomainEvent] = {}
        """(scheme, assessee) → its latest year-end self-assessment."""
        self._verified: dict[tuple[str, str], dict[str, _Verified]] = {}
        """(scheme, assessee) → indicator → its latest verified score."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        key = (p["scheme_id"], p["assessee"])
        if event.event_type == "SelfAssessmentSubmitted":
            if p["round"] == "YEAR_END":
                self._self[key] = event
            return
        met = p["formula_id"] == MET_FORMULA
        scores = self._verified.setdefault(key, {})
        scores[p["indicator_id"]] = _Verified(Decimal(p["final"]), met, event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for key, submitted in sorted(self._self.items()):
            found = self._check(key, submitted)
            if found is not None:
                yield found

    def _check(self, key: tuple[str, str], submitted: DomainEvent) -> Finding | None:
        verified = self._verified.get(key, {})
        claimed = {s["indicator_id"]: s for s in submitted.payload["self_scores"]}
        common = sorted(set(claimed) & set(verified))
        excess = sum(
            (Decimal(claimed[i]["points"]) - verified[i].final for i in common), Decimal(0)
        )
        false_met = [i for i in common if claimed[i]["met"] and not verified[i].met]
        reasons = []
        if excess > self.max_excess:
            reasons.append(f"self-scored {excess} points above the verified scores")
        if false_met:
            reasons.append(f"reported met but verified missed: {', '.join(false_met)}")
        if not reasons:
            return None
        scheme, assessee = key
        return self.finding(
            "AF-SCO-SELF-INFLATION",
            [scheme, assessee],
            [submitted.event_id, *(verified[i].event_id for i in common)],
            f"{assessee} in {scheme}: {'; '.join(reasons)} ({len(common)} indicators compared)",
            rule_ref=f"domain.md §7.6 AF-SCO-SELF-INFLATION (excess > {self.max_excess} "
            "points [I], or met vs F-SHORT)",
            period=submitted.payload["submitted_at"][:4],
            admin_unit_id=assessee,
        )
