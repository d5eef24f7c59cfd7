"""Tracked indicators of 特困 support: elderly-home beds and the centralised-support rate.

Pure functions over reported values (``domain.md`` §3.1.6, §5.9; N-CI-2..4, N-WB-7):

* bed construction progress = beds completed ÷ beds planned; each milestone a share due by a
  date (the seed: 300 beds, 60 % by 30 June, 100 % by 30 November, else
  ``AF-TGT-MILESTONE``; EX-BEDS-1/2). In the ledger the plan and its milestones are an
  assessment target (``TargetResponsibilityAgreementSigned`` milestones);
* centralised-support rate = centralised ÷ (centralised + dispersed), per township on
  31 December, against the target in force (``CoverageTargetsPublished``; the seed: 40 %,
  EX-RATE-1/2).

The numbers are parameters, never constants here; ratios are exact fractions (§5.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

Milestone = tuple[int, int, Fraction]
"""(month, day, share of the planned beds due by then)."""


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


def bed_progress(completed_beds: int, planned_beds: int) -> Fraction:
    """Beds completed as an exact share of the plan (170 of 300 is 17/30, 56.67 %)."""
    return Fraction(completed_beds, planned_beds)


def bed_milestones(
    year: int,
    reported: dict[date, int],
    planned_beds: int,
    milestones: tuple[Milestone, ...],
) -> list[MilestoneCheck]:
    """Each milestone of ``year`` against the latest report on or before its date.

    ``reported`` maps a report date to the cumulative beds completed by then; a milestone
    with no report by its date counts as zero beds (nothing shown is nothing done).
    """
    checks: list[MilestoneCheck] = []
    for month, day, share in milestones:
        due = date(year, month, day)
        known = [on for on in reported if on <= due]
        completed = reported[max(known)] if known else 0
        checks.append(MilestoneCheck(due, share, completed, bed_progress(completed, planned_beds)))
    return checks


def centralised_rate(centralised: int, dispersed: int) -> Fraction:
    """Centralised ÷ all supported (52 and 68 give 13/30, 43.33 %); zero when nobody is."""
    total = centralised + dispersed
    return Fraction(0) if total == 0 else Fraction(centralised, total)


def centralised_rate_met(centralised: int, dispersed: int, target: Fraction) -> bool:
    """The township meets the centralised-support target in force (N-WB-7: at least 40 %)."""
    return centralised_rate(centralised, dispersed) >= target
