"""Workflow steps of the year's target-management assessment (W10, W11, W15) for the city
demo: the scheme (the repaired 002 reading, SCO-1), responsibility, target agreements with
decomposition and milestones, progress reported and verified, self-assessments, indicator
results and scores, organisation and survey points, penalty and bonus points citing their
criticisms and commendation, the one-vote veto, the consolidated ranking, the award lists,
their approval and ratification, awards, the last place and grades.

The assessment office computes what it records with the published formulas
(:func:`~ledger.domain.scoring_replay.recompute_assessment`, the function the rules
recompute with), from the inputs it scripts here; the rules refuse any recorded score or
ranking that differs (SCO-2, SCO-3, SCO-6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from ledger.client import EnvelopeSigner
from ledger.domain.scoring import (
    IndicatorInput,
    inspection_grade,
    peer_r_max,
    stored,
    survey_points,
)
from ledger.domain.scoring_replay import (
    AssesseeYear,
    Recomputation,
    points_text,
    ranking_rows,
    recompute_assessment,
)
from ledger.domain.scoring_scheme import (
    CATEGORIES_002,
    repaired_002_scheme,
    scheme_config,
)
from ledger.tools.scenario import County, Desk, digest

BEDS = "SOCIAL_ASSISTANCE"
"""The social-assistance indicator is the elderly-home beds target (EX-BEDS-2)."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of an agreement."""

    indicator_id: str
    category: str
    base: str
    target: str = "100"
    milestones: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Cause:
    """A circulated criticism or commendation that the scheme prices."""

    event_type: str
    issuer_level: str
    key: str
    """Where its event id is remembered in ``Desk.event_ids``."""


@dataclass
class AssesseePlan:
    """What one county agrees to and achieves (the demo's script for its assessment)."""

    county: County
    indicators: list[Indicator]
    actuals: Mapping[str, str]
    """indicator id → actual value (default: exactly the target)."""
    organisation: Mapping[str, str]
    survey_composite: str
    passed_provincial_acceptance: bool = True
    penalties: list[Cause] = field(default_factory=list)
    """The criticisms that cost points."""
    bonuses: list[Cause] = field(default_factory=list)
    """The commendations that earn points."""

    @property
    def org_id(self) -> str:
        return self.county.org_id

    def actual(self, indicator: Indicator) -> str:
        return self.actuals.get(indicator.indicator_id, indicator.target)


def standard_indicators(split: Mapping[str, Sequence[Indicator]] | None = None) -> list[Indicator]:
    """One indicator per 002 category at its full weight (ids = category codes), the beds
    target with its milestones (60 % by 30 June, all by 30 November); ``split`` replaces a
    category's indicator by several whose base points add up to its weight."""
    out: list[Indicator] = []
    for code, weight in CATEGORIES_002:
        if split and code in split:
            out += split[code]
        elif code == BEDS:
            out.append(Indicator(code, code, weight, "300", (("06-30", "3/5"), ("11-30", "1"))))
        else:
            out.append(Indicator(code, code, weight))
    return out


@dataclass
class Assessment:
    """The city's assessment office, its leading group, the responsible department and the
    survey team, running one scheme over the counties."""

    desk: Desk
    scheme_id: str
    year: int
    officer: str
    secretary: str
    government: str
    plans: list[AssesseePlan] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    result: Recomputation | None = None
    grades: dict[str, str] = field(default_factory=dict)

    @property
    def dept(self) -> str:
        return f"{self.desk.admin.org_id}-civil-affairs"

    def _signer(self, actor: str) -> EnvelopeSigner:
        return self.desk.signers[actor]

    def _year_stream(self, assessee: str) -> tuple[str, str]:
        return ("assessment_year", f"{self.scheme_id}:{assessee}")

    def register_bodies(self) -> None:
        """The responsible department (民政局) with its assessor and lead-unit coordinator,
        the finance bureau that assists, the survey team, and a working-group member."""
        root = self.desk.admin.org_id
        self.desk.organisation(self.dept, "DEPARTMENT", root, "市民政局")
        self.desk.organisation(f"{root}-finance-bureau", "DEPARTMENT", root, "市财政局")
        self.desk.organisation(f"{root}-survey", "SURVEY_TEAM", root, "国家统计局市调查队")
        self.desk.official(f"{self.dept}-assessor", self.dept, ["responsible_unit_assessor"])
        self.desk.official(f"{self.dept}-lead", self.dept, ["lead_unit_coordinator"])
        self.desk.official(f"{root}-survey-team", f"{root}-survey", ["statistics_survey_team"])
        office = self.desk.signers[self.officer].org_id
        self.desk.official(f"{office}-wg", office, ["assessment_working_group_member"])

    # ------------------------------------------------------------------ W10

    def publish_scheme(self, day: date) -> None:
        """W10.1: the repaired 002 scheme (SCO-1), plus a city commendation's price and a
        mid-year self-check deadline, approved by the leading group."""
        payload = repaired_002_scheme(self.scheme_id, self.year)
        payload["penalty_schedule"].append(
            {
                "event_type": "CommendationIssued",
                "issuer_levels": ["CITY_PARTY_COMMITTEE", "CITY_GOVERNMENT"],
                "item": None,
                "points": "1",
            }
        )
        payload["deadlines"]["mid_year_self_check"] = "07-10"
        payload["approved_by_actor_id"] = self.secretary
        self.payload = payload
        self.desk.emit(
            self._signer(self.officer),
            ("scheme", self.scheme_id),
            "AssessmentSchemePublished",
            payload,
            day,
        )
        self.desk.emit(
            self._signer(self.officer),
            ("scheme", self.scheme_id),
            "ResponsibilityAssigned",
            {
                "scheme_id": self.scheme_id,
                "work_area": BEDS,
                "lead_org_ids": [self.dept],
                "responsible_org_ids": [self.dept],
                "assisting_org_ids": [f"{self.desk.admin.org_id}-finance-bureau"],
            },
            day,
        )

    def sign_agreement(self, plan: AssesseePlan, day: date) -> None:
        """W10.3 and W10.4: the agreement, then the beds target decomposed evenly over the
        county's townships (the parts add up to the whole)."""
        self.plans.append(plan)
        agreement = f"agr-{self.scheme_id}-{plan.org_id}"
        self.desk.emit(
            self._signer(self.government),
            ("agreement", agreement),
            "TargetResponsibilityAgreementSigned",
            {
                "agreement_id": agreement,
                "scheme_id": self.scheme_id,
                "principal_org_id": self.desk.admin.org_id,
                "agent_org_id": plan.org_id,
                "indicators": [self._indicator(i) for i in plan.indicators],
                "document_sha256": digest("agreement", agreement),
            },
            day,
        )
        beds = next(i for i in plan.indicators if i.indicator_id == BEDS)
        towns = plan.county.townships
        share = Fraction(beds.target) / len(towns)
        self.desk.emit(
            self._signer(plan.county.approver),
            ("agreement", agreement),
            "TargetDecomposed",
            {
                "parent_indicator_id": BEDS,
                "assignments": [{"org_id": t.org_id, "target_value": str(share)} for t in towns],
            },
            day,
        )

    def _indicator(self, i: Indicator) -> dict[str, Any]:
        return {
            "indicator_id": i.indicator_id,
            "category": i.category,
            "name": f"{i.category.lower().replace('_', ' ')} target",
            "unit": "beds" if i.indicator_id == BEDS else "percent",
            "target_value": i.target,
            "base_points": i.base,
            "bonus_eligible": True,
            "measurable_by_ratio": True,
            "responsible_org_id": self.dept,
            "lead_org_id": None,
            "assisting_org_ids": [],
            "scopes": ["CITY_TO_COUNTY"],
            "milestones": [{"date": f"{self.year}-{md}", "fraction": f} for md, f in i.milestones],
        }

    # ------------------------------------------------------------------ W11

    def report_beds(self, plan: AssesseePlan, value: str, as_of: date) -> None:
        """W11: the county reports its beds; the department verifies (SOD-3)."""
        stream = ("agreement", f"agr-{self.scheme_id}-{plan.org_id}")
        period = f"{as_of:%Y-%m}"
        self.desk.emit(
            self._signer(plan.county.approver),
            stream,
            "ProgressReported",
            {
                "indicator_id": BEDS,
                "period": period,
                "value": value,
                "as_of": as_of.isoformat(),
                "evidence": [digest("beds", plan.org_id, as_of)],
            },
            as_of,
        )
        self.desk.emit(
            self._signer(f"{self.dept}-assessor"),
            stream,
            "ProgressVerified",
            {"indicator_id": BEDS, "period": period, "verified_value": value},
            as_of,
        )

    def self_assess(self, plan: AssesseePlan, round_: str, day: date) -> None:
        """W15.1: the county's own half-year or year-end check, by its deadline (SCO-7)."""
        scores = []
        if round_ == "YEAR_END":
            computed = self.recompute()
            for i in plan.indicators:
                score = computed.scores[(plan.org_id, i.indicator_id)]
                scores.append(
                    {"indicator_id": i.indicator_id, "points": str(score.final), "met": score.met}
                )
        self.desk.emit(
            self._signer(plan.county.approver),
            self._year_stream(plan.org_id),
            "SelfAssessmentSubmitted",
            {
                "scheme_id": self.scheme_id,
                "assessee": plan.org_id,
                "round": round_,
                "self_scores": scores,
                "report_sha256": digest("self-check", plan.org_id, round_),
                "submitted_at": day.isoformat(),
            },
            day,
        )

    # ------------------------------------------------------------------ W15

    def _inputs(self, plan: AssesseePlan) -> AssesseeYear:
        rules = scheme_config(self.payload).rules
        return AssesseeYear(
            assessee=plan.org_id,
            sub_item_points={k: Fraction(v) for k, v in plan.organisation.items()},
            survey_points=Fraction(stored(survey_points(Fraction(plan.survey_composite), rules))),
            indicators=[
                IndicatorInput(
                    assessee=plan.org_id,
                    indicator_id=i.indicator_id,
                    target=Fraction(i.target),
                    actual=Fraction(plan.actual(i)),
                    base_points=Fraction(i.base),
                    category=i.category,
                )
                for i in plan.indicators
            ],
            penalty=sum((self._price(k) for k in plan.penalties), Fraction(0)),
            bonus_points=sum((self._price(k) for k in plan.bonuses), Fraction(0)),
        )

    def _price(self, cause: Cause) -> Fraction:
        """The scheme's price of a circulated criticism or commendation (a magnitude)."""
        for row in self.payload["penalty_schedule"]:
            if row["event_type"] == cause.event_type and cause.issuer_level in row["issuer_levels"]:
                return abs(Fraction(row["points"]))
        return Fraction(0)

    def recompute(self) -> Recomputation:
        """Every score and the ranking, as the rules will recompute them."""
        config = scheme_config(self.payload)
        years = [self._inputs(p) for p in self.plans]
        return recompute_assessment(config.rules, config.quotas, years)

    def record_results(self, day: date) -> None:
        """W15.4: results by the department (not the assessee, SOD-3), then their scores."""
        assessor = self._signer(f"{self.dept}-assessor")
        for plan in self.plans:
            for i in plan.indicators:
                c = Fraction(plan.actual(i)) / Fraction(i.target)
                self.desk.emit(
                    assessor,
                    self._year_stream(plan.org_id),
                    "IndicatorResultRecorded",
                    {
                        "scheme_id": self.scheme_id,
                        "assessee": plan.org_id,
                        "indicator_id": i.indicator_id,
                        "target": i.target,
                        "actual": plan.actual(i),
                        "completion_ratio": str(c),
                        "met": c >= 1,
                    },
                    day,
                )
        result = self.recompute()
        for plan in self.plans:
            for i in plan.indicators:
                score = result.scores[(plan.org_id, i.indicator_id)]
                self.desk.emit(
                    assessor,
                    self._year_stream(plan.org_id),
                    "IndicatorScoreRecorded",
                    {
                        "scheme_id": self.scheme_id,
                        "assessee": plan.org_id,
                        "indicator_id": i.indicator_id,
                        "base": str(stored(score.base)),
                        "bonus": str(stored(score.bonus)),
                        "deduction": str(stored(score.deduction)),
                        "final": str(score.final),
                        "formula_id": score.formula_id,
                        "formula_version": self.payload["formula_version"],
                        "inputs_sha256": digest("inputs", plan.org_id, i.indicator_id),
                        "peer_r_max": self._r_max(i.indicator_id),
                        "discretionary_reason": None,
                    },
                    day,
                )

    def _r_max(self, indicator_id: str) -> str | None:
        """The peer group's highest over-completion (F-BONUS), as the score states it."""
        peers = [
            item
            for p in self.plans
            for item in self._inputs(p).indicators
            if item.indicator_id == indicator_id
        ]
        r_max = peer_r_max(peers)
        return None if r_max is None else str(r_max)

    def score_components(self, organisation_day: date, survey_day: date) -> None:
        """W15.2, W15.3: organisation sub-items by the working group, the public survey."""
        office = self.desk.signers[self.officer].org_id
        rules = scheme_config(self.payload).rules
        for plan in self.plans:
            stream = self._year_stream(plan.org_id)
            self.desk.emit(
                self._signer(f"{self.desk.admin.org_id}-survey-team"),
                stream,
                "SurveyScoreRecorded",
                {
                    "scheme_id": self.scheme_id,
                    "assessee": plan.org_id,
                    "survey_id": f"survey-{self.year}",
                    "composite": plan.survey_composite,
                    "points": str(stored(survey_points(Fraction(plan.survey_composite), rules))),
                },
                survey_day,
            )
            for sub_item, points in plan.organisation.items():
                self.desk.emit(
                    self._signer(f"{office}-wg"),
                    stream,
                    "OrganisationImplementationScored",
                    {
                        "scheme_id": self.scheme_id,
                        "assessee": plan.org_id,
                        "sub_item": sub_item,
                        "points": points,
                        "inspection_id": None,
                    },
                    organisation_day,
                )

    def apply_points(self, day: date) -> None:
        """W15.6, W14: penalty and bonus points, each citing its cause at the scheme's price."""
        for plan in self.plans:
            for event_type, keys in (
                ("PenaltyPointsApplied", plan.penalties),
                ("BonusPointsApplied", plan.bonuses),
            ):
                for cause in keys:
                    self.desk.emit(
                        self._signer(self.officer),
                        self._year_stream(plan.org_id),
                        event_type,
                        {
                            "scheme_id": self.scheme_id,
                            "assessee": plan.org_id,
                            "points": points_text(self._price(cause)),
                            "cause_event_id": self.desk.event_ids[cause.key],
                        },
                        day,
                    )

    def aggregate_categories(self, day: date) -> None:
        """W15.5: the lead unit forwards each category's scores to the office."""
        for code, _ in CATEGORIES_002:
            self.desk.emit(
                self._signer(f"{self.dept}-lead"),
                ("scheme", self.scheme_id),
                "LeadUnitAggregateSubmitted",
                {
                    "scheme_id": self.scheme_id,
                    "category": code,
                    "scores_sha256": digest("aggregate", self.scheme_id, code),
                },
                day,
            )

    def consolidate(self, day: date) -> Recomputation:
        """W15.7: the veto of each unit that missed an indicator, then the consolidated
        ranking S = O + M + T + B - P (SCO-5, SCO-6)."""
        result = self.recompute()
        self.result = result
        for assessee, annual in result.annual.items():
            if annual.vetoed:
                self.desk.emit(
                    self._signer(self.officer),
                    self._year_stream(assessee),
                    "VetoApplied",
                    {
                        "scheme_id": self.scheme_id,
                        "assessee": assessee,
                        "failing_indicator_ids": list(annual.failing_indicator_ids),
                    },
                    day,
                )
        self.desk.emit(
            self._signer(self.officer),
            ("scheme", self.scheme_id),
            "AssessmentConsolidated",
            {"scheme_id": self.scheme_id, "ranking": ranking_rows(result)},
            day,
            remember_as=f"consolidated:{self.scheme_id}",
        )
        return result

    def award(self, propose_day: date, approve_day: date, ratify_day: date) -> None:
        """W15.8-W15.10: lists equal to F-RANK, approved by the leading group, ratified by
        the government; then each award, the last place and every grade."""
        assert self.result is not None
        ranking = self.result.ranking
        stream = ("scheme", self.scheme_id)
        self.desk.emit(
            self._signer(self.officer),
            stream,
            "AdvancedListProposed",
            {
                "scheme_id": self.scheme_id,
                "comprehensive": list(ranking.comprehensive),
                "single_item": [
                    {"category": c, "assessee": a}
                    for c, winners in ranking.single_item.items()
                    for a in winners
                ],
                "last_place": list(ranking.last_place),
                "individuals": [],
            },
            propose_day,
            remember_as=f"proposal:{self.scheme_id}",
        )
        self.desk.emit(
            self._signer(self.secretary),
            stream,
            "AssessmentResultsApproved",
            {
                "scheme_id": self.scheme_id,
                "proposal_event_id": self.desk.event_ids[f"proposal:{self.scheme_id}"],
            },
            approve_day,
            remember_as=f"approval:{self.scheme_id}",
        )
        self.desk.emit(
            self._signer(self.government),
            stream,
            "AwardsRatified",
            {
                "scheme_id": self.scheme_id,
                "approval_event_id": self.desk.event_ids[f"approval:{self.scheme_id}"],
            },
            ratify_day,
            remember_as=f"ratified:{self.scheme_id}",
        )
        self._grant_awards(ratify_day)

    def _grant_awards(self, day: date) -> None:
        assert self.result is not None
        ranking = self.result.ranking
        basis = [self.desk.event_ids[f"ratified:{self.scheme_id}"]]
        grants: list[tuple[str, str, str | None]] = [
            (a, "COMPREHENSIVE", None) for a in ranking.comprehensive
        ]
        grants += [(a, "SINGLE_ITEM", c) for c, ws in ranking.single_item.items() for a in ws]
        for assessee, award_type, category in grants:
            self._officer_emit(
                assessee,
                "AwardGranted",
                {
                    "award_type": award_type,
                    "category": category,
                    "person_ref": None,
                    "basis_event_ids": basis,
                },
                day,
            )
        for assessee in ranking.last_place:
            self._officer_emit(assessee, "LastPlaceDesignated", {"basis_event_ids": basis}, day)
        config = scheme_config(self.payload)
        for position, assessee in enumerate(ranking.order, 1):
            plan = next(p for p in self.plans if p.org_id == assessee)
            grade = inspection_grade(
                self.result.annual[assessee].total,
                position,
                passed_city=True,
                passed_provincial=plan.passed_provincial_acceptance,
                thresholds=config.grade_thresholds,
            )
            self.grades[assessee] = str(grade)
            self._officer_emit(
                assessee,
                "GradeAssigned",
                {
                    "grade": str(grade),
                    "passed_city_acceptance": True,
                    "passed_provincial_acceptance": plan.passed_provincial_acceptance,
                    "basis_event_ids": [self.desk.event_ids[f"consolidated:{self.scheme_id}"]],
                },
                day,
            )

    def _officer_emit(
        self, assessee: str, event_type: str, fields: dict[str, Any], day: date
    ) -> None:
        self.desk.emit(
            self._signer(self.officer),
            self._year_stream(assessee),
            event_type,
            {"scheme_id": self.scheme_id, "assessee": assessee, **fields},
            day,
        )
