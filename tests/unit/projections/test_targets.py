"""Target progress (W10, W11, W15.1): the agreed indicator, its decomposition, progress
reported versus verified, milestones met or missed as of a date (N-CI-3: beds ≥ 60 % by
30 June), and self-assessments with the scheme's deadlines (SCO-7), decided through the real
rules and folded."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.domain.model import SOFT_FINDINGS
from ledger.projections.targets import (
    TargetProgressProjection,
    TargetRow,
    indicator_key,
    milestones_on,
    self_key,
    target_progress,
)
from ledger.settings import Settings
from tests.unit.domain.assessment_builders import (
    indicator,
    publish_scheme,
    sign_agreement,
    standard_indicators,
    year_stream,
)
from tests.unit.domain.case_builders import World

from .test_read_models import ReadModelLog
from .test_scores import LoggedWorld, built, logged_world, memory_hash

TARGET_SCHEME = "scheme-targets"
AGREEMENT = "agr-targets-A"
BEDS = "HOUSING-BEDS"
MILESTONES = [{"date": "2024-06-30", "fraction": "0.6"}, {"date": "2024-11-30", "fraction": "1"}]
DEADLINES = {
    "mid_year_self_check": "07-10",
    "self_check": "01-10",
    "responsible": "01-15",
    "lead": "01-20",
    "consolidation": "01-30",
}


def progress(world: World, period: str, value: str, as_of: str) -> None:
    world.emit(
        "ProgressReported",
        AGREEMENT,
        {"indicator_id": BEDS, "period": period, "value": value, "as_of": as_of, "evidence": []},
        actor="county-A-gov",
        on=as_of,
    )


def self_assess(world: World, round_: str, submitted: str) -> None:
    world.emit(
        "SelfAssessmentSubmitted",
        year_stream("county-A", TARGET_SCHEME),
        {
            "scheme_id": TARGET_SCHEME,
            "assessee": "county-A",
            "round": round_,
            "self_scores": [{"indicator_id": BEDS, "points": "10", "met": True}],
            "report_sha256": "d" * 64,
            "submitted_at": submitted,
        },
        actor="county-A-gov",
        on=submitted,
    )


def targets_story(world: World) -> None:
    """County A's 300 elderly-home beds (001): milestones 60 % by 30 June and 100 % by
    30 November; decomposed over two townships short of the target; 150 beds on 30 June
    (verified 140), 310 on 30 November; mid-year self-check on time, year-end one late."""
    publish_scheme(world, TARGET_SCHEME, deadlines=DEADLINES)
    beds = indicator(BEDS, "SUBSIDISED_HOUSING", "10", target="300", milestones=MILESTONES)
    indicators = standard_indicators(SUBSIDISED_HOUSING=[beds])
    sign_agreement(world, "county-A", indicators, scheme_id=TARGET_SCHEME, agreement_id=AGREEMENT)
    world.emit(
        "TargetDecomposed",
        AGREEMENT,
        {
            "parent_indicator_id": BEDS,
            "assignments": [
                {"org_id": "township-A1", "target_value": "150"},
                {"org_id": "township-A2", "target_value": "120"},
            ],
        },
        actor="county-A-gov",
        on="2024-01-20",
    )
    progress(world, "2024-06", "150", "2024-06-30")
    world.emit(
        "ProgressVerified",
        AGREEMENT,
        {"indicator_id": BEDS, "period": "2024-06", "verified_value": "140"},
        actor="assessor-1",
        on="2024-07-03",
    )
    self_assess(world, "MID_YEAR", "2024-07-08")
    progress(world, "2024-11", "310", "2024-11-30")
    self_assess(world, "YEAR_END", "2025-01-12")


@pytest.fixture(scope="module")
def world() -> LoggedWorld:
    w = logged_world()
    targets_story(w)
    return w


def rows(world: LoggedWorld, upto: int | None = None) -> dict[str, TargetRow]:
    return TargetProgressProjection().fold_all(world.events(upto)).rows.rows


def test_the_agreed_indicator_with_its_decomposition(world: LoggedWorld) -> None:
    row = rows(world)[indicator_key(AGREEMENT, BEDS)]

    assert (row.kind, row.scheme_id, row.assessee, row.principal_org_id) == (
        "INDICATOR",
        TARGET_SCHEME,
        "county-A",
        "city-1",
    )
    assert (row.category, row.target_value, row.base_points) == ("SUBSIDISED_HOUSING", "300", "10")
    assert orjson.loads(row.milestones) == MILESTONES
    assert (row.decomposed_total, row.decomposition_short) == ("270", 1)
    assert [a["org_id"] for a in orjson.loads(row.decomposition)] == ["township-A1", "township-A2"]
    # The ledger raised the same soft findings the projection shows.
    codes = sorted(f.finding_code for f in world.state.table(SOFT_FINDINGS).values())
    assert codes == ["AF-SCO-LATE", "AF-TGT-DECOMPOSITION", "AF-TGT-MILESTONE"]


def test_progress_reported_versus_verified(world: LoggedWorld) -> None:
    row = rows(world)[indicator_key(AGREEMENT, BEDS)]

    reports = orjson.loads(row.reports)
    assert [(r["period"], r["value"]) for r in reports] == [("2024-06", "150"), ("2024-11", "310")]
    assert orjson.loads(row.verifications)["2024-06"]["verified_value"] == "140"
    assert (row.latest_period, row.latest_reported, row.latest_verified) == ("2024-11", "310", None)
    assert (row.completion_ratio, row.completion_basis) == ("31/30", "REPORTED")


def test_the_completion_ratio_uses_the_verified_value_when_there_is_one(
    world: LoggedWorld,
) -> None:
    verified = next(i for i, e in enumerate(world.log) if e.event_type == "ProgressVerified")

    row = rows(world, verified)[indicator_key(AGREEMENT, BEDS)]

    assert (row.latest_period, row.latest_reported, row.latest_verified) == (
        "2024-06",
        "150",
        "140",
    )
    assert (row.completion_ratio, row.completion_basis) == ("7/15", "VERIFIED")


def test_milestones_as_of_a_date(world: LoggedWorld) -> None:
    row = rows(world)[indicator_key(AGREEMENT, BEDS)]

    def statuses(on: str) -> list[tuple[str, str, str | None]]:
        return [
            (m["status"], m["expected"], m["reported"])
            for m in milestones_on(row, date.fromisoformat(on))
        ]

    assert statuses("2024-06-29") == [("PENDING", "180", "150"), ("PENDING", "300", "310")]
    # 150 of the 180 beds due on 30 June (N-CI-3): missed; 310 of 300 by 30 November: met.
    assert statuses("2024-07-01") == [("MISSED", "180", "150"), ("PENDING", "300", "310")]
    assert statuses("2024-12-31") == [("MISSED", "180", "150"), ("MET", "300", "310")]
    assert milestones_on(row, date(2024, 12, 31))[0]["verified"] == "140"


def test_a_milestone_with_no_report_by_its_date_is_missed() -> None:
    log = ReadModelLog()
    spec = {"indicator_id": "i", "target_value": "10", "milestones": MILESTONES[:1]}
    log.emit(
        "TargetResponsibilityAgreementSigned",
        ("agreement", "a"),
        {"scheme_id": "s", "agent_org_id": "u", "indicators": [spec]},
    )
    log.emit(
        "ProgressReported",
        ("agreement", "a"),
        {"indicator_id": "i", "period": "2024-07", "value": "10", "as_of": "2024-07-01"},
    )

    row = TargetProgressProjection().fold_all(log.events()).rows.rows["I|a|i"]

    assert [m["status"] for m in milestones_on(row, date(2024, 12, 31))] == ["MISSED"]


def test_self_assessments_and_whether_late(world: LoggedWorld) -> None:
    found = rows(world)
    mid = found[self_key(TARGET_SCHEME, "county-A", "MID_YEAR")]
    end = found[self_key(TARGET_SCHEME, "county-A", "YEAR_END")]

    assert (mid.submitted_at, mid.deadline, mid.late) == ("2024-07-08", "2024-07-10", 0)
    assert (end.submitted_at, end.deadline, end.late) == ("2025-01-12", "2025-01-10", 1)
    assert orjson.loads(end.self_scores) == [{"indicator_id": BEDS, "met": True, "points": "10"}]


def test_progress_on_an_indicator_never_agreed_is_kept() -> None:
    log = ReadModelLog()
    log.emit(
        "ProgressReported",
        ("agreement", "a-9"),
        {"indicator_id": "x", "period": "2024-07", "value": "3", "as_of": "2024-07-01"},
    )

    row = TargetProgressProjection().fold_all(log.events()).rows.rows["I|a-9|x"]

    assert (row.agreement_id, row.latest_reported, row.completion_ratio) == ("a-9", "3", None)


def test_the_query_filters_and_evaluates_milestones(tmp_path: Path, world: LoggedWorld) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}", home=tmp_path)
    store = built(settings, world.entries(), page_size=4)

    page = target_progress(
        store, agreement_id=AGREEMENT, kind="INDICATOR", as_of=date(2024, 12, 31), limit=1000
    )
    selves = target_progress(store, kind="SELF_ASSESSMENT", assessee="county-A")

    beds: dict[str, Any] = next(r for r in page.rows if r["indicator_id"] == BEDS)
    assert (beds["milestones_missed"], beds["as_of"]) == (1, "2024-12-31")
    assert len(page.rows) == 8  # one indicator per 002 category
    assert page.state_hash == memory_hash(world, "targets", page.position)
    assert [r["round"] for r in selves.rows] == ["MID_YEAR", "YEAR_END"]
    store.close()
