"""Coverage targets as configuration (``domain.md`` §3.1.6, §5.9; N-WB-7).

The centralised-support target of 特困 — at least 40 % of the supported people of every
township in institutions by year end — is published as ``CoverageTargetsPublished`` for a
year and the programmes it covers, so that the read models and a replay use the number that
was in force (never a constant in code). A later publication for the same year replaces the
earlier one from its log position on.

Stream: ``coverage_targets`` / the year (``"2024"``). Table: ``coverage.targets`` ((year,
programme code) → :class:`CoverageTarget`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ledger.domain.model import Directory, DomainEvent, DomainState, Rules, Table, require
from ledger.domain.periods import parse_ratio
from ledger.domain.programmes import programme

TARGETS = "coverage.targets"


@dataclass(frozen=True, slots=True)
class CoverageTarget:
    """The centralised-support target of one programme in one year, and where it came from."""

    centralised_rate_min: Fraction
    target_set_id: str
    event_id: str


def _targets(state: DomainState) -> Table[tuple[int, str], CoverageTarget]:
    return state.table(TARGETS)


def coverage_target(state: DomainState, year: int, programme_code: str) -> CoverageTarget | None:
    """The target in force for ``programme_code`` in ``year``, if one was published."""
    return _targets(state).get((year, programme_code))


def decide_published(state: DomainState, _directory: Directory, event: DomainEvent) -> None:
    """On the year's stream, for defined programmes, with a share in (0, 1]."""
    p = event.payload
    require(
        event.stream_id == str(p["year"]),
        "ENV-8",
        f"coverage targets of {p['year']} go on coverage_targets stream {p['year']}, "
        f"not {event.stream_id}",
        year=p["year"],
    )
    unknown = [c for c in p["programme_codes"] if programme(state, c) is None]
    require(not unknown, "ENV-8", f"programmes not defined: {', '.join(unknown)}", unknown=unknown)
    share = parse_ratio(p["centralised_rate_min"])
    require(
        0 < share <= 1,
        "ENV-5",
        f"the centralised-support target {share} is not a share in (0, 1]",
        centralised_rate_min=p["centralised_rate_min"],
    )


def apply_published(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    target = CoverageTarget(
        parse_ratio(p["centralised_rate_min"]), p["target_set_id"], event.event_id
    )
    for code in p["programme_codes"]:
        _targets(state).put((p["year"], code), target)


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register("CoverageTargetsPublished", apply=apply_published, decide=decide_published)
