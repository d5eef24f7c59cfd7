"""A city's whole year (``ledger.tools.demo_city``) written through the real service, on
SQLite and PostgreSQL: every event signed and accepted by the rules, then the business
state checked with the exact numbers the rules computed, and the log verified (plain and
deep, V8-V11, against the stored projections)."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import orjson
import pytest

from ledger.bootstrap import ADMIN_KEY_FILE
from ledger.domain import (
    assessment_results,
    assessment_state,
    assistance,
    assistance_caps,
    dibao_dynamic,
    enrolments,
    funds,
    funds_matching,
    standards,
    supervision_notices,
)
from ledger.domain.model import SOFT_FINDINGS, DomainState
from ledger.domain.periods import Period
from ledger.integrity.signing import read_private_key
from ledger.projections import Follower, ProjectionStore
from ledger.services.findings import FindingsService
from ledger.tools.commands import open_source
from ledger.tools.demo_city import SCHEME_ID, CitySummary, write_city_year
from ledger.tools.scenario import new_admin_desk
from ledger.verification import verify
from ledger.verification.replay import stored_projection_hashes, verify_deep
from tests.conftest import PG_BASE, LedgerWorld, make_world, require_postgres


def fake_identity(_person_id: str, _name: str, id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


@dataclass
class CityYear:
    world: LedgerWorld
    summary: CitySummary


def _write(url: str, home: Path) -> CityYear:
    world = make_world(url, home)
    service = world.service
    desk = new_admin_desk(
        lambda raw: service.append(raw).receipt,
        read_private_key(world.settings.home / ADMIN_KEY_FILE),
        "admin-1",
        "city",
        service.registry.version,
    )
    summary = write_city_year(desk, fake_identity)
    store = ProjectionStore.open(world.settings)
    Follower(store, service.store.log).catch_up()
    store.close()
    return CityYear(world, summary)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def city(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CityYear]:
    """The year is written once per backend and only read by the tests."""
    tmp = tmp_path_factory.mktemp("city")
    if request.param == "sqlite":
        year = _write(f"sqlite:///{tmp / 'ledger.db'}", tmp / "home")
        yield year
        year.world.service.close()
        return
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        year = _write(f"{PG_BASE}?schema={schema}", tmp / "home")
        yield year
        year.world.service.close()
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _state(city: CityYear) -> DomainState:
    return city.world.service.decisions.state


def _enrolments(city: CityYear) -> list[enrolments.Enrolment]:
    return list(_state(city).table(enrolments.ENROLMENTS).values())


# --- the programmes -------------------------------------------------------------------------


def test_the_city_has_three_counties_one_a_development_zone(city: CityYear) -> None:
    s = city.summary
    assert [c.county_id for c in s.counties] == ["county-hx", "county-lj", "county-dz"]
    assert s.townships == 6
    organisations = city.world.service.registry.organisations
    assert "开发区" in organisations["county-dz"].name
    assert s.events < 8_000
    assert s.events == sum(s.event_types.values())


def test_tekun_cases_per_county(city: CityYear) -> None:
    rows = [
        (c.county_id, c.applicants, c.enrolled, c.rejected, c.terminated, c.batches)
        for c in city.summary.counties
    ]
    assert rows == [
        ("county-hx", 36, 30, 6, 2, 12),
        ("county-lj", 16, 14, 2, 1, 12),
        ("county-dz", 8, 8, 0, 1, 12),
    ]
    by_programme = Counter(e.programme_code for e in _enrolments(city))
    assert by_programme == {"TEKUN": 52, "DIBAO_RURAL": 3, "DIBAO_URBAN": 2}
    tekun = [e for e in _enrolments(city) if e.programme_code == "TEKUN"]
    # The fourth case of each twelve is centralised: 6 in 和县's 36, 2 in each other county
    # (one per round of 8 and of 4 applicants).
    assert Counter(e.support_mode for e in tekun) == {"DISPERSED": 42, "CENTRALISED": 10}
    terminated = [e for e in tekun if e.status == enrolments.EnrolmentStatus.TERMINATED]
    assert len(terminated) == 4


def test_dibao_entitlements_are_the_income_gap_plus_classified_increments(
    city: CityYear,
) -> None:
    """Monthly: 3 x 650 - (1,200 - 300) + 100 = 1,150 元; 2 x 650 - 600 = 700 元;
    650 - 200 + 50 = 500 元; urban 2 x 800 - 500 = 1,100 元 and 800 元."""
    dibao = sorted(
        (e.application_id, e.programme_code, e.annual_amount_fen)
        for e in _enrolments(city)
        if e.programme_code.startswith("DIBAO")
    )
    assert dibao == [
        ("app-county-dz-db-004", "DIBAO_URBAN", 1_320_000),
        ("app-county-dz-db-005", "DIBAO_URBAN", 960_000),
        ("app-county-lj-db-001", "DIBAO_RURAL", 1_380_000),
        ("app-county-lj-db-002", "DIBAO_RURAL", 840_000),
        ("app-county-lj-db-003", "DIBAO_RURAL", 600_000),
    ]
    exiting = enrolments.enrolment(_state(city), "enr-app-county-lj-db-002")
    assert exiting is not None
    assert exiting.status == enrolments.EnrolmentStatus.GRADUAL_EXIT
    # Determined on 20 August: twelve more months, September 2024 to August 2025.
    dynamic = dibao_dynamic.record(_state(city), "enr-app-county-lj-db-002")
    assert dynamic is not None
    assert dynamic.gradual_exit == (Period(2024, 9), Period(2025, 8))
    # Rural: 11 months of 1,150 + 700 + 500 元; urban: 11 months of 1,100 + 800 元.
    assert city.summary.dibao_paid_fen == {"county-lj": 2_585_000, "county-dz": 2_090_000}


def test_capped_and_one_off_benefits(city: CityYear) -> None:
    state = _state(city)
    # EX-CAP-1: 3 months in hospital, 9,000 元 out of pocket: 6,000 + 2,000 = 8,000 元.
    assert assistance_caps.episode_total_fen(state, "hh-hx-ha-001", "ep-hx-001") == 800_000
    # EX-CAP-2: the district's 11 x 2,000 is capped at 20,000; with the township 22,000 元.
    assert assistance_caps.episode_total_fen(state, "hh-hx-ha-002", "ep-hx-002") == 2_200_000
    assert city.summary.assistance_fen == {
        "HARDSHIP_ASSISTANCE": 3_000_000,
        "MEDICAL_AID": 450_000,
        "PREFERENTIAL_CARE": 2 * 12 * 120_000,
        "PRICE_SUBSIDY": 5 * 3 * 3_000,
        "TEMP_ASSISTANCE": 380_000,
    }
    # Every month of temporary (fast-track) and medical cases was approved and spot-checked.
    assert assistance.months_missing_oversight(state) == []


def test_tekun_standards_are_published_in_may_at_their_floors_in_force_from_july(
    city: CityYear,
) -> None:
    """STD-1: max(60 % of 18,000 元, 1.3 x 12 x 650 元) = max(10,800, 10,140) = 10,800 元;
    STD-2: each care tier at least a tenth of it; STD-3: published 20 May, from July."""
    assert city.summary.tekun_standards_fen == {
        "BASIC_LIVING": 1_080_000,
        "CARE_FULL": 324_000,
        "CARE_PARTIAL": 216_000,
        "CARE_NONE": 108_000,
    }
    published = standards.standards_published(_state(city), "TEKUN", 2024)
    assert len(published) == 8
    assert {str(p.effective_from) for p in published} == {"2024-07"}


def test_the_year_breaks_no_soft_invariant_and_the_auditors_find_nothing(
    city: CityYear,
) -> None:
    """Deadlines met, carry-over complete, standards on time, every month of assistance
    overseen, the escalation applied: no AF- finding in the rules, none by the detectors."""
    assert list(_state(city).table(SOFT_FINDINGS).values()) == []
    assert FindingsService(city.world.service).pending() == []


def test_the_same_seed_writes_the_same_year(city: CityYear, tmp_path: Path) -> None:
    """Written again on a fresh SQLite file, whatever the backend of the first writing."""
    again = _write(f"sqlite:///{tmp_path / 'again.db'}", tmp_path / "home")
    try:
        assert again.summary == city.summary
        # The same events on the same streams, for the same (pseudonymous) people.
        outline = _outline(city)
        assert len(outline) > 2_000
        assert _outline(again) == outline
    finally:
        again.world.service.close()


def _outline(city: CityYear) -> list[tuple[str, str, str | None]]:
    entries = city.world.service.store.log.entries(0, 1_000_000)
    rows = [orjson.loads(e.state) for e in entries]
    return [
        (r["event_type"], r["stream_id"], r["payload"].get("applicant_identity_hmac"))
        for r in rows
        if r["stream_type"] != "registry"
    ]


# --- the money --------------------------------------------------------------------------------


def test_fund_balances_add_up(city: CityYear) -> None:
    state = _state(city)
    s = city.summary
    hx, lj, dz = s.counties
    assert (hx.paid_fen, lj.paid_fen, dz.paid_fen) == (4_334_334, 2_044_664, 1_220_000)
    expected = {
        # received, paid, recovered, carried out
        hx.fund_account_id: (6_000_000, hx.paid_fen, 0, s.carried_over_fen),
        lj.fund_account_id: (4_300_000, lj.paid_fen, s.recovered_fen, 0),
        dz.fund_account_id: (1_300_000, dz.paid_fen, 0, 0),
        s.dibao_fund_accounts["county-lj"]: (4_000_000, 2_585_000, 0, 0),
        s.dibao_fund_accounts["county-dz"]: (2_500_000, 2_090_000, 0, 0),
    }
    for account, (received, paid, recovered, carried) in expected.items():
        balance = funds.fund_balance(state, account)
        assert balance is not None, account
        assert balance.received_fen == received, account
        assert balance.committed_unsettled_fen == 0, account
        assert balance.available_fen == received - paid + recovered - carried, account
    # 和县 carries its whole closing balance into 2025 (FUND-4).
    assert s.carried_over_fen == 6_000_000 - 4_334_334
    next_year = funds.fund_balance(state, s.carry_over_account_id)
    assert next_year is not None
    assert next_year.available_fen == s.carried_over_fen
    # 临江县 recovers May to August of 1,300 元 a year: 4 monthly amounts.
    assert s.recovered_fen == 43_332


def test_local_matching_funds_committed_and_partly_received(city: CityYear) -> None:
    state = _state(city)
    rows = {
        c.key.admin_unit_id: (c.committed_fen, c.appropriated_fen, c.received_fen, c.ratio)
        for c in funds_matching.all_compliance(state)
        if c.key.programme_code == "TEKUN" and c.key.year == 2024
    }
    assert rows["county-hx"] == (1_500_000, 1_500_000, 1_500_000, 1)
    assert rows["county-lj"] == (800_000, 800_000, 500_000, Fraction(5, 8))
    assert rows["county-dz"] == (400_000, 300_000, 300_000, Fraction(3, 4))


# --- supervision ------------------------------------------------------------------------------


def test_the_rectification_fails_then_passes_after_reissue(city: CityYear) -> None:
    state = _state(city)
    first = supervision_notices.notice(state, "rect-2024-001")
    second = supervision_notices.notice(state, "rect-2024-001-r1")
    assert first is not None and second is not None
    assert first.status == supervision_notices.NoticeStatus.REISSUED
    assert second.status == supervision_notices.NoticeStatus.VERIFIED_PASSED
    s = city.summary
    assert (s.inspections, s.findings, s.criticisms, s.commendations) == (3, 2, 3, 1)
    types = s.event_types
    assert types["RectificationVerified"] == 2
    # Two announced inspections notified their three targets; the unannounced one none.
    assert types["InspectionNotified"] == 3


# --- the assessment -------------------------------------------------------------------------


def _scheme(city: CityYear) -> assessment_state.Scheme:
    return assessment_state.schemes(_state(city))[SCHEME_ID]


def test_the_indicator_scores_follow_f_bonus_and_f_short(city: CityYear) -> None:
    """EX-ANNUAL-1/2: 临江 over-completes employment by 0.05 of the peers' 0.15 (12 + 0.8);
    the zone misses its 4.5-point medical sub-indicator at 93 %: 3 steps of 5 % (-0.675)."""
    scores = assessment_results.recompute(_state(city), _scheme(city)).scores
    assert scores[("county-lj", "EMPLOYMENT")].final == Decimal("12.8")
    assert scores[("county-lj", "SUBSIDISED_HOUSING")].final == Decimal("12")
    assert scores[("county-dz", "MEDICAL-2")].final == Decimal("3.825")
    assert not scores[("county-dz", "MEDICAL-2")].met
    assert scores[("county-hx", "SOCIAL_INSURANCE")].final == Decimal("9.6")


def test_the_consolidated_ranking_the_veto_and_the_awards(city: CityYear) -> None:
    """S = O + M + T + B - P: 和县 6 + 4.8 + 92 + 1 (city commendation) = 103.8; 临江
    5.5 + 5.1 + 90.8 - 1 (city criticism) = 100.4; the zone 6 + 5.4 + 87.725 - 3 (provincial
    government 2, provincial department 1) = 96.125, vetoed."""
    state = _state(city)
    scheme = _scheme(city)
    result = assessment_results.recompute(state, scheme)
    totals = {a: result.annual[a].total for a in result.ranking.order}
    assert totals == {
        "county-hx": Fraction("103.8"),
        "county-lj": Fraction("100.4"),
        "county-dz": Fraction("96.125"),
    }
    assert result.ranking.vetoed == {"county-dz"}
    assert result.annual["county-dz"].failing_indicator_ids == ("MEDICAL-2",)
    assert scheme.consolidated_event_id is not None
    assert scheme.ratified_event_id is not None
    published = state.table(assessment_state.RANKINGS)[scheme.consolidated_event_id]
    assert published.order == ("county-hx", "county-lj", "county-dz")
    s = city.summary
    assert s.ranking == [
        ("county-hx", "103.8", False),
        ("county-lj", "100.4", False),
        ("county-dz", "96.125", True),
    ]
    # The veto keeps the zone off the comprehensive list; rank shift gives it every single
    # item the two winners may not take; it is the last place.
    assert s.comprehensive_awards == ["county-hx", "county-lj"]
    assert all(winners == ["county-dz"] for winners in s.single_item_awards.values())
    assert len(s.single_item_awards) == 7
    assert s.last_place == ["county-dz"]
    assert s.event_types["AwardGranted"] == 2 + 7
    assert s.event_types["LastPlaceDesignated"] == 1
    assert s.event_types["VetoApplied"] == 1
    # Excellent needs ≥ 90, a top-3 rank and both acceptances; the zone failed the province's.
    assert s.grades == {"county-hx": "EXCELLENT", "county-lj": "EXCELLENT", "county-dz": "FAIL"}


def test_the_printable_summary_states_the_key_facts(city: CityYear) -> None:
    text = str(city.summary)
    assert text.splitlines()[0] == "city demo 2024: 3 counties, 6 townships"
    assert "county-hx: 36 applicants, 30 enrolled" in text
    assert "43,343.34 yuan paid" in text
    assert "county-dz S=96.125 (vetoed)" in text
    assert "last place county-dz" in text


# --- verification -----------------------------------------------------------------------------


def test_the_log_verifies(city: CityYear) -> None:
    report = verify(open_source(city.world.settings, None))
    assert report.ok, report.findings[:3]


def test_the_deep_verification_replays_every_decision_cleanly(city: CityYear) -> None:
    settings = city.world.settings
    source = open_source(settings, None)
    try:
        result = verify_deep(source, stored=stored_projection_hashes(settings))
    finally:
        source.close()
    assert result.report.ok, result.report.findings[:3]
    assert result.replay.decisions_replayed > 1_000
    assert sorted(result.replay.projections_compared) == sorted(stored_projection_hashes(settings))
