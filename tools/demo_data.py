"""Realistic demo data: one county, a year of 特困 / 五保 support (``ledger demo``).

Three townships of two villages each, 36 applicants in three monthly rounds (November 2023
to January 2024) through every
path the first programme has — approved dispersed and centralised, materials incomplete then
accepted, rejected, objection upheld, terminated on death (notice waived) and on lost
eligibility (with a notice, then referred to rural dibao) — and monthly payments from an
earmarked fund from January to December 2024, with one failed and reissued payment.

Deterministic: the same seed writes the same cases (event ids and signatures differ, as they
must).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.domain.periods import Period
from ledger.tools.scenario import (
    Applicant,
    Caseworker,
    County,
    Desk,
    Treasurer,
    build_county,
    define_programmes,
    publish_coverage_targets,
)

IdentityHmac = Callable[[str, str, str], str]
"""``(person_id, name, id_number) -> identity_hmac``: registers a person's identity in the
identity registry (outside the log) and returns the keyed hash the events carry."""

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰玉珍凤英德明国华建国淑珍春花志强"


@dataclass(frozen=True)
class DemoSummary:
    """What the demo wrote (for the printed summary and the tests)."""

    applicants: int
    enrolled: int
    rejected: int
    terminated: int
    referred: int
    batches: int
    payment_lines: int
    paid_fen: int
    fund_account_id: str
    county_id: str


ROUNDS = (date(2023, 11, 6), date(2023, 12, 4), date(2024, 1, 8))
PATHS = (
    "APPROVE",
    "APPROVE",
    "APPROVE",
    "CENTRALISED",
    "INCOMPLETE",
    "APPROVE",
    "REJECT",
    "APPROVE",
    "OBJECTION_UPHELD",
    "CENTRALISED",
    "APPROVE",
    "APPROVE",
)


def _fake_identity(rng: random.Random, n: int) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
    # A syntactically valid, obviously fake 18-character id (region 340000 = demo), with
    # the GB 11643 check character the identity registry insists on.
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    body = f"340000{born:%Y%m%d}{n % 1000:03d}"
    return name, body + _gb11643_check(body)


def _gb11643_check(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def _applicants(
    county: County, rng: random.Random, identity: IdentityHmac
) -> list[list[Applicant]]:
    rounds: list[list[Applicant]] = []
    n = 0
    for r in range(len(ROUNDS)):
        batch: list[Applicant] = []
        for t, town in enumerate(county.townships):
            for k in range(4):
                n += 1
                path = PATHS[(r * 12 + t * 4 + k) % len(PATHS)]
                person = f"p-{n:04d}"
                name, id_number = _fake_identity(rng, n)
                batch.append(
                    Applicant(
                        application_id=f"app-2024-{n:04d}",
                        person_id=person,
                        household_id=f"hh-{n:04d}",
                        identity_hmac=identity(person, name, id_number),
                        township=town,
                        village=town.villages[k % 2],
                        category="DISABLED" if n % 5 == 0 else "ELDERLY",
                        mode="CENTRALISED" if path == "CENTRALISED" else "DISPERSED",
                        path="APPROVE" if path == "CENTRALISED" else path,
                        obligors=(f"p-{n:04d}-son",) if n % 3 == 0 else (),
                    )
                )
        rounds.append(batch)
    return rounds


def _run_round(
    work: Caseworker, applicants: list[Applicant], start: date, seed: int
) -> tuple[int, int]:
    """One monthly round: every case of every township up to the county decision."""
    forwarded: dict[str, list[Applicant]] = {}
    for a in applicants:
        work.submit(a, start)
        eligible = a.path != "REJECT"
        work.investigate(a, start + timedelta(days=4), eligible=eligible)
        notice = work.opinion(a, start + timedelta(days=6), approve=eligible)
        if a.path == "OBJECTION_UPHELD":
            work.object_and_uphold(a, notice, start + timedelta(days=9))
            work.close_notice(a.township.reviewer, notice, start + timedelta(days=14))
            work.investigate(a, start + timedelta(days=15), eligible=False)
            notice = work.opinion(a, start + timedelta(days=16), approve=False)
            work.forward(a, notice, start + timedelta(days=24))
        else:
            work.forward(a, notice, start + timedelta(days=14))
        forwarded.setdefault(a.township.org_id, []).append(a)
    enrolled = rejected = 0
    decision_day = start + timedelta(days=27)
    for town in work.county.townships:
        cases = forwarded.get(town.org_id, [])
        if not cases:
            continue
        batch_id = f"spot-{town.org_id}-{start:%Y%m}"
        work.spot_check(
            batch_id,
            town,
            [a.application_id for a in cases],
            seed,
            decision_day - timedelta(days=2),
        )
        for a in cases:
            if a.path in ("REJECT", "OBJECTION_UPHELD"):
                work.reject(a, batch_id, decision_day)
                rejected += 1
            else:
                work.approve_and_enrol(a, batch_id, decision_day)
                enrolled += 1
    return enrolled, rejected


def write_demo(desk: Desk, identity: IdentityHmac, *, seed: int = 2024) -> DemoSummary:
    """Write the whole demo year through ``desk`` (see module docstring)."""
    rng = random.Random(seed)  # noqa: S311 - fake demo identities, not secrets
    county = build_county(desk)
    define_programmes(desk, county, date(2023, 5, 25))
    publish_coverage_targets(desk, county, 2024, date(2023, 12, 20))
    treasurer = Treasurer(desk, county)
    fund = treasurer.open_fund(
        2024,
        date(2024, 1, 2),
        (
            ("PROVINCIAL_SUBSIDY", 4_000_000, False),
            ("COUNTY_BUDGET", 1_500_000, True),
            ("WELFARE_LOTTERY", 500_000, False),
        ),
    )
    work = Caseworker(desk, county)
    rounds = _applicants(county, rng, identity)
    enrolled = rejected = 0
    for r, (start, applicants) in enumerate(zip(ROUNDS, rounds, strict=True)):
        e, j = _run_round(work, applicants, start, seed + r)
        enrolled += e
        rejected += j
    beneficiaries = [a for group in rounds for a in group if a.enrolment_id]
    # W5: one death (notice waived), one lost eligibility with notice, then a referral.
    deceased, ineligible = beneficiaries[1], beneficiaries[4]
    batches = 0
    for month in range(1, 13):
        period = Period(2024, month)
        if month == 6:
            work.terminate(deceased, "DECEASED", date(2024, 6, 12), death=date(2024, 6, 3))
        if month == 8:
            work.terminate(ineligible, "NO_LONGER_ELIGIBLE", date(2024, 8, 5))
            work.refer(ineligible, f"app-2024-dibao-{ineligible.person_id}", date(2024, 8, 20))
        fail = beneficiaries[0].person_id if month == 6 else None
        if treasurer.pay_month(period, beneficiaries, fail_person=fail):
            batches += 1
    return DemoSummary(
        applicants=sum(len(g) for g in rounds),
        enrolled=enrolled,
        rejected=rejected,
        terminated=2,
        referred=1,
        batches=batches,
        payment_lines=treasurer.lines_paid,
        paid_fen=treasurer.amount_paid_fen,
        fund_account_id=fund,
        county_id=county.org_id,
    )
