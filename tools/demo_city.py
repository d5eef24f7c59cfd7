"""A city's year of livelihood programmes (民生工程), written through signed events only.

The city has three county-level units: 和县 (``county-hx``, whose 特困 year is the one-county
demo of :mod:`ledger.tools.demo_data`), 临江县 (``county-lj``) and the economic development
zone (``county-dz``, 经济技术开发区管委会), six townships in all.

* 特困: dispersed and centralised support in every county, care tiers assessed from July;
  the 2024 standards are published on 20 May at their STD-1 floor with the three care tiers
  (STD-2), in force from July (STD-3).
* 低保: rural households in 临江县 and urban ones in the zone, through the income test with
  disregards and classified increments, both public notices, a relative of a village
  official filed and recused, the June roll review and a 12-month gradual exit.
* Hardship top-ups within their caps (EX-HA-ELIG-1, EX-CAP-1, EX-CAP-2), medical and
  temporary assistance (fast track, monthly approval, spot check), the price subsidy and
  preferential care.
* Money: each county's dedicated accounts funded by several sources (central, provincial
  and city subsidies, the county budget as local matching money — committed, appropriated,
  partly received — and the welfare lottery); 和县 carries its closing balance into 2025,
  临江县 recovers an overpayment.
* Supervision: routine and special inspections (one unannounced) with findings, a
  rectification notice that fails verification, is reissued and passes; criticisms from
  the city and the province, a commendation from the city.
* Assessment: the scheme, agreements with decomposed targets and milestones, progress,
  half-year and year-end self-checks, results and scores, the veto of the zone's missed
  medical indicator, the consolidated ranking (EX-ANNUAL-1/2 plus a commendation), the
  award lists, ratification, awards, the last place and grades.

Deterministic: the same seed writes the same cases (event ids and signatures differ).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.domain.periods import Period, period_amount_fen
from ledger.domain.scoring_replay import points_text
from ledger.tools.demo_data import (
    PATHS,
    ROUNDS,
    IdentityHmac,
    _fake_identity,
    _run_round,
    write_demo,
)
from ledger.tools.scenario import (
    Applicant,
    Caseworker,
    County,
    Desk,
    Submit,
    Treasurer,
    add_county,
    county_by_convention,
)
from ledger.tools.scenario_assessment import (
    AssesseePlan,
    Assessment,
    Cause,
    Indicator,
    standard_indicators,
)
from ledger.tools.scenario_assistance import AssistanceOffice, define_components
from ledger.tools.scenario_city import (
    Appropriation,
    FundOffice,
    publish_tekun_standards,
)
from ledger.tools.scenario_dibao import (
    DIBAO_RURAL,
    DIBAO_URBAN,
    DibaoOffice,
    Household,
    define_dibao,
    register_village_members,
)
from ledger.tools.scenario_supervision import Inspectorate

YEAR = 2024
OTHER_COUNTIES = (
    ("county-lj", "临江县人民政府", 2),
    ("county-dz", "经济技术开发区管委会", 1),
)
"""The county-level units besides 和县: id, name, townships (a development zone is small)."""

OTHER_FUNDING = {
    # source, appropriated, received, matching (fen)
    "county-lj": (
        Appropriation("CENTRAL_SUBSIDY", 2_000_000, 2_000_000),
        Appropriation("PROVINCIAL_SUBSIDY", 1_200_000, 1_200_000),
        Appropriation("CITY_BUDGET", 400_000, 400_000),
        Appropriation("COUNTY_BUDGET", 800_000, 500_000, is_matching_fund=True),
        Appropriation("WELFARE_LOTTERY", 200_000, 200_000),
    ),
    "county-dz": (
        Appropriation("PROVINCIAL_SUBSIDY", 600_000, 600_000),
        Appropriation("CITY_BUDGET", 300_000, 300_000),
        Appropriation("COUNTY_BUDGET", 300_000, 300_000, is_matching_fund=True),
        Appropriation("WELFARE_LOTTERY", 100_000, 100_000),
    ),
}
HX_RECEIVED_FEN = 6_000_000
"""What 和县's 2024 account received (the one-county demo's three sources, all received)."""
MATCHING_COMMITTED_FEN = {"county-hx": 1_500_000, "county-lj": 800_000, "county-dz": 400_000}


class EventTrail:
    """Wraps a desk's submitter to remember the type and id of every accepted event."""

    def __init__(self, submit: Submit) -> None:
        self.inner = submit
        self.types: Counter[str] = Counter()
        self.last_id: dict[str, str] = {}

    def __call__(self, raw: bytes) -> Any:
        receipt = self.inner(raw)  # raises on refusal: only accepted events are counted
        envelope = json.loads(raw)
        self.types[envelope["event_type"]] += 1
        self.last_id[envelope["event_type"]] = envelope["event_id"]
        return receipt


@dataclass
class CountyYear:
    """What one county-level unit did in the year."""

    county_id: str
    applicants: int = 0
    enrolled: int = 0
    rejected: int = 0
    terminated: int = 0
    batches: int = 0
    payment_lines: int = 0
    paid_fen: int = 0
    fund_account_id: str = ""


@dataclass
class CitySummary:
    """What the city demo wrote (for the printed summary and the tests)."""

    counties: list[CountyYear]
    townships: int
    carried_over_fen: int
    carry_over_account_id: str
    recovered_fen: int
    inspections: int
    findings: int
    notices: list[str]
    criticisms: int
    commendations: int
    dibao_households: Counter[str]
    dibao_in_gradual_exit: int
    dibao_paid_fen: dict[str, int]
    dibao_fund_accounts: dict[str, str]
    assistance_fen: dict[str, int]
    assistance_grants: int
    tekun_standards_fen: dict[str, int]
    """2024's 特困 standards from July, per component (annual fen)."""
    ranking: list[tuple[str, str, bool]]
    """The consolidated ranking, best first: (county, S, vetoed)."""
    comprehensive_awards: list[str]
    single_item_awards: dict[str, list[str]]
    last_place: list[str]
    grades: dict[str, str]
    event_types: Counter[str] = field(default_factory=Counter)

    @property
    def events(self) -> int:
        """Business events written (the registry's onboarding events included)."""
        return sum(self.event_types.values())

    def county(self, county_id: str) -> CountyYear:
        return next(c for c in self.counties if c.county_id == county_id)

    def lines(self) -> list[str]:
        """The printable summary, one line each."""
        out = [f"city demo {YEAR}: {len(self.counties)} counties, {self.townships} townships"]
        for c in self.counties:
            out.append(
                f"  {c.county_id}: {c.applicants} applicants, {c.enrolled} enrolled, "
                f"{c.rejected} rejected, {c.terminated} terminated; {c.batches} batches, "
                f"{c.payment_lines} lines, {_yuan(c.paid_fen)} yuan paid "
                f"from {c.fund_account_id}"
            )
        out.append(
            f"  dibao: {dict(sorted(self.dibao_households.items()))} households "
            f"({self.dibao_in_gradual_exit} in gradual exit), paid "
            + ", ".join(f"{k} {_yuan(v)} yuan" for k, v in self.dibao_paid_fen.items())
        )
        out.append(
            f"  assistance: {self.assistance_grants} grants, "
            + ", ".join(f"{k} {_yuan(v)} yuan" for k, v in self.assistance_fen.items())
        )
        out.append(
            "  特困 standards from July: "
            + ", ".join(f"{k} {_yuan(v)}" for k, v in self.tekun_standards_fen.items())
            + " yuan a year"
        )
        out += [
            f"  carried over {_yuan(self.carried_over_fen)} yuan to "
            f"{self.carry_over_account_id}; recovered {_yuan(self.recovered_fen)} yuan",
            f"  supervision: {self.inspections} inspections, {self.findings} findings, "
            f"notices {', '.join(self.notices)}, {self.criticisms} criticisms, "
            f"{self.commendations} commendations",
            "  assessment: "
            + ", ".join(
                f"{a} S={score}" + (" (vetoed)" if vetoed else "")
                for a, score, vetoed in self.ranking
            ),
            f"    comprehensive awards {', '.join(self.comprehensive_awards)}; "
            f"{sum(len(w) for w in self.single_item_awards.values())} single-item awards; "
            f"last place {', '.join(self.last_place)}; grades "
            + ", ".join(f"{a} {g}" for a, g in self.grades.items()),
            f"  {self.events} events",
        ]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no binary float)."""
    return f"{fen // 100:,}.{fen % 100:02d}"


# ---------------------------------------------------------------------- 特困 in more counties


def _county_applicants(
    county: County, rng: random.Random, identity: IdentityHmac, first_n: int, rounds: int
) -> list[list[Applicant]]:
    """Four applicants per township per round, following the demo's paths."""
    out: list[list[Applicant]] = []
    n = first_n
    for r in range(rounds):
        batch: list[Applicant] = []
        for t, town in enumerate(county.townships):
            for k in range(4):
                n += 1
                path = PATHS[(r * 12 + t * 4 + k) % len(PATHS)]
                person = f"p-{county.org_id}-{n:04d}"
                name, id_number = _fake_identity(rng, n)
                batch.append(
                    Applicant(
                        application_id=f"app-{county.org_id}-{n:04d}",
                        person_id=person,
                        household_id=f"hh-{county.org_id}-{n:04d}",
                        identity_hmac=identity(person, name, id_number),
                        township=town,
                        village=town.villages[k % 2],
                        category="DISABLED" if n % 5 == 0 else "ELDERLY",
                        mode="CENTRALISED" if path == "CENTRALISED" else "DISPERSED",
                        path="APPROVE" if path == "CENTRALISED" else path,
                        obligors=(f"{person}-son",) if n % 3 == 0 else (),
                    )
                )
        out.append(batch)
    return out


def _county_tekun_year(
    desk: Desk, county: County, rng: random.Random, identity: IdentityHmac, first_n: int
) -> tuple[CountyYear, Applicant]:
    """Two rounds of applications (November, December 2023), then a year of payments;
    the first beneficiary of the last township leaves in August (hidden income found)."""
    year = CountyYear(county.org_id)
    funds = FundOffice(desk, county)
    year.fund_account_id = funds.open_account(YEAR, date(YEAR, 1, 2), OTHER_FUNDING[county.org_id])
    county.fund_account = year.fund_account_id
    work = Caseworker(desk, county)
    rounds = _county_applicants(county, rng, identity, first_n, 2)
    for r, applicants in enumerate(rounds):
        enrolled, rejected = _run_round(work, applicants, ROUNDS[r], first_n + r)
        year.enrolled += enrolled
        year.rejected += rejected
    year.applicants = sum(len(g) for g in rounds)
    beneficiaries = [a for g in rounds for a in g if a.enrolment_id]
    treasurer = Treasurer(desk, county)
    leaver = beneficiaries[-1]
    for month in range(1, 13):
        if month == 7:
            _assess_care(desk, county, beneficiaries)
        if month == 8:
            work.terminate(leaver, "NO_LONGER_ELIGIBLE", date(YEAR, 8, 5))
            year.terminated += 1
        if treasurer.pay_month(Period(YEAR, month), beneficiaries):
            year.batches += 1
    year.payment_lines, year.paid_fen = treasurer.lines_paid, treasurer.amount_paid_fen
    return year, leaver


def _assess_care(desk: Desk, county: County, beneficiaries: list[Applicant]) -> None:
    """W3.5: the care tier of each centralised resident from July, when the new care
    standards take effect (alternately fully and partially dependent)."""
    residents = [a for a in beneficiaries if a.mode == "CENTRALISED" and a.enrolment_id]
    for n, a in enumerate(residents):
        assert a.enrolment_id is not None
        desk.emit(
            desk.signers[county.approver],
            ("enrolment", a.enrolment_id),
            "CareDependencyAssessed",
            {"level": "FULL" if n % 2 == 0 else "PARTIAL", "effective_period": f"{YEAR}-07"},
            date(YEAR, 6, 25),
        )


# ---------------------------------------------------------------------- 低保


DIBAO_FUNDING = {
    "county-lj": (
        Appropriation("CENTRAL_SUBSIDY", 3_000_000, 3_000_000),
        Appropriation("PROVINCIAL_SUBSIDY", 1_000_000, 1_000_000),
    ),
    "county-dz": (
        Appropriation("PROVINCIAL_SUBSIDY", 2_000_000, 2_000_000),
        Appropriation("CITY_BUDGET", 500_000, 500_000),
    ),
}


@dataclass(frozen=True)
class DibaoPlan:
    """One scripted dibao household (the members' ids derive from the applicant's)."""

    county_id: str
    township: int
    village: int
    programme: str
    members: int
    monthly_income_fen: int
    disregarded_fen: int = 0
    categories: tuple[tuple[int, str], ...] = ()
    """(member index, 0 = the applicant, category) of classified-assistance members."""
    relative: bool = False
    gradual_exit: bool = False


DIBAO_PLANS = (
    # 3 x 650 - (1,200 - 300) + 100 (severely disabled child) = 1,150 元 a month; the
    # applicant's brother sits on the village committee (filed, recused).
    DibaoPlan(
        "county-lj", 1, 1, DIBAO_RURAL, 2, 120_000, 30_000, ((2, "SEVERELY_DISABLED"),), True
    ),
    # 2 x 650 - 600 = 700 元; income rises in August: a 12-month gradual exit.
    DibaoPlan("county-lj", 1, 2, DIBAO_RURAL, 1, 60_000, gradual_exit=True),
    # 650 - 200 + 50 (elderly) = 500 元.
    DibaoPlan("county-lj", 2, 1, DIBAO_RURAL, 0, 20_000, categories=((0, "ELDERLY"),)),
    # 2 x 800 - 500 = 1,100 元 (urban).
    DibaoPlan("county-dz", 1, 1, DIBAO_URBAN, 1, 50_000),
    # 800 - 0 = 800 元 (urban).
    DibaoPlan("county-dz", 1, 2, DIBAO_URBAN, 0, 0),
)


def _dibao_household(
    plan: DibaoPlan, county: County, n: int, rng: random.Random, identity: IdentityHmac
) -> Household:
    town = county.townships[plan.township - 1]
    person = f"p-{county.org_id}-db-{n:03d}"
    name, id_number = _fake_identity(rng, 900 + n)
    members = tuple(f"{person}-m{k}" for k in range(1, plan.members + 1))
    covered = (person, *members)
    village = town.villages[plan.village - 1]
    return Household(
        applicant=Applicant(
            application_id=f"app-{county.org_id}-db-{n:03d}",
            person_id=person,
            household_id=f"hh-{county.org_id}-db-{n:03d}",
            identity_hmac=identity(person, name, id_number),
            township=town,
            village=village,
        ),
        programme=plan.programme,
        members=members,
        monthly_income_fen=plan.monthly_income_fen,
        disregarded_fen=plan.disregarded_fen,
        categories=tuple((covered[k], c) for k, c in plan.categories),
        relative_of=f"{village}-member" if plan.relative else None,
    )


def _dibao_year(
    desk: Desk, units: dict[str, County], rng: random.Random, identity: IdentityHmac
) -> dict[str, DibaoOffice]:
    """Dibao in 临江县 (rural) and the development zone (urban): applications in January,
    payments from February, the June roll review, one gradual exit from September."""
    define_dibao(desk, units["county-lj"], date(YEAR - 1, 5, 25))
    offices: dict[str, DibaoOffice] = {}
    for county_id, funding in DIBAO_FUNDING.items():
        county = units[county_id]
        register_village_members(desk, county)
        office = DibaoOffice(desk, county)
        office.fund_account = FundOffice(desk, county).open_account(
            YEAR,
            date(YEAR, 1, 3),
            funding,
            earmark="dibao",
            programmes=(DIBAO_RURAL, DIBAO_URBAN),
            purposes=("BASIC_LIVING",),
        )
        offices[county_id] = office
    exits: list[Household] = []
    for n, plan in enumerate(DIBAO_PLANS, 1):
        household = _dibao_household(plan, units[plan.county_id], n, rng, identity)
        offices[plan.county_id].apply_and_enrol(household, date(YEAR, 1, 8), 7000 + n)
        if plan.gradual_exit:
            exits.append(household)
    for month in range(2, 13):
        if month == 6:
            for office in offices.values():
                for town in office.county.townships:
                    for village in town.villages:
                        for programme in (DIBAO_RURAL, DIBAO_URBAN):
                            office.review_roll(village, programme, date(YEAR, 6, 3), [])
        if month == 8:
            for household in exits:
                offices["county-lj"].start_gradual_exit(household, 200_000, date(YEAR, 8, 20))
        for office in offices.values():
            office.pay_month(Period(YEAR, month))
    return offices


# ---------------------------------------------------------------------- assistance


def _assistance_year(
    desk: Desk, units: dict[str, County], dibao: dict[str, DibaoOffice]
) -> dict[str, AssistanceOffice]:
    """Hardship top-ups (EX-HA-ELIG-1, EX-CAP-1, EX-CAP-2), medical and temporary assistance
    (fast track), the price subsidy of the third quarter and preferential care."""
    hx, lj, dz = units["county-hx"], units["county-lj"], units["county-dz"]
    define_components(desk, hx.government, date(YEAR - 1, 12, 15))
    offices = {k: AssistanceOffice(desk, c) for k, c in units.items()}
    # Hardship (W7): EX-HA-ELIG-1, 3 persons with 5,000 元 each a year, are selected.
    ha = offices["county-hx"]
    town1, town2 = hx.townships[0], hx.townships[1]
    ha.select_household(town1, "hh-hx-ha-001", 3, 500_000, date(YEAR, 2, 20))
    ha.select_household(town2, "hh-hx-ha-002", 2, 300_000, date(YEAR, 2, 21))
    # EX-CAP-1: three months in hospital, 9,000 元 out of pocket: 6,000 + 2,000.
    ha.hospital_episode(
        town1, "hh-hx-ha-001", "p-hx-ha-001", "ep-hx-001", 3, 900_000, date(YEAR, 4, 15)
    )
    # EX-CAP-2: eleven months, 30,000 元 out of pocket: the district is capped at 20,000.
    ha.hospital_episode(
        town2, "hh-hx-ha-002", "p-hx-ha-002", "ep-hx-002", 11, 3_000_000, date(YEAR, 11, 20)
    )
    # Medical assistance after insurance for a 临江 dibao member.
    offices["county-lj"].grant(
        lj.approver,
        "ma-county-lj-001",
        "MEDICAL_AID_INPATIENT",
        "hh-county-lj-db-001",
        "p-county-lj-db-001-m2",
        date(YEAR, 5, 14),
        450_000,
        episode="ep-lj-001",
        out_of_pocket_fen=600_000,
    )
    offices["county-lj"].oversee_month(
        lj.approver, lj.org_id, "MEDICAL_AID", ["ma-county-lj-001"], Period(YEAR, 5)
    )
    # Temporary assistance (W6): the reserve subsidy, then fast-track cases.
    ha.reserve_subsidy(town1, 5_000_000, Period(YEAR, 1), date(YEAR - 1, 12, 20))
    ha.temporary_month(
        town1,
        [("ta-hx-001", "hh-hx-ta-001", 150_000), ("ta-hx-002", "hh-hx-ta-002", 150_000)],
        Period(YEAR, 3),
    )
    offices["county-lj"].temporary_month(
        lj.townships[1], [("ta-lj-001", "hh-lj-ta-001", 80_000)], Period(YEAR, 10)
    )
    # Price subsidy: triggered for July to September, 30 元 a month for each dibao applicant.
    for county_id, office in dibao.items():
        county = units[county_id]
        for h in office.households:
            a = h.applicant
            for month in (7, 8, 9):
                offices[county_id].grant(
                    county.approver,
                    f"ps-{a.person_id}-{YEAR}{month:02d}",
                    "PRICE_SUBSIDY_MONTHLY",
                    a.household_id,
                    a.person_id,
                    date(YEAR, month, 12),
                    3_000,
                )
    # Preferential care (优抚): two entitled veterans in the zone, paid every month.
    for veteran in ("p-dz-vet-001", "p-dz-vet-002"):
        for month in range(1, 13):
            offices["county-dz"].grant(
                dz.approver,
                f"pc-{veteran}-{YEAR}{month:02d}",
                "PREFERENTIAL_CARE_MONTHLY",
                f"hh-{veteran}",
                veteran,
                date(YEAR, month, 5),
                120_000,
            )
    return offices


# ---------------------------------------------------------------------- supervision


def _supervision_year(
    desk: Desk, hx: County, lj: County, dz: County
) -> tuple[Inspectorate, dict[str, list[Cause]]]:
    """Inspections, the notice that fails then passes, criticisms from two levels and a
    commendation (see the module docstring); returns the office and, per county, the
    criticisms and commendations the assessment scheme prices."""
    hx_id = hx.org_id
    office = Inspectorate.establish(desk)
    lj_town, dz_town = lj.townships[0], dz.townships[0]
    office.inspect(
        "ins-2024-routine-q1",
        kind="ROUTINE",
        mode="ANNOUNCED",
        targets=[f"{hx_id}-town-1", lj_town.org_id],
        visit=date(YEAR, 4, 9),
        findings=[("f-lj-ledger", lj_town.org_id, "特困供养对象台账三个月未更新")],
    )
    office.inspect(
        "ins-2024-special-care",
        kind="SPECIAL",
        mode="ANNOUNCED",
        targets=[dz_town.org_id],
        visit=date(YEAR, 6, 11),
        findings=[("f-dz-visits", dz_town.org_id, "分散供养对象照料探访记录缺失")],
    )
    office.inspect(
        "ins-2024-unannounced-q3",
        kind="ROUTINE",
        mode="UNANNOUNCED",
        targets=[f"{hx_id}-town-2"],
        visit=date(YEAR, 9, 24),
    )
    office.issue_notice(
        "rect-2024-001", lj_town.org_id, ["f-lj-ledger"], date(YEAR, 4, 15), date(YEAR, 5, 20)
    )
    office.report_rectification(
        "rect-2024-001", lj_town.reviewer, "台账已补录至三月", date(YEAR, 5, 15)
    )
    office.verify("rect-2024-001", passed=False, day=date(YEAR, 5, 22))
    office.reissue("rect-2024-001-r1", "rect-2024-001", date(YEAR, 5, 27), date(YEAR, 6, 30))
    office.report_rectification(
        "rect-2024-001-r1", lj_town.reviewer, "台账补录完毕并建立月度更新制度", date(YEAR, 6, 20)
    )
    office.verify("rect-2024-001-r1", passed=True, day=date(YEAR, 6, 26))
    failed = desk.event_ids["verified:rect-2024-001:FAILED"]
    circulated = (  # target, event type, issuer level, document, day
        (lj, "CriticismIssued", "CITY_GOVERNMENT", "市政府通报[2024]12号", date(YEAR, 5, 30)),
        (
            dz,
            "CriticismIssued",
            "PROVINCIAL_LINE_DEPARTMENT",
            "省民政厅通报[2024]7号",
            date(YEAR, 7, 8),
        ),
        (dz, "CriticismIssued", "PROVINCIAL_GOVERNMENT", "省政府通报[2024]41号", date(YEAR, 12, 6)),
        (hx, "CommendationIssued", "CITY_GOVERNMENT", "市政府通报[2024]30号", date(YEAR, 11, 18)),
    )  # fmt: skip
    causes: dict[str, list[Cause]] = {}
    for county, event_type, level, document, day in circulated:
        provincial = level.startswith("PROVINCIAL")
        key = office.circulate(
            event_type,
            county.org_id,
            issuer_org="province" if provincial else desk.admin.org_id,
            issuer_level=level,
            document_ref=document,
            day=day,
            causes=[failed] if county is lj else [],
        )
        causes.setdefault(county.org_id, []).append(Cause(event_type, level, key))
    return office, causes


# ---------------------------------------------------------------------- assessment

SCHEME_ID = f"scheme-{YEAR}-city-to-county"


def _plans(units: dict[str, County], causes: dict[str, list[Cause]]) -> list[AssesseePlan]:
    """The three counties' assessment scripts: 和县 over-completes employment and social
    insurance (the peers' highest); 临江县 over-completes employment and housing but its
    matching money arrived short (FUNDING 3 of 3.5); the zone misses its 4.5-point medical
    sub-indicator at 93 % (the one-vote veto) and fails the provincial acceptance."""
    full = {"LEADERSHIP": "1", "MEASURES": "1", "TASK_DECOMPOSITION": "0.5", "FUNDING": "3.5"}
    medical = [
        Indicator("MEDICAL_SECURITY", "MEDICAL_SECURITY", "14"),
        Indicator("MEDICAL-2", "MEDICAL_SECURITY", "4.5"),
    ]

    def split(cs: list[Cause], event_type: str) -> list[Cause]:
        return [c for c in cs if c.event_type == event_type]

    plans = []
    for county_id, indicators, actuals, organisation, survey, accepted in (
        ("county-hx", standard_indicators(), {"EMPLOYMENT": "115", "SOCIAL_INSURANCE": "120"},
         full, "80", True),
        ("county-lj", standard_indicators(), {"EMPLOYMENT": "105", "SUBSIDISED_HOUSING": "110"},
         {**full, "FUNDING": "3"}, "85", True),
        ("county-dz", standard_indicators({"MEDICAL_SECURITY": medical}),
         {"SOCIAL_INSURANCE": "105", "MEDICAL-2": "93"}, full, "90", False),
    ):  # fmt: skip
        cs = causes.get(county_id, [])
        plans.append(
            AssesseePlan(
                units[county_id],
                indicators,
                actuals,
                organisation,
                survey,
                passed_provincial_acceptance=accepted,
                penalties=split(cs, "CriticismIssued"),
                bonuses=split(cs, "CommendationIssued"),
            )
        )
    return plans


def _assessment_year(
    desk: Desk, office: Inspectorate, units: dict[str, County], causes: dict[str, list[Cause]]
) -> Assessment:
    """W10-W15 over the three counties (see :mod:`ledger.tools.scenario_assessment`)."""
    government = units["county-hx"].government
    assessment = Assessment(desk, SCHEME_ID, YEAR, office.office, office.secretary, government)
    assessment.register_bodies()
    assessment.publish_scheme(date(YEAR, 1, 5))
    plans = _plans(units, causes)
    for plan in plans:
        assessment.sign_agreement(plan, date(YEAR, 1, 10))
    for plan in plans:
        # EX-BEDS-2: 185 of 300 beds on 30 June (≥ 3/5), all 300 on 30 November.
        assessment.report_beds(plan, "185", date(YEAR, 6, 30))
        assessment.self_assess(plan, "MID_YEAR", date(YEAR, 7, 8))
        assessment.report_beds(plan, "300", date(YEAR, 11, 30))
    for plan in plans:
        assessment.self_assess(plan, "YEAR_END", date(YEAR + 1, 1, 8))
    assessment.record_results(date(YEAR + 1, 1, 12))
    assessment.score_components(date(YEAR + 1, 1, 14), date(YEAR, 10, 20))
    assessment.apply_points(date(YEAR + 1, 1, 16))
    assessment.aggregate_categories(date(YEAR + 1, 1, 18))
    assessment.consolidate(date(YEAR + 1, 1, 28))
    assessment.award(date(YEAR + 1, 1, 29), date(YEAR + 1, 2, 2), date(YEAR + 1, 2, 5))
    return assessment


# ---------------------------------------------------------------------- the year


def _recover_overpayment(desk: Desk, county: County, leaver: Applicant, cause_event_id: str) -> int:
    """W8.9: the leaver's income had exceeded the line since May; May to August are
    recovered into the county's account, citing the termination decision."""
    overpaid = sum(
        period_amount_fen(leaver.annual_fen, "MONTHLY", Period(YEAR, m)) for m in range(5, 9)
    )
    FundOffice(desk, county).recover(
        county.fund_account,
        overpaid,
        cause_event_id,
        f"{leaver.person_id} 隐瞒收入, 追回2024年5-8月多发供养金",
        date(YEAR, 9, 20),
    )
    return overpaid


def _carry_over(desk: Desk, county: County, closing_fen: int) -> str:
    """W8.8: the 2025 account of the same earmark is opened and the whole closing balance
    of 2024 moves there (FUND-4)."""
    funds = FundOffice(desk, county)
    current = county.fund_account
    next_year = funds.open_account(YEAR + 1, date(YEAR, 12, 20), ())
    funds.carry_over(current, next_year, closing_fen, date(YEAR, 12, 31))
    return next_year


def _hx_year(desk: Desk, identity: IdentityHmac, seed: int) -> tuple[CountyYear, County]:
    """和县's 特困 year: the one-county demo, unchanged."""
    hx = write_demo(desk, identity, seed=seed)
    year = CountyYear(
        hx.county_id,
        hx.applicants,
        hx.enrolled,
        hx.rejected,
        hx.terminated,
        hx.batches,
        hx.payment_lines,
        hx.paid_fen,
        hx.fund_account_id,
    )
    return year, county_by_convention(desk, hx.county_id, 3, hx.fund_account_id)


def write_city_year(desk: Desk, identity: IdentityHmac, *, seed: int = 2024) -> CitySummary:
    """Write the whole city year through ``desk`` (see module docstring)."""
    trail = EventTrail(desk.submit)
    desk.submit = trail
    try:
        return _write(desk, identity, seed, trail)
    finally:
        desk.submit = trail.inner


def _write(desk: Desk, identity: IdentityHmac, seed: int, trail: EventTrail) -> CitySummary:
    rng = random.Random(seed)  # noqa: S311 - fake demo identities, not secrets
    hx_year, hx = _hx_year(desk, identity, seed)
    # STD-1..3: 2024's 特困 standards on 20 May, in force from July; last year's per-capita
    # consumption 18,000 元 and the rural dibao standard 650 元 a month.
    standards = publish_tekun_standards(desk, hx.government, date(YEAR, 5, 20), 1_800_000, 65_000)
    counties, units = [hx_year], {hx.org_id: hx}
    leavers: dict[str, tuple[Applicant, str]] = {}
    for k, (county_id, name, townships) in enumerate(OTHER_COUNTIES, 1):
        county = add_county(desk, county_id, name, townships)
        year, leaver = _county_tekun_year(desk, county, rng, identity, first_n=100 * k)
        leavers[county_id] = (leaver, trail.last_id["TerminationDecided"])
        counties.append(year)
        units[county_id] = county
    for county_id, amount in MATCHING_COMMITTED_FEN.items():
        FundOffice(desk, units[county_id]).commit_matching(YEAR, amount, date(YEAR, 1, 2))
    lj, dz = units["county-lj"], units["county-dz"]
    dibao = _dibao_year(desk, units, rng, identity)
    assistance = _assistance_year(desk, units, dibao)
    recovered = _recover_overpayment(desk, lj, *leavers["county-lj"])
    # Everything 和县 received and did not pay stays on the account (every line settled).
    closing = HX_RECEIVED_FEN - hx_year.paid_fen
    carry_account = _carry_over(desk, hx, closing)
    office, causes = _supervision_year(desk, hx, lj, dz)
    assessment = _assessment_year(desk, office, units, causes)
    households = [h for o in dibao.values() for h in o.households]
    return CitySummary(
        counties=counties,
        townships=sum(len(c.townships) for c in units.values()),
        carried_over_fen=closing,
        carry_over_account_id=carry_account,
        recovered_fen=recovered,
        inspections=trail.types["InspectionPlanned"],
        findings=trail.types["FindingRecorded"],
        notices=["rect-2024-001", "rect-2024-001-r1"],
        criticisms=trail.types["CriticismIssued"],
        commendations=trail.types["CommendationIssued"],
        dibao_households=Counter(h.programme for h in households),
        dibao_in_gradual_exit=sum(h.exit_started for h in households),
        dibao_paid_fen={k: o.amount_paid_fen for k, o in dibao.items()},
        dibao_fund_accounts={k: o.fund_account for k, o in dibao.items()},
        assistance_fen=_totals(assistance.values()),
        assistance_grants=sum(o.grants for o in assistance.values()),
        tekun_standards_fen=standards,
        event_types=trail.types,
        **_assessment_summary(assessment),
    )


def _assessment_summary(assessment: Assessment) -> dict[str, Any]:
    """The ranking, award and grade fields of :class:`CitySummary`."""
    result = assessment.result
    assert result is not None
    return {
        "ranking": [
            (a, points_text(result.annual[a].total), result.annual[a].vetoed)
            for a in result.ranking.order
        ],
        "comprehensive_awards": list(result.ranking.comprehensive),
        "single_item_awards": {c: list(w) for c, w in result.ranking.single_item.items() if w},
        "last_place": list(result.ranking.last_place),
        "grades": dict(assessment.grades),
    }


def _totals(offices: Iterable[AssistanceOffice]) -> dict[str, int]:
    """Granted fen per programme over all counties, in programme order."""
    out: Counter[str] = Counter()
    for office in offices:
        out.update(office.granted_fen)
    return dict(sorted(out.items()))
