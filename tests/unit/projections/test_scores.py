"""The score table (W15, F-ANNUAL): EX-ANNUAL-1/2 decided through the real rules and folded,
compared with the worked values and with ``recompute_assessment`` on the same plain inputs;
adjustments keep their causes; every page size and a rebuild give the in-memory fold's state
hash for the three assessment read models.

The story is decided by the domain's rules (:class:`LoggedWorld`), so the folds read exactly
the payloads the ledger accepts; helpers here are shared with ``test_rankings`` and
``test_targets``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.domain.model import DomainEvent
from ledger.domain.scoring import IndicatorInput, stored, survey_points
from ledger.domain.scoring_replay import AssesseeYear, Recomputation, recompute_assessment
from ledger.domain.scoring_scheme import scheme_config
from ledger.projections import Follower, ProjectionStore
from ledger.projections.base import Projection
from ledger.projections.events import Event, decode
from ledger.projections.rankings import assessment_projections
from ledger.projections.scores import ScoreRow, ScoreTableProjection, score_table
from ledger.settings import Settings
from tests.unit.domain.assessment_builders import (
    ACTORS,
    ACTUALS,
    B_MEDICAL,
    COUNTIES,
    CRITICISMS,
    ORGANISATION,
    ORGS,
    SCHEME,
    SURVEY,
    annual_year,
    approve_and_ratify,
    consolidate,
    propose,
    scheme_payload,
    standard_indicators,
    year_stream,
)
from tests.unit.domain.case_builders import FakeDirectory, World

from .helpers import FakeEntry, ListLog, recorded_at
from .test_read_models import ReadModelLog

NAMES = ("scores", "rankings", "targets")


# ------------------------------------------------------------------ a logged world


@dataclass
class LoggedWorld(World):
    """The domain's World that also keeps every accepted event, in log order."""

    log: list[DomainEvent] = field(default_factory=list)

    def emit(self, *args: Any, **kwargs: Any) -> DomainEvent:
        event = super().emit(*args, **kwargs)
        self.log.append(event)
        return event

    def entries(self) -> list[FakeEntry]:
        """The accepted events as log entries (envelope fields the folds read)."""
        out = []
        for i, event in enumerate(self.log):
            envelope = {
                "event_id": event.event_id,
                "event_type": event.event_type,
                "stream_type": event.stream_type,
                "stream_id": event.stream_id,
                "payload": dict(event.payload),
            }
            out.append(FakeEntry(i, recorded_at(i), event.event_type, orjson.dumps(envelope)))
        return out

    def events(self, upto: int | None = None) -> list[Event]:
        entries = self.entries()
        return [decode(e) for e in (entries if upto is None else entries[: upto + 1])]


def logged_world() -> LoggedWorld:
    return LoggedWorld(directory=FakeDirectory(ORGS, ACTORS))


def award(world: World, assessee: str, award_type: str, category: str | None = None) -> None:
    world.emit(
        "AwardGranted",
        year_stream(assessee),
        {
            "scheme_id": SCHEME,
            "assessee": assessee,
            "award_type": award_type,
            "category": category,
            "person_ref": None,
            "basis_event_ids": ["basis-1"],
        },
        actor="officer-1",
        on="2025-02-06",
    )


def annual_story(world: LoggedWorld) -> None:
    """EX-ANNUAL-1 (county-A) and EX-ANNUAL-2 (county-B, vetoed) beside county-C: scored,
    vetoed, consolidated, proposed, approved, ratified, awarded, last place and a grade."""
    annual_year(world)
    world.emit(
        "VetoApplied",
        year_stream("county-B"),
        {"scheme_id": SCHEME, "assessee": "county-B", "failing_indicator_ids": ["MEDICAL-2"]},
        actor="ledger-1",
    )
    consolidate(world)
    approve_and_ratify(world, propose(world))
    award(world, "county-C", "COMPREHENSIVE")
    award(world, "county-A", "COMPREHENSIVE")
    award(world, "county-B", "SINGLE_ITEM", "SUBSIDISED_HOUSING")
    world.emit(
        "LastPlaceDesignated",
        year_stream("county-B"),
        {"scheme_id": SCHEME, "assessee": "county-B", "basis_event_ids": ["basis-1"]},
        actor="officer-1",
    )
    world.emit(
        "GradeAssigned",
        year_stream("county-C"),
        {
            "scheme_id": SCHEME,
            "assessee": "county-C",
            "grade": "EXCELLENT",
            "passed_city_acceptance": True,
            "passed_provincial_acceptance": True,
            "basis_event_ids": ["basis-1"],
        },
        actor="officer-1",
    )


# ------------------------------------------------------------------ the plain recomputation


def plain_years() -> list[AssesseeYear]:
    """The inputs of the story as plain values (no events): agreed indicators, actuals,
    organisation sub-items, survey composites mapped to M, and the criticisms' prices."""
    rules = scheme_config(scheme_payload()).rules
    years = []
    for county in COUNTIES:
        splits = {"MEDICAL_SECURITY": B_MEDICAL} if county == "county-B" else {}
        indicators = [
            IndicatorInput(
                assessee=county,
                indicator_id=spec["indicator_id"],
                target=Fraction(spec["target_value"]),
                actual=Fraction(ACTUALS[county].get(spec["indicator_id"], "100")),
                base_points=Fraction(spec["base_points"]),
                bonus_eligible=spec["bonus_eligible"],
                measurable_by_ratio=spec["measurable_by_ratio"],
                category=spec["category"],
            )
            for spec in standard_indicators(**splits)
        ]
        years.append(
            AssesseeYear(
                assessee=county,
                sub_item_points={k: Fraction(v) for k, v in ORGANISATION[county].items()},
                survey_points=Fraction(stored(survey_points(Fraction(SURVEY[county]), rules))),
                indicators=indicators,
                penalty=sum((Fraction(p) for _, p in CRITICISMS[county]), Fraction(0)),
            )
        )
    return years


def recomputed() -> Recomputation:
    config = scheme_config(scheme_payload())
    return recompute_assessment(config.rules, config.quotas, plain_years())


def score_rows(events: list[Event]) -> dict[str, ScoreRow]:
    return ScoreTableProjection().fold_all(events).rows.rows


# ------------------------------------------------------------------ EX-ANNUAL-1 / EX-ANNUAL-2


@pytest.fixture(scope="module")
def annual() -> LoggedWorld:
    world = logged_world()
    annual_story(world)
    return world


def test_ex_annual_1_county_a_scores_100_4(annual: LoggedWorld) -> None:
    row = score_rows(annual.events())[f"{SCHEME}|county-A"]

    parts = (row.organisation_points, row.survey_points, row.task_points, row.penalty_points)

    assert parts == ("5.5", "5.1", "90.8", "1")
    assert (row.annual_score, row.bonus_points) == ("100.4", "0")
    categories = orjson.loads(row.category_points)
    assert (categories["EMPLOYMENT"], categories["SUBSIDISED_HOUSING"]) == ("12.8", "12")
    assert orjson.loads(row.failing_indicator_ids) == []


def test_ex_annual_2_county_b_scores_96_125_and_is_vetoed(annual: LoggedWorld) -> None:
    row = score_rows(annual.events())[f"{SCHEME}|county-B"]

    assert (row.organisation_points, row.survey_points) == ("6", "5.4")
    assert (row.task_points, row.penalty_points, row.annual_score) == ("87.725", "3", "96.125")
    assert orjson.loads(row.category_points)["MEDICAL_SECURITY"] == "17.825"
    assert orjson.loads(row.failing_indicator_ids) == ["MEDICAL-2"]
    assert row.veto_applied == 1
    medical = orjson.loads(row.indicators)["MEDICAL-2"]
    assert (medical["deduction"], medical["final"], medical["met"]) == ("0.6750", "3.8250", False)
    assert (medical["formula_id"], medical["formula_version"]) == ("F-SHORT", "1")


def test_the_table_equals_the_recomputation_on_the_same_inputs(annual: LoggedWorld) -> None:
    rows = score_rows(annual.events())
    result = recomputed()

    for county in COUNTIES:
        row, expected = rows[f"{SCHEME}|{county}"], result.annual[county]
        assert Fraction(row.annual_score) == expected.total, county
        assert Fraction(row.task_points) == expected.tasks
        assert Fraction(row.organisation_points) == expected.organisation
        assert Fraction(row.survey_points) == expected.survey
        assert Fraction(row.penalty_points) == expected.penalty
        assert orjson.loads(row.failing_indicator_ids) == list(expected.failing_indicator_ids)
        for indicator_id, item in orjson.loads(row.indicators).items():
            assert item["final"] == str(result.scores[(county, indicator_id)].final)


def test_every_adjustment_names_its_cause(annual: LoggedWorld) -> None:
    row = score_rows(annual.events())[f"{SCHEME}|county-B"]
    criticisms = [
        e.event_id
        for e in annual.log
        if e.event_type == "CriticismIssued" and e.payload["target_org"] == "county-B"
    ]

    adjustments = orjson.loads(row.adjustments)

    assert [(a["kind"], a["points"]) for a in adjustments] == [("PENALTY", "2"), ("PENALTY", "1")]
    assert [a["cause_event_id"] for a in adjustments] == criticisms


def test_the_consolidated_score_matches_the_table(annual: LoggedWorld) -> None:
    rows = score_rows(annual.events())

    assert {k: (r.consolidated_rank, r.difference) for k, r in rows.items()} == {
        f"{SCHEME}|county-C": (1, "0"),
        f"{SCHEME}|county-A": (2, "0"),
        f"{SCHEME}|county-B": (3, "0"),
    }


def test_a_later_score_change_shows_as_a_difference_from_the_consolidation() -> None:
    log = ReadModelLog()
    year = ("assessment_year", "s:u1")
    log.emit("SurveyScoreRecorded", year, {"scheme_id": "s", "assessee": "u1", "points": "5.1"})
    log.emit(
        "AssessmentConsolidated",
        ("scheme", "s"),
        {"scheme_id": "s", "ranking": [{"assessee": "u1", "S": "5.1"}]},
    )
    log.emit("SurveyScoreRecorded", year, {"scheme_id": "s", "assessee": "u1", "points": "5.4"})

    row = score_rows(log.events())["s|u1"]

    assert (row.annual_score, row.consolidated_score, row.difference) == ("5.4", "5.1", "0.3")


def test_a_cause_counts_once_and_bonus_points_add() -> None:
    log = ReadModelLog()
    year = ("assessment_year", "s:u1")
    for kind, points, cause in (
        ("PenaltyPointsApplied", "2", "c-1"),
        ("PenaltyPointsApplied", "2", "c-1"),
        ("BonusPointsApplied", "0.5", "c-2"),
    ):
        log.emit(
            kind,
            year,
            {"scheme_id": "s", "assessee": "u1", "points": points, "cause_event_id": cause},
        )

    row = score_rows(log.events())["s|u1"]

    assert (row.penalty_points, row.bonus_points, row.annual_score) == ("2", "0.5", "-1.5")


def test_a_score_that_is_not_an_exact_number_is_kept_but_not_added() -> None:
    log = ReadModelLog()
    log.emit(
        "IndicatorScoreRecorded",
        ("assessment_year", "s:u1"),
        {"scheme_id": "s", "assessee": "u1", "indicator_id": "i", "final": "0.1e1"},
    )

    row = score_rows(log.events())["s|u1"]

    assert (orjson.loads(row.indicators)["i"]["final"], row.task_points) == ("0.1e1", "0")


# ------------------------------------------------------------------ storage and determinism


def full_story() -> LoggedWorld:
    """The annual story plus the targets story of ``test_targets``."""
    # Imported here: test_targets imports this module.
    from .test_targets import targets_story

    world = logged_world()
    annual_story(world)
    targets_story(world)
    return world


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", home=tmp_path)


def built(settings: Settings, entries: list[FakeEntry], page_size: int = 5000) -> ProjectionStore:
    store = ProjectionStore.open(settings, assessment_projections())
    Follower(store, ListLog(entries), page_size=page_size).catch_up()
    return store


def projection(name: str) -> Projection[Any]:
    return next(p for p in assessment_projections() if p.name == name)


def memory_hash(world: LoggedWorld, name: str, position: int) -> str:
    p = projection(name)
    return p.memory_hash(p.fold_all(world.events(position)), position)


@pytest.fixture(scope="module")
def story() -> LoggedWorld:
    return full_story()


@pytest.mark.parametrize("page_size", [1, 7, 5000])
def test_every_page_size_gives_the_in_memory_hash(
    settings: Settings, story: LoggedWorld, page_size: int
) -> None:
    store = built(settings, story.entries(), page_size)
    last = len(story.log) - 1

    for name in NAMES:
        assert store.positions()[name] == len(story.log)
        assert store.state_hash(name) == memory_hash(story, name, last), name
    store.close()


def test_hashes_as_known_at_earlier_positions_match_the_prefix_folds(
    settings: Settings, story: LoggedWorld
) -> None:
    store = built(settings, story.entries(), page_size=13)

    for position in (0, 10, 40, 60, len(story.log) - 5, len(story.log) - 1):
        for name in NAMES:
            assert store.state_hash(name, position) == memory_hash(story, name, position), name
    store.close()


def test_a_rebuild_reproduces_the_incremental_state(settings: Settings, story: LoggedWorld) -> None:
    store = built(settings, story.entries(), page_size=11)
    before = {name: store.state_hash(name) for name in NAMES}

    Follower(store, ListLog(story.entries()), page_size=10_000).rebuild()

    assert {name: store.state_hash(name) for name in NAMES} == before
    store.close()


def test_the_query_answers_as_known_at_a_position(settings: Settings, story: LoggedWorld) -> None:
    store = built(settings, story.entries(), page_size=50)
    consolidation = next(e.position for e in story.log if e.event_type == "AssessmentConsolidated")

    now = score_table(store, scheme_id=SCHEME)
    before = score_table(store, scheme_id=SCHEME, as_known_at_position=consolidation - 1)

    assert now.position == len(story.log) - 1
    assert now.state_hash == memory_hash(story, "scores", now.position)
    assert [r["assessee"] for r in now.rows] == ["county-A", "county-B", "county-C"]
    assert {r["consolidated_score"] for r in before.rows} == {None}
    assert before.state_hash == memory_hash(story, "scores", consolidation - 1)
    page = score_table(store, limit=2)
    assert page.next_after == f"{SCHEME}|county-B"
    at_time = score_table(store, as_known_at_time=recorded_at(consolidation - 1))
    assert (at_time.position, at_time.state_hash) == (consolidation - 1, before.state_hash)
    store.close()
