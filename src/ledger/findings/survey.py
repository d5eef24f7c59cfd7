"""``AF-SUR-DONTKNOW`` (``domain.md`` §7.8, L): a "don't know" share suspiciously high.

Don't-know answers are left out of F-SURVEY (§5.7), so steering unhappy respondents to "don't
know" raises a unit's score: a selective exclusion. For each (survey, assessed body), once the
survey's fieldwork is closed (``SurveyFieldworkCompleted``: before it, more answers may still
come), the share of don't-know answers among all answers recorded about that body above 30 %
`[I]` is a finding, citing the responses that carry don't-know answers and the closing event.

Answers come one respondent at a time (each answer counts once) or pre-aggregated per
indicator (``n_valid`` and ``n_dont_know`` count).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from ledger.domain.model import DomainEvent
from ledger.domain.survey_events import DONT_KNOW
from ledger.findings.model import Detector, Finding

MAX_DONT_KNOW_SHARE = Fraction(3, 10)
"""§7.8 AF-SUR-DONTKNOW: "share of don't-know answers > 30 % `[I]`"."""


@dataclass
class _Tally:
    answers: int = 0
    dont_know: int = 0
    event_ids: list[str] = field(default_factory=list)
    """The response events with at least one don't-know answer."""


def _counts(payload: Mapping[str, Any]) -> tuple[int, int]:
    """(answers, don't-know answers) in one ``SurveyResponsesRecorded``."""
    if payload["answers"] is not None:
        answers = payload["answers"]
        return len(answers), sum(1 for a in answers if a["answer"] == DONT_KNOW)
    blocks = payload["aggregate"] or []
    valid = sum(b["n_valid"] for b in blocks)
    dont_know = sum(b["n_dont_know"] for b in blocks)
    return valid + dont_know, dont_know


class SurveyDontKnow(Detector):
    """``AF-SUR-DONTKNOW`` (see module docstring): one finding per (survey, assessed body)."""

    name = "survey-dont-know"
    version = 1
    types = frozenset({"SurveyResponsesRecorded", "SurveyFieldworkCompleted"})

    def __init__(self, max_share: Fraction = MAX_DONT_KNOW_SHARE) -> None:
        self.max_share = max_share
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._closed: dict[str, str] = {}
        """Survey → the event that closed its fieldwork."""

    def observe(self, event: DomainEvent) -> None:
        if event.event_type == "SurveyFieldworkCompleted":
            self._closed.setdefault(event.stream_id, event.event_id)
            return
        p = event.payload
        tally = self._tallies.setdefault((event.stream_id, p["subject_org_id"]), _Tally())
        answers, dont_know = _counts(p)
        tally.answers += answers
        tally.dont_know += dont_know
        if dont_know:
            tally.event_ids.append(event.event_id)

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for (survey, subject), tally in sorted(self._tallies.items()):
            closed = self._closed.get(survey)
            if closed is None or tally.answers == 0:
                continue
            share = Fraction(tally.dont_know, tally.answers)
            if share <= self.max_share:
                continue
            yield self.finding(
                "AF-SUR-DONTKNOW",
                [survey, subject],
                [*tally.event_ids, closed],
                f"survey {survey} about {subject}: {tally.dont_know} of {tally.answers} answers "
                f"were don't-know (more than {self.max_share} is suspicious)",
                rule_ref=f"domain.md §7.8 AF-SUR-DONTKNOW (share > {self.max_share} [I])",
                admin_unit_id=subject,
            )
