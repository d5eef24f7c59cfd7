"""Tracked indicators of 特困 support: elderly-home beds and the centralised-support rate.

Pure functions over reported values (``domain.md`` §3.1.6, §5.9; N-CI-2..4, N-WB-7):

* bed construction progress = beds completed ÷ beds planned (300); at least 60 % by 30 June
  and 100 % by 30 November, else ``AF-TGT-MILESTONE`` (EX-BEDS-1/2);
* centralised-support rate = centralised ÷ (centralised + dispersed), per township on
  31 December; at least 40 % (EX-RATE-1/2).

Ratios are exact fractions (§5.0); nothing here rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

PLANNED_BEDS = 300
"""N-CI-2: new beds planned for the year."""

BED_MILESTONES: tuple[tuple[int, int, Fraction], ...] = (
    (6, 30, Fraction(3, 5)),
    (11, 30, Fraction(1)),
)
"""(month, day, share of the planned beds due by then): N-CI-3 and N-CI-4."""

CENTRALISED_RATE_TARGET = Fraction(2, 5)
"""N-WB-7: at least 40 % centralised support in every township by year end."""


@dataclass(frozen=True, slots=True)
class MilestoneCheck:
    """One milestone compared with the beds reported by its date."""

    due: date
    required_share: Fraction
    completed_beds: int
    progress: Fraction

    @property
    def met(self) -> bool:
        return self.progress >= self.required_share


def bed_progress(completed_beds: int, planned_beds: int = PLANNED_BEDS) -> Fraction:
    """Beds completed as an exact share of the plan (170 of 300 is 17/30, 56.67 %)."""
    return Fraction(completed_beds, planned_beds)


def bed_milestones(
    year: int, reported: dict[date, int], planned_beds: int = PLANNED_BEDS
) -> list[MilestoneCheck]:
    """Each milestone of ``year`` against the latest report on or before its date.

    ``reported`` maps a report date to the cumulative beds completed by then; a milestone
    with no report by its date counts as zero beds (nothing shown is nothing done).
    """
    checks: list[MilestoneCheck] = []
    for month, day, share in BED_MILESTONES:
        due = date(year, month, day)
        known = [on for on in reported if on <= due]
        completed = reported[max(known)] if known else 0
        checks.append(MilestoneCheck(due, share, completed, bed_progress(completed, planned_beds)))
    return checks


def centralised_rate(centralised: int, dispersed: int) -> Fraction:
    """Centralised ÷ all supported (52 and 68 give 13/30, 43.33 %); zero when nobody is."""
    total = centralised + dispersed
    return Fraction(0) if total == 0 else Fraction(centralised, total)


def centralised_rate_met(centralised: int, dispersed: int) -> bool:
    """The township meets the ≥ 40 % centralised-support target (N-WB-7)."""
    return centralised_rate(centralised, dispersed) >= CENTRALISED_RATE_TARGET
