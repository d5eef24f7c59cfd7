"""W17: the satisfaction survey, from design to the composite score (``domain.md`` §3.5, §4.17,
§5.7; SUR-1 hard, SUR-2 soft → ``AF-SUR-QUOTA``).

* ``SurveyDesigned`` fixes the categories, their quotas and weights (SUR-1: weights add up to
  exactly 1; they are never renormalised).
* ``SurveyResponsesRecorded`` folds answers into per (subject, category, indicator) tallies;
  an answer outside 0..10, an undesigned category or indicator is refused (SUR-1), "don't
  know" answers are counted apart and excluded from the means (N-SU-6).
* ``SurveyResultComputed`` is recomputed exactly with :mod:`ledger.domain.scoring`'s F-SURVEY
  functions and refused on any difference (SCO-3, the score-recomputation rule); a category
  below its quota of valid samples is noted as SUR-2 (``AF-SUR-QUOTA``), as is a result that
  is not computable because a category has no valid answer.
* ``SurveyFieldworkCompleted`` reports the samples per category; one below quota is SUR-2.
* A ``SurveyScoreRecorded`` (:mod:`ledger.domain.assessment_scores`) that names a survey
  designed in the ledger must carry that survey's computed composite for the assessee.

Tables: ``survey.designs`` (survey id → :class:`Design`), ``survey.tallies`` ((survey,
subject, category, indicator) → :class:`Tally`), ``survey.samples`` ((survey, subject,
category) → respondents), ``survey.counts`` ((survey, subject) → responses recorded),
``survey.results`` ((survey, subject) → :class:`Result`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    note_soft_finding,
    refuse,
    require,
)
from ledger.domain.scoring import (
    FORMULA_VERSION,
    category_score,
    stored,
    survey_composite,
)
from ledger.domain.survey_events import DONT_KNOW

DESIGNS = "survey.designs"
TALLIES = "survey.tallies"
SAMPLES = "survey.samples"
COUNTS = "survey.counts"
RESULTS = "survey.results"

FORMULA_ID = "F-SURVEY"
QUOTA_FINDING = "AF-SUR-QUOTA"
MAX_ANSWER = 10


@dataclass(frozen=True, slots=True)
class Category:
    """A respondent category of a design: its quota of valid samples and its weight."""

    code: str
    quota: int
    weight: Fraction


@dataclass(frozen=True, slots=True)
class Design:
    """A ``SurveyDesigned``."""

    survey_id: str
    subjects: frozenset[str]
    indicators: tuple[str, ...]
    categories: tuple[Category, ...]
    event_id: str

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


@dataclass(frozen=True, slots=True)
class Tally:
    """Answers to one indicator by one category about one subject."""

    n_valid: int = 0
    n_dont_know: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True)
class Computation:
    """F-SURVEY for one subject: exact category scores and composite (``None``: not
    computable)."""

    category_scores: Mapping[str, Fraction | None]
    composite: Fraction | None


@dataclass(frozen=True, slots=True)
class Result:
    """A recorded ``SurveyResultComputed`` (stored values)."""

    composite: Decimal | None
    event_id: str


def _designs(state: DomainState) -> Table[str, Design]:
    return state.table(DESIGNS)


def _tallies(state: DomainState) -> Table[tuple[str, str, str, str], Tally]:
    return state.table(TALLIES)


def _samples(state: DomainState) -> Table[tuple[str, str, str], int]:
    return state.table(SAMPLES)


def _counts(state: DomainState) -> Table[tuple[str, str], int]:
    return state.table(COUNTS)


def _results(state: DomainState) -> Table[tuple[str, str], Result]:
    return state.table(RESULTS)


def design(state: DomainState, survey_id: str) -> Design | None:
    """The design of ``survey_id``, if it was designed in the ledger."""
    return _designs(state).get(survey_id)


def result(state: DomainState, survey_id: str, subject: str) -> Result | None:
    """The latest computed result of ``subject`` in ``survey_id``."""
    return _results(state).get((survey_id, subject))


def samples(state: DomainState, survey_id: str, subject: str, category: str) -> int:
    """Respondents recorded for ``subject`` in ``category``."""
    return _samples(state).get((survey_id, subject, category)) or 0


def _require_design(state: DomainState, event: DomainEvent) -> Design:
    found = design(state, event.stream_id)
    if found is None:
        raise refuse(
            "ENV-8",
            f"{event.event_type} on survey {event.stream_id}, which was never designed",
            survey_id=event.stream_id,
        )
    return found


def _require_subject(found: Design, subject: str) -> None:
    require(
        subject in found.subjects,
        "ENV-8",
        f"{subject} is not assessed by survey {found.survey_id}",
        subject_org_id=subject,
        subjects=sorted(found.subjects),
    )


def _require_category(found: Design, code: str) -> Category:
    category = found.category(code)
    if category is None:
        raise refuse(
            "SUR-1",
            f"survey {found.survey_id} has no respondent category {code}",
            category=code,
            categories=[c.code for c in found.categories],
        )
    return category


# --- F-SURVEY -----------------------------------------------------------------------------------


def indicator_mean(tally: Tally) -> Fraction | None:
    """Mean of the valid answers (don't know excluded); ``None`` when there is none."""
    return Fraction(tally.total, tally.n_valid) if tally.n_valid else None


def compute(found: Design, tallies: Mapping[tuple[str, str], Tally]) -> Computation:
    """F-SURVEY from the (category, indicator) tallies of one subject.

    ``S_g`` averages the means of the indicators that have valid answers; a category with
    none has no score, and then the composite is not computable (weights are never
    renormalised, §5.7).
    """
    scores: dict[str, Fraction | None] = {}
    for category in found.categories:
        means = [
            mean
            for indicator in found.indicators
            if (mean := indicator_mean(tallies.get((category.code, indicator), Tally())))
            is not None
        ]
        scores[category.code] = category_score(means) if means else None
    weights = {c.code: c.weight for c in found.categories}
    return Computation(scores, survey_composite(scores, weights))


def computation_for(state: DomainState, found: Design, subject: str) -> Computation:
    """F-SURVEY for ``subject`` from every response recorded so far."""
    tallies = {
        (category.code, indicator): _tallies(state).get(
            (found.survey_id, subject, category.code, indicator)
        )
        or Tally()
        for category in found.categories
        for indicator in found.indicators
    }
    return compute(found, tallies)


def _stored(value: Fraction | None) -> str | None:
    return None if value is None else str(stored(value))


def _as_stored(text: str | None) -> str | None:
    return None if text is None else str(Decimal(text).quantize(Decimal("0.0001")))


# --- SurveyDesigned ------------------------------------------------------------------------------


def decide_designed(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """SUR-1: distinct categories whose non-negative weights add up to exactly 1."""
    p = event.payload
    require(
        event.stream_id == p["survey_id"],
        "ENV-8",
        f"survey {p['survey_id']} is designed on its own stream, not {event.stream_id}",
        survey_id=p["survey_id"],
    )
    require(
        design(state, p["survey_id"]) is None,
        "ENV-7",
        f"survey {p['survey_id']} is already designed",
        survey_id=p["survey_id"],
    )
    codes = [c["code"] for c in p["categories"]]
    require(
        len(set(codes)) == len(codes),
        "SUR-1",
        f"survey {p['survey_id']} names a category twice: {codes}",
        categories=codes,
    )
    weights = [Fraction(c["weight"]) for c in p["categories"]]
    total = sum(weights, Fraction(0))
    require(
        all(w >= 0 for w in weights) and total == 1,
        "SUR-1",
        f"survey {p['survey_id']}: category weights must be non-negative and add up to 1; "
        f"they add up to {total}",
        weights={c["code"]: c["weight"] for c in p["categories"]},
        total=str(total),
    )


def apply_designed(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    categories = tuple(
        Category(c["code"], c["quota"], Fraction(c["weight"])) for c in p["categories"]
    )
    _designs(state).put(
        p["survey_id"],
        Design(
            survey_id=p["survey_id"],
            subjects=frozenset(p["subject_org_ids"]),
            indicators=tuple(p["indicators"]),
            categories=categories,
            event_id=event.event_id,
        ),
    )


# --- SurveyResponsesRecorded ---------------------------------------------------------------------


def _require_indicators(found: Design, indicator_ids: list[str]) -> None:
    unknown = sorted(set(indicator_ids) - set(found.indicators))
    require(
        not unknown,
        "SUR-1",
        f"survey {found.survey_id} has no indicator {', '.join(unknown)}",
        unknown=unknown,
    )
    require(
        len(set(indicator_ids)) == len(indicator_ids),
        "SUR-1",
        "each indicator is answered once per response",
        indicators=indicator_ids,
    )


def _require_answers(p: Mapping[str, Any]) -> None:
    require(
        p["respondent_token"] is not None and p["respondents"] == 1,
        "ENV-5",
        "one respondent's answers carry the respondent token and respondents = 1",
        respondents=p["respondents"],
    )
    bad = [
        a for a in p["answers"] if a["answer"] != DONT_KNOW and not 0 <= a["answer"] <= MAX_ANSWER
    ]
    require(
        not bad,
        "SUR-1",
        f'answers are integers 0..{MAX_ANSWER} or "{DONT_KNOW}": '
        + ", ".join(f"{a['indicator_id']}={a['answer']}" for a in bad),
        invalid=bad,
    )


def _require_aggregate(p: Mapping[str, Any]) -> None:
    require(
        p["respondent_token"] is None,
        "ENV-5",
        "an aggregate block carries no respondent token",
    )
    for block in p["aggregate"]:
        require(
            block["n_valid"] + block["n_dont_know"] <= p["respondents"]
            and block["sum"] <= MAX_ANSWER * block["n_valid"],
            "SUR-1",
            f"indicator {block['indicator_id']}: {block['n_valid']} valid and "
            f"{block['n_dont_know']} don't-know answers from {p['respondents']} respondents, "
            f"summing to {block['sum']} (answers are 0..{MAX_ANSWER})",
            block=dict(block),
            respondents=p["respondents"],
        )


def decide_responses(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """SUR-1: a designed subject, category and indicators; answers 0..10 or DONT_KNOW."""
    found = _require_design(state, event)
    p = event.payload
    _require_subject(found, p["subject_org_id"])
    _require_category(found, p["category"])
    require(
        (p["answers"] is None) != (p["aggregate"] is None),
        "ENV-5",
        "a response carries either one respondent's answers or an aggregate block, not both",
    )
    blocks = p["answers"] if p["answers"] is not None else p["aggregate"]
    _require_indicators(found, [b["indicator_id"] for b in blocks])
    if p["answers"] is not None:
        _require_answers(p)
    else:
        _require_aggregate(p)


def _as_tallies(p: Mapping[str, Any]) -> list[tuple[str, Tally]]:
    if p["aggregate"] is not None:
        return [
            (b["indicator_id"], Tally(b["n_valid"], b["n_dont_know"], b["sum"]))
            for b in p["aggregate"]
        ]
    return [
        (
            a["indicator_id"],
            Tally(0, 1, 0) if a["answer"] == DONT_KNOW else Tally(1, 0, a["answer"]),
        )
        for a in p["answers"]
    ]


def apply_responses(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    survey_id, subject, category = event.stream_id, p["subject_org_id"], p["category"]
    tallies = _tallies(state)
    for indicator, added in _as_tallies(p):
        key = (survey_id, subject, category, indicator)
        old = tallies.get(key) or Tally()
        tallies.put(
            key,
            Tally(
                old.n_valid + added.n_valid,
                old.n_dont_know + added.n_dont_know,
                old.total + added.total,
            ),
        )
    sample_key = (survey_id, subject, category)
    _samples(state).put(sample_key, samples(state, survey_id, subject, category) + p["respondents"])
    count_key = (survey_id, subject)
    _counts(state).put(count_key, (_counts(state).get(count_key) or 0) + 1)


# --- SurveyResultComputed ------------------------------------------------------------------------


def _result_mismatches(
    found: Design, p: Mapping[str, Any], expected: Computation, count: int
) -> dict[str, tuple[Any, Any]]:
    wanted: dict[str, Any] = {
        "formula_id": FORMULA_ID,
        "formula_version": FORMULA_VERSION,
        "responses_recorded": count,
        "composite": _stored(expected.composite),
    }
    recorded: dict[str, Any] = {
        "formula_id": p["formula_id"],
        "formula_version": p["formula_version"],
        "responses_recorded": p["responses_recorded"],
        "composite": _as_stored(p["composite"]),
    }
    given = {s["category"]: _as_stored(s["score"]) for s in p["category_scores"]}
    for category in found.categories:
        wanted[f"S[{category.code}]"] = _stored(expected.category_scores[category.code])
        recorded[f"S[{category.code}]"] = given.pop(category.code, "(missing)")
    for extra, value in given.items():
        wanted[f"S[{extra}]"], recorded[f"S[{extra}]"] = "(not designed)", value
    return {k: (wanted[k], recorded[k]) for k in wanted if wanted[k] != recorded[k]}


def decide_result(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """The recorded scores equal the F-SURVEY recomputation from every response so far."""
    found = _require_design(state, event)
    p = event.payload
    subject = p["subject_org_id"]
    _require_subject(found, subject)
    expected = computation_for(state, found, subject)
    count = _counts(state).get((found.survey_id, subject)) or 0
    mismatches = _result_mismatches(found, p, expected, count)
    require(
        not mismatches,
        "SCO-3",
        f"survey result of {subject} differs from the F-SURVEY recomputation: "
        + "; ".join(f"{k} expected {e}, recorded {r}" for k, (e, r) in mismatches.items()),
        mismatches={k: {"expected": e, "recorded": r} for k, (e, r) in mismatches.items()},
        formula_id=FORMULA_ID,
    )


def _note_quota(
    state: DomainState,
    event: DomainEvent,
    found: Design,
    counted: Mapping[str, int],
    without_answers: tuple[str, ...] = (),
) -> None:
    """SUR-2: every category short of its quota of valid samples, or without any valid
    answer (then the composite is not computable)."""
    quotas = {c.code: c.quota for c in found.categories}
    short = {code: counted.get(code, 0) for code in quotas if counted.get(code, 0) < quotas[code]}
    if not short and not without_answers:
        return
    parts = [f"{code} {n} of {quotas[code]}" for code, n in short.items()]
    detail = "valid samples below quota: " + ", ".join(parts) if parts else ""
    if without_answers:
        missing = f"composite not computable, no valid answer in {', '.join(without_answers)}"
        detail = f"{detail}; {missing}" if detail else missing
    note_soft_finding(
        state,
        event,
        "SUR-2",
        QUOTA_FINDING,
        detail,
        survey_id=found.survey_id,
        # Immutable (code, count) pairs: state values never change in place (model.Table).
        samples=tuple(short.items()),
        quotas=tuple((code, quotas[code]) for code in short),
        categories_without_answers=without_answers,
    )


def apply_result(state: DomainState, event: DomainEvent) -> None:
    """Keep the result; note SUR-2 for categories below quota or without valid answers."""
    found = design(state, event.stream_id)
    if found is None:
        return
    p = event.payload
    subject = p["subject_org_id"]
    composite = None if p["composite"] is None else Decimal(p["composite"])
    _results(state).put((found.survey_id, subject), Result(composite, event.event_id))
    counted = {c.code: samples(state, found.survey_id, subject, c.code) for c in found.categories}
    empty = tuple(sorted(s["category"] for s in p["category_scores"] if s["score"] is None))
    _note_quota(state, event, found, counted, empty)


# --- SurveyFieldworkCompleted --------------------------------------------------------------------


def decide_fieldwork(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """The reported categories are the design's, each once (SUR-1)."""
    found = _require_design(state, event)
    codes = [s["category"] for s in event.payload["samples_per_category"]]
    for code in codes:
        _require_category(found, code)
    require(
        len(set(codes)) == len(codes),
        "SUR-1",
        f"fieldwork reports a category twice: {codes}",
        categories=codes,
    )


def apply_fieldwork(state: DomainState, event: DomainEvent) -> None:
    found = design(state, event.stream_id)
    if found is not None:
        counted = {s["category"]: s["samples"] for s in event.payload["samples_per_category"]}
        _note_quota(state, event, found, counted)


# --- SurveyScoreRecorded cites a computed result -------------------------------------------------


def decide_survey_score(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """A score naming a survey designed in the ledger carries its computed composite."""
    p = event.payload
    found = design(state, p["survey_id"])
    if found is None:
        return  # a survey run outside the ledger: the composite is the team's (SCO-3 as before)
    computed = result(state, p["survey_id"], p["assessee"])
    require(
        computed is not None and computed.composite is not None,
        "ENV-8",
        f"survey {p['survey_id']} has no computable result for {p['assessee']}; record "
        "SurveyResultComputed first",
        survey_id=p["survey_id"],
        assessee=p["assessee"],
    )
    assert computed is not None  # for the type checker: required just above
    assert computed.composite is not None
    require(
        Fraction(p["composite"]) == Fraction(computed.composite),
        "SCO-3",
        f"survey score of {p['assessee']} cites composite {p['composite']}; survey "
        f"{p['survey_id']} computed {computed.composite}",
        expected=str(computed.composite),
        recorded=p["composite"],
        result_event_id=computed.event_id,
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("SurveyDesigned", apply=apply_designed, decide=decide_designed)
    rules.register("SurveyResponsesRecorded", apply=apply_responses, decide=decide_responses)
    rules.register("SurveyResultComputed", apply=apply_result, decide=decide_result)
    rules.register("SurveyFieldworkCompleted", apply=apply_fieldwork, decide=decide_fieldwork)
    rules.register("SurveyScoreRecorded", decide=decide_survey_score)
