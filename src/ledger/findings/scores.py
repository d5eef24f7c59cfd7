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
path (SCO-3), against the peer group *as recorded so far*. :class:`LiveScoreMismatch`
re-derives each live score (the latest recorded for its scheme, assessee and indicator)
against the whole log instead, through the same rules' folds
(:func:`ledger.domain.assessment_scores.expected_score`): a score that was right when recorded
but went stale (a peer's result recorded later raised the bonus ceiling ``r_max``) is a
difference in the score table too, and so is a score that lost its result or its scheme.
It also re-derives each scheme's latest ``AssessmentConsolidated`` (every assessee's S, O, M,
T, B and P, F-ANNUAL) from the same folds: a component or total that differs is a mismatch
(one finding per scheme and assessee).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.domain import assessment_results
from ledger.domain.assessment_scores import expected_score
from ledger.domain.assessment_state import schemes
from ledger.domain.model import DomainEvent, DomainState
from ledger.domain.rules import build_rules
from ledger.domain.scoring import (
    FORMULA_VERSION,
    IndicatorInput,
    rules_from_config,
    score_indicator,
)
from ledger.domain.scoring_replay import ranking_rows
from ledger.errors import RuleViolation
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


_SCORE_FOLDS = frozenset(
    {
        "AssessmentSchemePublished",
        "TargetResponsibilityAgreementSigned",
        "TargetDecomposed",
        "IndicatorResultRecorded",
        "IndicatorScoreRecorded",
        "OrganisationImplementationScored",
        "SurveyScoreRecorded",
        "PenaltyPointsApplied",
        "BonusPointsApplied",
        "AwardEligibilityRevoked",
        "TieBrokenByDecision",
        "VetoApplied",
        "AssessmentConsolidated",
    }
)
"""What the recomputation of indicator scores and annual totals reads (scheme, agreement,
results, component scores, cited points, revocations, decided ties)."""

_COMPONENTS = ("S", "O", "M", "T", "B", "P")


class LiveScoreMismatch(Detector):
    """``AF-SCO-MISMATCH`` over live ``IndicatorScoreRecorded`` decisions (see module
    docstring): one finding per (scheme, indicator, assessee)."""

    name = "live-score-recompute"
    version = 1
    types = _SCORE_FOLDS

    def __init__(self) -> None:
        self._rules = build_rules()
        self._state = DomainState()
        self._scores: dict[tuple[str, str, str], DomainEvent] = {}
        """(scheme, indicator, assessee) → the latest score recorded for it."""
        self._consolidated: dict[str, DomainEvent] = {}
        """scheme → its latest ``AssessmentConsolidated``."""

    def observe(self, event: DomainEvent) -> None:
        self._rules.apply(self._state, event)
        self._state.position = event.position + 1
        p = event.payload
        if event.event_type == "IndicatorScoreRecorded":
            self._scores[p["scheme_id"], p["indicator_id"], p["assessee"]] = event
        elif event.event_type == "AssessmentConsolidated":
            self._consolidated[p["scheme_id"]] = event

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._indicator_findings()
        for scheme_id, event in sorted(self._consolidated.items()):
            yield from self._consolidation_findings(scheme_id, event)

    def _consolidation_findings(self, scheme_id: str, event: DomainEvent) -> Iterator[Finding]:
        """Each assessee whose consolidated components or total differ from the
        recomputation over the whole log (F-ANNUAL, SCO-6)."""
        scheme = schemes(self._state).get(scheme_id)
        if scheme is None:
            return
        expected: dict[str, dict[str, object]] = {}
        failure: str | None = None
        try:
            rows = ranking_rows(assessment_results.recompute(self._state, scheme))
        except (RuleViolation, KeyError, ValueError) as e:
            failure = f"cannot be recomputed ({e})"
        else:
            expected = {str(r["assessee"]): r for r in rows}
        for row in event.payload["ranking"]:
            assessee = row["assessee"]
            want = expected.get(assessee)
            if want is None:
                why = failure or "is not an assessee of the recomputation"
            else:
                differ = [
                    f"{c} {row[c]} (recomputed {want[c]})"
                    for c in _COMPONENTS
                    if Decimal(row[c]) != Decimal(str(want[c]))
                ]
                if not differ:
                    continue
                why = "records " + ", ".join(differ)
            yield self.finding(
                "AF-SCO-MISMATCH",
                [scheme_id, "CONSOLIDATION", assessee],
                [event.event_id],
                f"consolidated result of {assessee} in scheme {scheme_id} {why}",
                rule_ref="SCO-6 (F-ANNUAL)",
                period=f"{scheme.config.year}",
                admin_unit_id=assessee,
            )

    def _indicator_findings(self) -> Iterator[Finding]:
        for subjects, event in sorted(self._scores.items()):
            why = self._difference(event)
            if why is not None:
                yield self.finding(
                    "AF-SCO-MISMATCH",
                    subjects,
                    [event.event_id],
                    f"score of {subjects[2]} on indicator {subjects[1]} in scheme "
                    f"{subjects[0]} {why}",
                    rule_ref=f"SCO-3 (F-BONUS/F-SHORT v{FORMULA_VERSION})",
                    period=f"{event.day:%Y}",
                    admin_unit_id=subjects[2],
                )

    def _difference(self, event: DomainEvent) -> str | None:
        """How the recorded score differs from the recomputation, if it does."""
        p = event.payload
        scheme = schemes(self._state).get(p["scheme_id"])
        if scheme is None:
            return f"cites scheme {p['scheme_id']}, which was never published"
        try:
            expected = expected_score(self._state, scheme, event)
        except (RuleViolation, KeyError) as e:
            return f"cannot be recomputed ({e})"
        recorded = Decimal(p["final"])
        if recorded == expected.final and p["formula_id"] == expected.formula_id:
            return None
        return (
            f"records {recorded} ({p['formula_id']}); {expected.formula_id} over the whole "
            f"peer group gives {expected.final}"
        )
