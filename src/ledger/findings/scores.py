"""Score detector (``domain.md`` §7.6): ``AF-SCO-MISMATCH`` for indicator scores that do not
recompute.

An imported legacy ``INDICATOR_SCORE`` record carries its inputs as exact decimal strings
(``target``, ``actual``, ``base_points`` and, for a bonus, the peer group's ``r_max``) and
optionally the scheme's rule parameters under their published names (``shortfall_step``,
``shortfall_mode`` is not a decimal and so takes its default, …). The detector re-derives the
score with F-BONUS / F-SHORT (:func:`ledger.domain.scoring.score_indicator`, stored to 4
decimals half-up, §5.0) and raises a finding when the recorded score differs. A record
without ``r_max`` earns no bonus (no peer over-completed, or the indicator is not a bonus
indicator).

Live ``IndicatorScoreRecorded`` decisions are held to the same recomputation on the append
path (SCO-3).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.domain.model import DomainEvent
from ledger.domain.scoring import (
    FORMULA_VERSION,
    IndicatorInput,
    rules_from_config,
    score_indicator,
)
from ledger.findings.model import Detector, Finding
from ledger.findings.procedure import LEGACY, legacy_record

RULE_KEYS = frozenset(
    {"bonus_top_fraction", "shortfall_step", "shortfall_deduction", "deduction_cap"}
)


def recompute(record: Mapping[str, Any]) -> tuple[Decimal, str]:
    """The stored score and formula id F-BONUS / F-SHORT give for a legacy score record."""
    inputs: Mapping[str, str] = record["inputs"]
    rules = rules_from_config({k: v for k, v in inputs.items() if k in RULE_KEYS})
    item = IndicatorInput(
        assessee=record["assessee_org_id"],
        indicator_id=record["indicator_id"],
        target=Fraction(inputs["target"]),
        actual=Fraction(inputs["actual"]),
        base_points=Fraction(inputs["base_points"]),
        bonus_eligible="r_max" in inputs,
    )
    r_max = Fraction(inputs["r_max"]) if "r_max" in inputs else None
    result = score_indicator(item, r_max, rules)
    return result.final, result.formula_id


class ScoreMismatch(Detector):
    """``AF-SCO-MISMATCH`` over legacy indicator scores (see module docstring)."""

    name = "score-recompute"
    version = 1
    types = frozenset({LEGACY})

    def __init__(self) -> None:
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        record = legacy_record(event, "INDICATOR_SCORE")
        if record is None:
            return
        subjects = [record["scheme_id"], record["indicator_id"], record["assessee_org_id"]]
        try:
            expected, formula = recompute(record)
        except (KeyError, ValueError, ZeroDivisionError) as e:
            # Inputs that cannot be recomputed at all are a mismatch too, and say why.
            self._found.append(self._mismatch(event, subjects, f"cannot be recomputed ({e})"))
            return
        recorded = Decimal(record["recorded_score"])
        if recorded != expected:
            self._found.append(
                self._mismatch(
                    event,
                    subjects,
                    f"records {recorded} ({record['formula_id']}); {formula} gives {expected}",
                )
            )

    def _mismatch(self, event: DomainEvent, subjects: list[str], why: str) -> Finding:
        scheme, indicator, assessee = subjects
        return self.finding(
            "AF-SCO-MISMATCH",
            subjects,
            [event.event_id],
            f"legacy score of {assessee} on indicator {indicator} in scheme {scheme} {why}",
            rule_ref=f"F-BONUS/F-SHORT v{FORMULA_VERSION}",
            period=event.payload["period"],
            admin_unit_id=assessee,
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found
