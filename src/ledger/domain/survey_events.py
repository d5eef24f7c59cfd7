"""Payload schemas of the satisfaction survey W17 (``domain.md`` §3.5, §4.17, §5.7, §6.3).

Everything of one survey goes on its own stream:

==============  ============  =================================================================
stream_type     stream_id     events
==============  ============  =================================================================
``survey``      survey id     ``SurveyDesigned``, ``SurveyResponsesRecorded``,
                              ``SurveyFieldworkCompleted``, ``SurveyResultComputed``
==============  ============  =================================================================

Answers are integers 0..10 or ``"DONT_KNOW"`` (N-SU-6); a response is either one respondent's
answers (pseudonymous ``respondent_token``) or a pre-aggregated block per indicator
(``n_valid``, ``n_dont_know``, ``sum``) for ``respondents`` questionnaires. Weights are exact
ratios or decimals (``"13/20"``, ``"0.65"``); scores are decimal strings with at most 4
decimals (the stored precision, §5.0). Never binary floats.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.assessment_events import NUMBER
from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    IDENTIFIER,
    PERIOD,
    Check,
    integer,
    list_of,
    nullable,
    record,
    text,
)
from ledger.domain.supervision_events import POINTS

DONT_KNOW = "DONT_KNOW"
CATEGORIES_004 = ("SERVICE_USER", "STAFF", "DEPUTY", "INVITED_SUPERVISOR")
"""004 篇十四's respondent categories (N-SU-2..5); a design may name its own."""


def _answer(value: Any) -> str | None:
    """an integer answer or "DONT_KNOW" (the 0..10 range is SUR-1)"""
    if value == DONT_KNOW or (isinstance(value, int) and not isinstance(value, bool)):
        return None
    return 'must be an integer or "DONT_KNOW"'


ANSWER: Check = _answer

_ID = IDENTIFIER
_TEAM = frozenset({"statistics_survey_team"})
_COMPUTERS = frozenset({"ledger", "statistics_survey_team"})
_COUNT = integer(0, 10_000_000)
_CATEGORY = record({"code": _ID, "quota": _COUNT, "weight": NUMBER})
_ANSWERS = list_of(record({"indicator_id": _ID, "answer": ANSWER}), min_len=1, max_len=200)
_AGGREGATE = list_of(
    record(
        {
            "indicator_id": _ID,
            "n_valid": _COUNT,
            "n_dont_know": _COUNT,
            "sum": integer(0, 100_000_000),
        }
    ),
    min_len=1,
    max_len=200,
)
_CATEGORY_SCORE = record({"category": _ID, "score": nullable(POINTS)})


SURVEY_EVENTS: tuple[EventSpec, ...] = (
    _spec(
        "SurveyDesigned",
        "survey",
        Kind.DECISION,
        _TEAM,
        {
            "survey_id": _ID,
            "year": integer(2000, 2100),
            "subject_org_ids": list_of(_ID, min_len=1, max_len=1_000, unique=True),
            "indicators": list_of(_ID, min_len=1, max_len=200, unique=True),
            "categories": list_of(_CATEGORY, min_len=1, max_len=20),
        },
        "W17: a satisfaction survey: the assessed bodies, the indicators, and per respondent "
        "category its quota of valid samples and its weight (004 篇十四: 1,400 / 20 / 580 / 15 "
        "at 65 % / 5 % / 20 % / 10 %). SUR-1: categories distinct, weights add up to exactly "
        "1 (never renormalised).",
    ),
    _spec(
        "SurveyResponsesRecorded",
        "survey",
        Kind.FACT,
        _TEAM,
        {
            "subject_org_id": _ID,
            "category": _ID,
            "respondents": integer(1, 10_000_000),
            "respondent_token": nullable(_ID),
            "answers": nullable(_ANSWERS),
            "aggregate": nullable(_AGGREGATE),
        },
        "W17: answers about one assessed body from one respondent (token and answers) or "
        "pre-aggregated per indicator. SUR-1: answers 0..10 or DONT_KNOW, a designed category, "
        "subject and indicators; an answer that does not fit the design is refused.",
    ),
    _spec(
        "SurveyFieldworkCompleted",
        "survey",
        Kind.FACT,
        _TEAM,
        {
            "period": PERIOD,
            "samples_per_category": list_of(
                record({"category": _ID, "samples": _COUNT}), min_len=1, max_len=20
            ),
            "note": nullable(text(1000)),
        },
        "W17: the survey team closes fieldwork with the valid samples per category; a "
        "category below its quota raises AF-SUR-QUOTA (SUR-2).",
    ),
    _spec(
        "SurveyResultComputed",
        "survey",
        Kind.SYSTEM,
        _COMPUTERS,
        {
            "subject_org_id": _ID,
            "category_scores": list_of(_CATEGORY_SCORE, min_len=1, max_len=20),
            "composite": nullable(POINTS),
            "responses_recorded": integer(0, 10_000_000),
            "formula_id": text(20),
            "formula_version": text(20),
        },
        "W17: F-SURVEY for one assessed body (S_g = 10 x mean of the indicator means, "
        "don't-know excluded; composite = Σ weight x S_g), stored to 4 decimals and "
        "recomputed on append (a mismatch is refused, SCO-3); not computable (null) when a "
        "category has no valid answer. Categories below quota raise AF-SUR-QUOTA (SUR-2).",
    ),
)
