"""W15.2-W15.6: component and indicator scores and cited point adjustments (``domain.md``
§4.15, §5.1-§5.4, §5.7; SCO-2, SCO-3, SCO-4, SOD-3).

Every score is recomputed on append from what the ledger already holds (the scheme in force,
the agreement, the recorded results of the peer group); a recorded value that differs is
refused with the expected and the recorded value. Adjustments name their cause: a criticism,
commendation or media exposure recorded on the target's ``assessment`` stream, priced by the
scheme's schedule, used once per scheme.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.domain.assessment_state import (
    PEER_RESULTS,
    USED_CAUSES,
    IndicatorSpec,
    RecordedScore,
    Result,
    Scheme,
    agreement_of,
    indicator_input,
    pair,
    peer_inputs,
    put_record,
    record_of,
    require_scheme,
    require_year_stream,
    with_pair,
)
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    note_soft_finding,
    refuse,
    require,
)
from ledger.domain.scoring import (
    IndicatorScore,
    completion_ratio,
    peer_r_max,
    score_indicator,
    stored,
    survey_points,
)
from ledger.domain.supervision_inspections import inspection, sanction
from ledger.domain.supervision_points import points_for

PENALTY_CAUSES = frozenset({"CriticismIssued", "MediaExposureRecorded"})
BONUS_CAUSES = frozenset({"CommendationIssued"})


def _common(state: DomainState, directory: Directory, event: DomainEvent) -> Scheme:
    """Scheme published, event on the assessee-year stream, scorer outside the assessee."""
    scheme = require_scheme(state, event)
    require_year_stream(event)
    assessee = event.payload["assessee"]
    require(
        not directory.is_within(event.org_id, assessee),
        "SOD-3",
        f"{event.actor_id} acts for {event.org_id}, inside the assessee {assessee}; a unit "
        "does not score itself (its self-score is a SelfAssessmentSubmitted)",
        actor_org_id=event.org_id,
        assessee=assessee,
    )
    return scheme


def _indicator(state: DomainState, event: DomainEvent) -> IndicatorSpec:
    p = event.payload
    agreement = agreement_of(state, p["scheme_id"], p["assessee"])
    spec = None if agreement is None else pair(agreement.indicators, p["indicator_id"])
    if spec is None:
        raise refuse(
            "ENV-8",
            f"{p['assessee']} has no indicator {p['indicator_id']} in an agreement under scheme "
            f"{p['scheme_id']}",
            assessee=p["assessee"],
            indicator_id=p["indicator_id"],
        )
    return spec


# --- W15.2 organisation and implementation -------------------------------------------------------


def decide_organisation(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A known sub-item, at most its weight, citing a planned inspection if any."""
    scheme = _common(state, directory, event)
    p = event.payload
    weight = scheme.config.sub_items.get(p["sub_item"])
    if weight is None:
        raise refuse(
            "ENV-8",
            f"{p['sub_item']} is not an organisation sub-item of scheme {p['scheme_id']}",
            sub_item=p["sub_item"],
            sub_items=sorted(scheme.config.sub_items),
        )
    require(
        Fraction(p["points"]) <= weight,
        "SCO-3",
        f"{p['sub_item']} scored {p['points']} points, above its weight {weight}",
        expected_at_most=str(weight),
        recorded=p["points"],
    )
    if p["inspection_id"] is not None:
        require(
            inspection(state, p["inspection_id"]) is not None,
            "ENV-8",
            f"inspection {p['inspection_id']} was never planned",
            inspection_id=p["inspection_id"],
        )


def apply_organisation(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = record_of(state, p["scheme_id"], p["assessee"])
    sub_items = with_pair(record.sub_items, p["sub_item"], Fraction(p["points"]))
    put_record(state, replace(record, sub_items=sub_items))


# --- W15.3 survey --------------------------------------------------------------------------------


def decide_survey(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """points = survey_points * composite / scale, stored to 4 decimals (F-SURVEY, SCO-3)."""
    scheme = _common(state, directory, event)
    p = event.payload
    composite = Fraction(p["composite"])
    rules = scheme.config.rules
    require(
        0 <= composite <= rules.survey_scale,
        "SCO-3",
        f"survey composite {p['composite']} is outside 0..{rules.survey_scale}",
        composite=p["composite"],
    )
    expected = stored(survey_points(composite, rules))
    require(
        Decimal(p["points"]) == expected,
        "SCO-3",
        f"survey points of {p['assessee']} recorded as {p['points']}; the scheme gives "
        f"{expected} for composite {p['composite']}",
        expected=str(expected),
        recorded=p["points"],
        formula_id="F-SURVEY",
    )


def apply_survey(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = record_of(state, p["scheme_id"], p["assessee"])
    put_record(state, replace(record, survey_points=Fraction(p["points"])))


# --- W15.4 results -------------------------------------------------------------------------------


def decide_result(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The agreed target, c = A / T and met = c ≥ 1 (non-ratio: no c, met as assessed)."""
    _common(state, directory, event)
    spec = _indicator(state, event)
    p = event.payload
    target, actual = Fraction(p["target"]), Fraction(p["actual"])
    require(
        target == spec.target,
        "SCO-3",
        f"{p['indicator_id']} target recorded as {p['target']}; the agreement says {spec.target}",
        expected=str(spec.target),
        recorded=p["target"],
    )
    if not spec.measurable_by_ratio:
        require(
            p["completion_ratio"] is None,
            "SCO-3",
            f"{p['indicator_id']} cannot be measured as a ratio; record no completion ratio",
            recorded=p["completion_ratio"],
        )
        return
    c = completion_ratio(target, actual)
    recorded = None if p["completion_ratio"] is None else Fraction(p["completion_ratio"])
    require(
        recorded == c and p["met"] == (c >= 1),
        "SCO-3",
        f"{p['indicator_id']}: A / T = {c} (met {c >= 1}); recorded {p['completion_ratio']} "
        f"(met {p['met']})",
        expected_ratio=str(c),
        expected_met=c >= 1,
        recorded_ratio=p["completion_ratio"],
        recorded_met=p["met"],
    )


def apply_result(state: DomainState, event: DomainEvent) -> None:
    """Keep the latest result; an indicator outside the scheme's scope raises AF-TGT-SCOPE."""
    p = event.payload
    scheme_id, assessee, indicator_id = p["scheme_id"], p["assessee"], p["indicator_id"]
    record = record_of(state, scheme_id, assessee)
    result = Result(Fraction(p["target"]), Fraction(p["actual"]), p["met"], event.event_id)
    put_record(state, replace(record, results=with_pair(record.results, indicator_id, result)))
    peers = state.table(PEER_RESULTS)
    listed: tuple[str, ...] = peers.get((scheme_id, indicator_id)) or ()
    if assessee not in listed:
        peers.put((scheme_id, indicator_id), (*listed, assessee))
    scheme = require_scheme(state, event)
    spec = _indicator(state, event)
    if spec.scopes and scheme.config.scope not in spec.scopes:
        note_soft_finding(
            state,
            event,
            "W15.4",
            "AF-TGT-SCOPE",
            f"{indicator_id} counts in scopes {', '.join(spec.scopes)}, not in the scheme's "
            f"{scheme.config.scope}",
            indicator_id=indicator_id,
            scheme_scope=scheme.config.scope,
        )


# --- W15.4 scores --------------------------------------------------------------------------------


def expected_score(state: DomainState, scheme: Scheme, event: DomainEvent) -> IndicatorScore:
    """The F-BONUS / F-SHORT recomputation for the event's assessee and indicator."""
    p = event.payload
    spec = _indicator(state, event)
    result = pair(record_of(state, p["scheme_id"], p["assessee"]).results, p["indicator_id"])
    if result is None:
        raise refuse(
            "ENV-8",
            f"no IndicatorResultRecorded for {p['assessee']} on {p['indicator_id']}; record "
            "the result before its score",
            assessee=p["assessee"],
            indicator_id=p["indicator_id"],
        )
    discretionary = Fraction(0) if spec.measurable_by_ratio else Fraction(p["deduction"])
    peers = peer_inputs(state, p["scheme_id"], p["indicator_id"])
    item = indicator_input(p["assessee"], spec, result, discretionary)
    return score_indicator(item, peer_r_max(peers), scheme.config.rules)


def _score_mismatches(
    p: dict[str, Any], expected: IndicatorScore, r_max: Fraction | None
) -> dict[str, tuple[str, str]]:
    wanted = {
        "base": str(stored(expected.base)),
        "bonus": str(stored(expected.bonus)),
        "deduction": str(stored(expected.deduction)),
        "final": str(expected.final),
        "formula_id": expected.formula_id,
        "peer_r_max": None if r_max is None else str(r_max),
    }
    recorded = {
        "base": str(Decimal(p["base"]).quantize(Decimal("0.0001"))),
        "bonus": str(Decimal(p["bonus"]).quantize(Decimal("0.0001"))),
        "deduction": str(Decimal(p["deduction"]).quantize(Decimal("0.0001"))),
        "final": str(Decimal(p["final"]).quantize(Decimal("0.0001"))),
        "formula_id": p["formula_id"],
        "peer_r_max": None if p["peer_r_max"] is None else str(Fraction(p["peer_r_max"])),
    }
    return {
        name: (str(wanted[name]), str(recorded[name]))
        for name in wanted
        if wanted[name] != recorded[name]
    }


def decide_score(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """The recorded score equals the recomputation (SCO-3); discretionary deductions need a
    reason and stay within the cap (SCO-4)."""
    scheme = _common(state, directory, event)
    p = event.payload
    spec = _indicator(state, event)
    require(
        p["formula_version"] == scheme.config.formula_version,
        "SCO-3",
        f"score cites formula version {p['formula_version']}; scheme {p['scheme_id']} is in "
        f"force with version {scheme.config.formula_version}",
        expected=scheme.config.formula_version,
        recorded=p["formula_version"],
    )
    if not spec.measurable_by_ratio:
        cap = scheme.config.rules.deduction_cap * spec.base_points
        require(
            Fraction(p["deduction"]) <= cap,
            "SCO-4",
            f"deduction {p['deduction']} on {p['indicator_id']} exceeds {cap} "
            f"({scheme.config.rules.deduction_cap} of its base points {spec.base_points})",
            cap=str(cap),
            recorded=p["deduction"],
        )
        require(
            p["discretionary_reason"] is not None or Fraction(p["deduction"]) == 0,
            "SCO-3",
            f"a discretionary deduction on {p['indicator_id']} needs a written reason",
            indicator_id=p["indicator_id"],
        )
    expected = expected_score(state, scheme, event)
    peers = peer_inputs(state, p["scheme_id"], p["indicator_id"])
    r_max = peer_r_max(peers) if spec.measurable_by_ratio else None
    mismatches = _score_mismatches(dict(p), expected, r_max)
    require(
        not mismatches,
        "SCO-3",
        f"score of {p['assessee']} on {p['indicator_id']} differs from the recomputation: "
        + "; ".join(f"{k} expected {e}, recorded {r}" for k, (e, r) in mismatches.items()),
        mismatches={k: {"expected": e, "recorded": r} for k, (e, r) in mismatches.items()},
    )


def apply_score(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = record_of(state, p["scheme_id"], p["assessee"])
    spec = _indicator(state, event)
    discretionary = Fraction(0) if spec.measurable_by_ratio else Fraction(p["deduction"])
    score = RecordedScore(
        bonus=Decimal(p["bonus"]),
        deduction=Decimal(p["deduction"]),
        final=Decimal(p["final"]),
        discretionary=discretionary,
        event_id=event.event_id,
    )
    put_record(state, replace(record, scores=with_pair(record.scores, p["indicator_id"], score)))
    scheme = require_scheme(state, event)
    deadline = scheme.config.deadline("responsible")
    if deadline is not None and event.day > deadline:
        note_soft_finding(
            state,
            event,
            "SCO-7",
            "AF-SCO-LATE",
            f"score of {p['assessee']} on {p['indicator_id']} recorded {event.day}, after the "
            f"responsible units' deadline {deadline}",
            deadline=deadline.isoformat(),
            day=event.day.isoformat(),
        )


# --- W15.6 cited adjustments ---------------------------------------------------------------------


def decide_adjustment(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """SCO-2: the cause is a recorded criticism/commendation/exposure of this assessee in the
    scheme year, about a priced subject, at the scheme's price, used once per scheme."""
    scheme = _common(state, directory, event)
    p = event.payload
    penalty = event.event_type == "PenaltyPointsApplied"
    allowed = PENALTY_CAUSES if penalty else BONUS_CAUSES
    cause = sanction(state, p["cause_event_id"])
    require(
        cause is not None and cause.event_type in allowed,
        "SCO-2",
        f"{event.event_type} must cite a recorded {' or '.join(sorted(allowed))}; "
        f"{p['cause_event_id']} is not one",
        cause_event_id=p["cause_event_id"],
    )
    assert cause is not None  # for the type checker: required just above
    used = state.table(USED_CAUSES).get((p["scheme_id"], p["cause_event_id"]))
    require(
        used is None,
        "SCO-2",
        f"{p['cause_event_id']} was already counted in scheme {p['scheme_id']} by {used}",
        cause_event_id=p["cause_event_id"],
        used_by=used,
    )
    require(
        cause.target_org_id == p["assessee"] and cause.day.year == scheme.config.year,
        "SCO-2",
        f"{p['cause_event_id']} concerns {cause.target_org_id} in {cause.day.year}, not "
        f"{p['assessee']} in {scheme.config.year}",
        cause_target=cause.target_org_id,
        cause_year=cause.day.year,
    )
    priced = cause.related_to is None or cause.related_to in scheme.config.priced_related_to
    price = points_for(
        cause.event_type, cause.issuer_level, cause.item, schedule=scheme.config.penalty_schedule
    )
    expected = (-price if penalty else price) if priced else Decimal(0)
    require(
        expected > 0 and Decimal(p["points"]) == expected,
        "SCO-2",
        f"scheme {p['scheme_id']} prices {cause.event_type} by {cause.issuer_level or 'the media'}"
        f" about {cause.related_to or 'the unit'} at {expected} points; recorded {p['points']}",
        expected=str(expected),
        recorded=p["points"],
    )


def apply_adjustment(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    record = record_of(state, p["scheme_id"], p["assessee"])
    points = Fraction(p["points"])
    if event.event_type == "PenaltyPointsApplied":
        record = replace(record, penalty=record.penalty + points)
    else:
        record = replace(record, bonus_points=record.bonus_points + points)
    put_record(state, record)
    state.table(USED_CAUSES).put((p["scheme_id"], p["cause_event_id"]), event.event_id)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register(
        "OrganisationImplementationScored", apply=apply_organisation, decide=decide_organisation
    )
    rules.register("SurveyScoreRecorded", apply=apply_survey, decide=decide_survey)
    rules.register("IndicatorResultRecorded", apply=apply_result, decide=decide_result)
    rules.register("IndicatorScoreRecorded", apply=apply_score, decide=decide_score)
    for event_type in ("PenaltyPointsApplied", "BonusPointsApplied"):
        rules.register(event_type, apply=apply_adjustment, decide=decide_adjustment)
