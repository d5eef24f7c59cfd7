"""Builders for case-lifecycle unit tests: a small registry, an event factory that decides and
folds events the way the ledger does, and a :class:`Case` that walks one application
through W1 with sensible defaults (dates follow ``domain.md`` §5.13).

Every payload is checked against the real catalogue first, so a test cannot pass on a
payload the service layer would reject as malformed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from ledger.domain import applications, enrolments, notices, programmes, spot_checks
from ledger.domain.catalogue import DEFAULT_CATALOGUE, validate_payload
from ledger.domain.model import DomainEvent, DomainState, Rules
from ledger.domain.rules import build_rules
from ledger.errors import RuleViolation

CHINA = timezone(timedelta(hours=8))

SHA_A = "a" * 64
SHA_B = "b" * 64


@dataclass(frozen=True)
class Org:
    kind: str
    parent: str | None


@dataclass(frozen=True)
class Actor:
    org: str
    role: str
    person: str


ORGS = {
    "city-1": Org("GOVERNMENT", None),
    "county-1": Org("GOVERNMENT", "city-1"),
    "township-1": Org("GOVERNMENT", "county-1"),
    "village-1": Org("VILLAGE_COMMITTEE", "township-1"),
    "village-1b": Org("VILLAGE_COMMITTEE", "township-1"),
    "township-2": Org("GOVERNMENT", "county-1"),
    "village-2": Org("VILLAGE_COMMITTEE", "township-2"),
    "inst-1": Org("CARE_INSTITUTION", "county-1"),
    "bank-1": Org("BANK", "city-1"),
}

ACTORS = {
    "clerk-1": Actor("township-1", "township_intake_clerk", "p-clerk-1"),
    "clerk-2": Actor("township-2", "township_intake_clerk", "p-clerk-2"),
    "inv-1": Actor("township-1", "township_investigator", "p-inv-1"),
    "inv-2": Actor("township-1", "township_investigator", "p-inv-2"),
    "inv-3": Actor("township-1", "township_investigator", "p-inv-3"),
    # The reviewer's person also holds an investigator account (SOD-1 compares persons).
    "inv-rev": Actor("township-1", "township_investigator", "p-rev-1"),
    "reviewer-1": Actor("township-1", "township_reviewer", "p-rev-1"),
    "reviewer-2": Actor("township-1", "township_reviewer", "p-rev-2"),
    "approver-1": Actor("county-1", "county_approver", "p-appr-1"),
    # An inv-1 person who also holds a county approver account.
    "approver-inv": Actor("county-1", "county_approver", "p-inv-1"),
    "approver-rev": Actor("county-1", "county_approver", "p-rev-1"),
    "checker-1": Actor("county-1", "county_spot_checker", "p-chk-1"),
    "checker-inv": Actor("county-1", "county_spot_checker", "p-inv-2"),
    "checker-township": Actor("township-1", "county_spot_checker", "p-chk-2"),
    "vcm-1": Actor("village-1", "village_committee_member", "p-vcm-1"),
    "vcm-1b": Actor("village-1b", "village_committee_member", "p-vcm-1b"),
    "gov-1": Actor("city-1", "government_approver", "p-gov-1"),
    "admin-1": Actor("city-1", "registry_admin", "p-admin-1"),
    "finance-1": Actor("county-1", "finance_officer", "p-fin-1"),
    "inst-manager-1": Actor("inst-1", "care_institution_manager", "p-mgr-1"),
    "ledger-1": Actor("city-1", "ledger", "ledger-policy-engine"),
    "preparer-1": Actor("county-1", "payment_preparer", "p-prep-1"),
    "pay-approver-1": Actor("county-1", "payment_approver", "p-payappr-1"),
    "bank-agent-1": Actor("bank-1", "disbursement_agent", "p-bank-1"),
}


class FakeDirectory:
    """The :class:`~ledger.domain.model.Directory` over the fixed ORGS and ACTORS."""

    def __init__(
        self, orgs: Mapping[str, Org] | None = None, actors: Mapping[str, Actor] | None = None
    ) -> None:
        self.orgs = dict(ORGS if orgs is None else orgs)
        self.actors = dict(ACTORS if actors is None else actors)

    def org_exists(self, org_id: str) -> bool:
        return org_id in self.orgs

    def org_kind(self, org_id: str) -> str | None:
        org = self.orgs.get(org_id)
        return None if org is None else org.kind

    def org_parent(self, org_id: str) -> str | None:
        org = self.orgs.get(org_id)
        return None if org is None else org.parent

    def is_within(self, org_id: str, ancestor_id: str) -> bool:
        current: str | None = org_id
        while current is not None:
            if current == ancestor_id:
                return True
            current = self.org_parent(current)
        return False

    def actor_org(self, actor_id: str) -> str | None:
        actor = self.actors.get(actor_id)
        return None if actor is None else actor.org

    def actor_person(self, actor_id: str) -> str:
        actor = self.actors.get(actor_id)
        return actor_id if actor is None else actor.person


@contextmanager
def refused(code: str) -> Iterator[None]:
    """Expect a :class:`RuleViolation` with invariant ``code``."""
    with pytest.raises(RuleViolation) as caught:
        yield
    assert caught.value.code == code, str(caught.value)


def only_case_rules() -> Rules:
    """The case-lifecycle modules alone (isolated from the money modules)."""
    rules = Rules()
    for module in (programmes, applications, notices, spot_checks, enrolments):
        module.register(rules)
    return rules


def business_time(day: date | str) -> datetime:
    """10:00 China time on ``day``: the business date is ``day``."""
    as_date = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(as_date, time(10, 0), tzinfo=CHINA)


@dataclass
class World:
    """A ledger in miniature: the rules, the state and the directory; :meth:`emit` decides
    and folds one event, undoing everything if it is refused."""

    rules: Rules = field(default_factory=build_rules)
    state: DomainState = field(default_factory=DomainState)
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    counter: int = 0

    def event(
        self, event_type: str, stream_id: str, payload: Mapping[str, Any], *, actor: str, on: Any
    ) -> DomainEvent:
        """A schema-valid DomainEvent, numbered as the next on its stream and in the log."""
        spec = DEFAULT_CATALOGUE.spec(event_type, 1)
        validate_payload(spec, payload)
        self.counter += 1
        who = self.directory.actors[actor]
        return DomainEvent(
            event_id=str(uuid.UUID(int=self.counter)),
            event_type=event_type,
            stream_type=spec.stream_type,
            stream_id=stream_id,
            version=self.versions.get((spec.stream_type, stream_id), 0) + 1,
            position=self.state.position,
            occurred_at=business_time(on),
            actor_id=actor,
            role=who.role,
            org_id=who.org,
            payload=dict(payload),
        )

    def emit(
        self,
        event_type: str,
        stream_id: str,
        payload: Mapping[str, Any],
        *,
        actor: str,
        on: Any = "2024-03-01",
    ) -> DomainEvent:
        """Decide and apply one event; raise the refusal (state unchanged) if refused."""
        event = self.event(event_type, stream_id, payload, actor=actor, on=on)
        self.state.begin()
        try:
            self.rules.decide(self.state, self.directory, event)
            self.rules.apply(self.state, event)
        except BaseException:
            self.state.rollback()
            raise
        self.state.commit(event.position + 1)
        key = (event.stream_type, stream_id)
        self.versions[key] = event.version
        return event


# --- configuration -------------------------------------------------------------------------------

MANDATORY = [
    "WRITTEN_APPLICATION",
    "ID_PROOF",
    "HOUSEHOLD_REGISTER",
    "CIRCUMSTANCES_STATEMENT",
    "TRUTHFULNESS_PLEDGE",
]


def programme_payload(code: str = "TEKUN", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "programme_code": code,
        "name_zh": "特困人员救助供养",
        "name_en": "Extreme-poverty support",
        "lead_org_id": "county-1",
        "support_modes": ["DISPERSED", "CENTRALISED"],
        "payment_frequency": "MONTHLY",
        "exclusive_with": ["DIBAO_RURAL"] if code == "TEKUN" else [],
        "notice_days": 7,
        "termination_notice_days": 7,
        "investigation_working_days": 10,
        "county_working_days": 10,
        "spot_check_ratio": "0.30",
        "confirmation_level": "COUNTY",
        "democratic_appraisal": "OPTIONAL",
        "mandatory_materials": list(MANDATORY),
        "notice_waived_reasons": ["DECEASED", "VOLUNTARY"],
        "min_investigators": 2,
    }
    payload.update(overrides)
    return payload


def define_programme(world: World, code: str = "TEKUN", **overrides: Any) -> DomainEvent:
    return world.emit(
        "ProgrammeDefined", code, programme_payload(code, **overrides), actor="admin-1"
    )


def standard_payload(
    standard_id: str,
    *,
    programme_code: str = "TEKUN",
    mode: str = "DISPERSED",
    amount_fen: int = 130_000,
    admin_unit_id: str = "county-1",
    effective_from: str = "2023-07",
    basis: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "standard_id": standard_id,
        "programme_code": programme_code,
        "admin_unit_id": admin_unit_id,
        "support_mode": mode,
        "component": "BASIC_LIVING",
        "amount_fen": amount_fen,
        "period": "YEAR",
        "effective_from": effective_from,
        "published_on": "2023-05-20",
        "basis": None if basis is None else dict(basis),
    }


def publish_standard(world: World, standard_id: str, **kwargs: Any) -> DomainEvent:
    return world.emit(
        "BenefitStandardPublished",
        standard_id,
        standard_payload(standard_id, **kwargs),
        actor="gov-1",
        on="2023-05-20",
    )


@dataclass
class Seeded:
    """Event ids of the seeded standards (§3.1.1: 1,300 and 2,640 元 a year)."""

    dispersed: str
    centralised: str


def seeded_world(rules: Rules | None = None) -> tuple[World, Seeded]:
    """A world with TEKUN and DIBAO_RURAL defined and the TEKUN standards published."""
    world = World(rules=rules or build_rules())
    define_programme(world, "TEKUN")
    define_programme(world, "DIBAO_RURAL", exclusive_with=["TEKUN"])
    dispersed = publish_standard(world, "std-tekun-dispersed")
    centralised = publish_standard(
        world, "std-tekun-centralised", mode="CENTRALISED", amount_fen=264_000
    )
    return world, Seeded(dispersed.event_id, centralised.event_id)


# --- one application through W1 ------------------------------------------------------------------


def submission_payload(application_id: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "application_id": application_id,
        "programme_code": "TEKUN",
        "applicant_person_id": f"person-{application_id}",
        "applicant_identity_hmac": SHA_A,
        "household_id": f"hh-{application_id}",
        "members": [],
        "channel": "IN_PERSON",
        "agent_person_id": None,
        "township_org_id": "township-1",
        "residence_org_id": "village-1",
        "category": "ELDERLY",
        "health_flags": [],
        "materials": [{"type": t, "sha256": SHA_A} for t in MANDATORY],
        "obligor_person_ids": [],
        "referral_from_enrolment_id": None,
    }
    payload.update(overrides)
    return payload


ELIGIBLE_FINDINGS = {
    "registered_in_province": True,
    "no_labour_capacity": True,
    "no_income_source": True,
    "no_capable_obligor": True,
    "per_capita_income_fen": 0,
    "dependency_level": "PARTIAL",
}


class Case:
    """One application walked through W1; each step has the §5.13 dates by default."""

    def __init__(
        self,
        world: World,
        seeded: Seeded,
        application_id: str = "app-1",
        *,
        person: str | None = None,
        programme_code: str = "TEKUN",
    ) -> None:
        self.world = world
        self.seeded = seeded
        self.id = application_id
        self.person = person or f"person-{application_id}"
        self.programme_code = programme_code
        self.notice_id: str | None = None
        self.notice_count = 0
        self.batch_id = f"batch-{application_id}"
        self.decision: DomainEvent | None = None

    def app(self) -> applications.Application:
        found = applications.application(self.world.state, self.id)
        assert found is not None
        return found

    def emit(self, event_type: str, payload: Mapping[str, Any], *, actor: str, on: Any) -> Any:
        return self.world.emit(event_type, self.id, payload, actor=actor, on=on)

    # W1.1 to W1.5
    def submit(self, **overrides: Any) -> Case:
        overrides.setdefault("applicant_person_id", self.person)
        overrides.setdefault("programme_code", self.programme_code)
        self.emit(
            "ApplicationSubmitted",
            submission_payload(self.id, **overrides),
            actor="clerk-1",
            on="2024-03-01",
        )
        return self

    def accept(self) -> Case:
        self.emit(
            "ApplicationAccepted", {"checklist_version": "v1"}, actor="clerk-1", on="2024-03-04"
        )
        return self

    def authorise(self, *persons: str) -> Case:
        for person in persons or (self.person, *self.app().obligor_person_ids):
            role = "APPLICANT" if person == self.person else "OBLIGOR"
            self.emit(
                "FinancialCheckAuthorisationSigned",
                {"signer_person_id": person, "signer_role": role, "document_sha256": SHA_A},
                actor="clerk-1",
                on="2024-03-04",
            )
        return self

    def investigate(
        self,
        investigators: Iterable[str] = ("inv-1", "inv-2"),
        *,
        actor: str | None = None,
        findings: Mapping[str, Any] | None = None,
        on: str = "2024-03-12",
    ) -> Case:
        team = list(investigators)
        self.emit(
            "HouseholdInvestigationCompleted",
            {
                "investigator_actor_ids": team,
                "methods": ["HOME_VISIT", "DATA_MATCH"],
                "findings": dict(findings or ELIGIBLE_FINDINGS),
                "evidence": [SHA_B],
            },
            actor=actor or team[0],
            on=on,
        )
        return self

    def opinion(self, actor: str = "reviewer-1", on: str = "2024-03-18") -> Case:
        self.emit(
            "PreliminaryOpinionIssued",
            {
                "opinion": "RECOMMEND_APPROVE",
                "proposed_support_mode": "DISPERSED",
                "proposed_institution_id": None,
                "reasons": [],
            },
            actor=actor,
            on=on,
        )
        return self

    # W1.8 to W1.10
    def post_notice(
        self,
        *,
        kind: str = "PRELIMINARY_OPINION",
        start: str = "2024-03-19",
        end: str = "2024-03-25",
        location: str = "village-1",
        actor: str = "reviewer-1",
    ) -> Case:
        self.notice_count += 1
        notice_id = f"notice-{self.id}-{self.notice_count}"
        self.world.emit(
            "PublicNoticePosted",
            notice_id,
            {
                "notice_id": notice_id,
                "kind": kind,
                "subject_ids": [self.id],
                "location_org_id": location,
                "start_date": start,
                "end_date": end,
                "content_sha256": SHA_A,
            },
            actor=actor,
            on=start,
        )
        self.notice_id = notice_id
        return self

    def object(self, objection_id: str = "obj-1", received_on: str = "2024-03-20") -> Case:
        assert self.notice_id is not None
        self.world.emit(
            "ObjectionReceived",
            self.notice_id,
            {
                "objection_id": objection_id,
                "subject_id": self.id,
                "received_on": received_on,
                "channel": "WRITTEN",
                "content_sha256": SHA_A,
            },
            actor="clerk-1",
            on=received_on,
        )
        return self

    def resolve(
        self, objection_id: str = "obj-1", finding: str = "DISMISSED", on: str = "2024-03-22"
    ) -> Case:
        assert self.notice_id is not None
        self.world.emit(
            "ObjectionInvestigated",
            self.notice_id,
            {"objection_id": objection_id, "finding": finding, "summary_sha256": SHA_B},
            actor="inv-3",
            on=on,
        )
        return self

    def close_notice(self, on: str = "2024-03-26") -> Case:
        assert self.notice_id is not None
        self.world.emit(
            "PublicNoticeClosed", self.notice_id, {"closed_on": on}, actor="reviewer-1", on=on
        )
        return self

    def forward(
        self, on: str = "2024-03-26", actor: str = "reviewer-1", notice_id: str | None = None
    ) -> Case:
        self.emit(
            "ApplicationForwarded",
            {
                "to_org_id": "county-1",
                "package_sha256": SHA_B,
                "notice_id": notice_id or self.notice_id,
            },
            actor=actor,
            on=on,
        )
        return self

    # W1.11
    def sample(self, *, seed: int = 7, on: str = "2024-03-27") -> Case:
        """Draw this case alone (ceil(0.3 x 1) = 1, so it is sampled)."""
        draw_batch(self.world, self.batch_id, [self.id], seed=seed, k=1, on=on)
        return self

    def spot_check(
        self, result: str = "CONSISTENT", actor: str = "checker-1", on: str = "2024-03-27"
    ) -> Case:
        self.world.emit(
            "CountySpotCheckCompleted",
            self.batch_id,
            {"application_id": self.id, "result": result, "notes_sha256": SHA_A},
            actor=actor,
            on=on,
        )
        return self

    def approval_payload(self, **overrides: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "support_mode": "DISPERSED",
            "institution_id": None,
            "standard_ref": self.seeded.dispersed,
            "annual_amount_fen": 130_000,
            "first_payable_period": "2024-04",
            "dossier_id": f"dossier-{self.id}",
            "household_treatment": "SINGLE_PERSON",
            "spot_check_batch_id": self.batch_id,
        }
        if overrides.get("support_mode") == "CENTRALISED":
            payload.update(
                institution_id="inst-1",
                standard_ref=self.seeded.centralised,
                annual_amount_fen=264_000,
            )
        payload.update(overrides)
        return payload

    def approve(self, on: str = "2024-03-28", actor: str = "approver-1", **overrides: Any) -> Case:
        self.decision = self.emit(
            "ApplicationApproved", self.approval_payload(**overrides), actor=actor, on=on
        )
        return self

    def reject(self, on: str = "2024-03-28", actor: str = "approver-1") -> Case:
        self.decision = self.emit(
            "ApplicationRejected",
            {"reasons": ["has an able obligor"], "spot_check_batch_id": self.batch_id},
            actor=actor,
            on=on,
        )
        return self

    # W1.13, W1.14
    def register_account(self, *, centralised: bool = False) -> str:
        account_id = f"acct-{self.id}"
        self.world.emit(
            "PaymentAccountRegistered",
            account_id,
            {
                "account_id": account_id,
                "channel": "INSTITUTION_ACCOUNT" if centralised else "ONE_CARD",
                "holder_person_id": None if centralised else self.person,
                "holder_org_id": "inst-1" if centralised else None,
                "bank_org_id": "bank-1",
                "account_ref_hmac": SHA_B,
            },
            actor="clerk-1" if not centralised else "finance-1",
            on="2024-03-29",
        )
        return account_id

    def enrolment_payload(self, account_id: str, **overrides: Any) -> dict[str, Any]:
        assert self.decision is not None
        approved = self.decision.payload
        payload: dict[str, Any] = {
            "enrolment_id": f"enr-{self.id}",
            "application_id": self.id,
            "person_id": self.person,
            "household_id": f"hh-{self.id}",
            "programme_code": self.programme_code,
            "support_mode": approved["support_mode"],
            "institution_id": approved["institution_id"],
            "annual_amount_fen": approved["annual_amount_fen"],
            "standard_ref": approved["standard_ref"],
            "first_payable_period": approved["first_payable_period"],
            "payment_account_id": account_id,
            "dossier_id": approved["dossier_id"],
        }
        payload.update(overrides)
        return payload

    def enrol(self, account_id: str, **overrides: Any) -> str:
        payload = self.enrolment_payload(account_id, **overrides)
        self.world.emit(
            "BeneficiaryEnrolled",
            payload["enrolment_id"],
            payload,
            actor="approver-1",
            on="2024-03-29",
        )
        return str(payload["enrolment_id"])

    # Walks to a named state.
    def to_forwarded(self, **submit_overrides: Any) -> Case:
        return (
            self.submit(**submit_overrides)
            .accept()
            .authorise()
            .investigate()
            .opinion()
            .post_notice()
            .close_notice()
            .forward()
        )

    def to_approved(self, **approval: Any) -> Case:
        return self.to_forwarded().sample().spot_check().approve(**approval)

    def to_enrolled(self, *, centralised: bool = False) -> str:
        mode = "CENTRALISED" if centralised else "DISPERSED"
        self.to_approved(support_mode=mode)
        return self.enrol(self.register_account(centralised=centralised))


def draw_batch(
    world: World,
    batch_id: str,
    population: list[str],
    *,
    seed: int,
    k: int,
    ratio: str = "0.30",
    actor: str = "checker-1",
    on: str = "2024-03-27",
    sampled: list[str] | None = None,
) -> DomainEvent:
    """Draw a batch the way a client would: the sample from :func:`draw_sample`."""
    return world.emit(
        "CountySpotCheckSampleDrawn",
        batch_id,
        {
            "batch_id": batch_id,
            "township_org_id": "township-1",
            "population_ids": population,
            "sampled_ids": (
                sampled if sampled is not None else spot_checks.draw_sample(population, seed, k)
            ),
            "rng_algorithm": spot_checks.ALGORITHM,
            "rng_seed": seed,
            "ratio": ratio,
        },
        actor=actor,
        on=on,
    )


# --- dibao (DIBAO_RURAL by configuration) ------------------------------------------------

DIBAO = "DIBAO_RURAL"
DIBAO_ANNUAL_FEN = 780_000
"""650 元 a month (the §5.8 example), published as 7,800 元 a year."""
DIBAO_RULE_SET = "rs-dibao-rural"


def rule_set_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "rule_set_id": DIBAO_RULE_SET,
        "version": 1,
        "programme_code": DIBAO,
        "test": "INCOME_BELOW_STANDARD",
        "disregard_kinds": ["DISABILITY", "ILLNESS", "EDUCATION", "EMPLOYMENT_COST"],
        "classified_increments": [
            {"category": "SEVERELY_DISABLED", "monthly_fen": 10_000},
            {"category": "ELDERLY", "monthly_fen": 5_000},
        ],
        "gradual_exit_months": 12,
        "voluntary_exit_max_months": 3,
        "effective_from": "2023-01",
    }
    payload.update(overrides)
    return payload


@dataclass
class DibaoSeeded(Seeded):
    """Seeded standards plus the dibao standard's event id."""

    dibao: str = ""


def dibao_world() -> tuple[World, DibaoSeeded]:
    """The seeded world plus the dibao rule set and a 7,800 元 a year dibao standard for
    county-1 from 2023-01 (dispersed only)."""
    world, seeded = seeded_world()
    world.emit(
        "EligibilityRuleSetPublished",
        DIBAO_RULE_SET,
        rule_set_payload(),
        actor="gov-1",
        on="2022-12-01",
    )
    dibao = publish_standard(
        world,
        "std-dibao-2023",
        programme_code=DIBAO,
        amount_fen=DIBAO_ANNUAL_FEN,
        effective_from="2023-01",
    )
    return world, DibaoSeeded(seeded.dispersed, seeded.centralised, dibao.event_id)


DIBAO_FINDINGS = {
    "registered_in_province": True,
    "no_labour_capacity": False,
    "no_income_source": False,
    "no_capable_obligor": False,
    "per_capita_income_fen": 30_000,
    "dependency_level": "NONE",
}

HOUSEHOLD = [
    {"person_id": "m-spouse", "relation": "SPOUSE"},
    {"person_id": "m-child", "relation": "CHILD"},
]


def income_payload(person: str, **overrides: Any) -> dict[str, Any]:
    """A household of three with 1,200 元 a month, 300 元 of illness costs disregarded, and a
    severely disabled child: (3 x 650 - 900) + 100 = 1,150 元 a month."""
    payload: dict[str, Any] = {
        "rule_set_id": DIBAO_RULE_SET,
        "household_treatment": "NORMAL",
        "covered_person_ids": [person, "m-spouse", "m-child"],
        "monthly_income_fen": 120_000,
        "disregards": [{"kind": "ILLNESS", "amount_fen": 30_000}],
        "member_categories": [{"person_id": "m-child", "category": "SEVERELY_DISABLED"}],
    }
    payload.update(overrides)
    return payload


class DibaoCase(Case):
    """A dibao application: W1 with the income assessment, approved at the computed amount."""

    def __init__(self, world: World, seeded: DibaoSeeded, application_id: str = "db-1") -> None:
        super().__init__(world, seeded, application_id, programme_code=DIBAO)
        self.dibao_standard = seeded.dibao
        self.annual_fen = 1_380_000

    def submit(self, **overrides: Any) -> DibaoCase:
        overrides.setdefault("members", HOUSEHOLD)
        super().submit(**overrides)
        return self

    def investigate(  # type: ignore[override]
        self, investigators: Iterable[str] = ("inv-1", "inv-2"), **kwargs: Any
    ) -> DibaoCase:
        kwargs.setdefault("findings", DIBAO_FINDINGS)
        super().investigate(investigators, **kwargs)
        return self

    def assess_income(self, actor: str = "inv-1", **overrides: Any) -> DibaoCase:
        self.emit(
            "HouseholdIncomeAssessed",
            income_payload(self.person, **overrides),
            actor=actor,
            on="2024-03-12",
        )
        return self

    def approval_payload(self, **overrides: Any) -> dict[str, Any]:
        overrides.setdefault("standard_ref", self.dibao_standard)
        overrides.setdefault("annual_amount_fen", self.annual_fen)
        overrides.setdefault("household_treatment", "NORMAL")
        return super().approval_payload(**overrides)

    def to_forwarded(self, **submit_overrides: Any) -> DibaoCase:
        self.submit(**submit_overrides).accept().authorise().investigate().assess_income()
        self.opinion().post_notice().close_notice().forward()
        return self

    def to_enrolled(self) -> str:
        """Forwarded, spot-checked, approved, published (notice #2) and enrolled."""
        self.to_forwarded().sample().spot_check().approve()
        self.post_notice(kind="RESULT_PUBLICATION", start="2024-03-29", end="2024-04-04")
        return self.enrol(self.register_account())


def open_dibao_fund(
    world: World,
    fund_id: str = "fund-dibao",
    amount_fen: int = 10_000_000,
    programme_code: str = DIBAO,
) -> str:
    """A funded BASIC_LIVING account of county-1 for 2024 (dibao unless told otherwise)."""
    world.emit(
        "FundAccountOpened",
        fund_id,
        {
            "fund_account_id": fund_id,
            "owner_org_id": "county-1",
            "bank_account_ref_hmac": SHA_A,
            "ledger_id": f"book-{fund_id}",
            "programme_codes": [programme_code],
            "purposes": ["BASIC_LIVING"],
            "fiscal_year": 2024,
        },
        actor="finance-1",
        on="2024-01-02",
    )
    world.emit(
        "FundAppropriated",
        fund_id,
        {
            "appropriation_id": f"ap-{fund_id}",
            "source": "PROVINCIAL_SUBSIDY",
            "amount_fen": amount_fen,
            "document_ref": "caishe-2024-1",
            "is_matching_fund": False,
        },
        actor="finance-1",
        on="2024-01-03",
    )
    world.emit(
        "FundReceived",
        fund_id,
        {"appropriation_id": f"ap-{fund_id}", "amount_fen": amount_fen, "value_date": "2024-01-05"},
        actor="finance-1",
        on="2024-01-05",
    )
    return fund_id


def prepare_payment(
    world: World,
    enrolment_id: str,
    period: str,
    amount_fen: int,
    *,
    fund_id: str = "fund-dibao",
    programme_code: str = DIBAO,
    batch_id: str | None = None,
) -> DomainEvent:
    """A one-line batch for ``enrolment_id`` in ``period`` to its ONE_CARD account."""
    found = enrolments.enrolment(world.state, enrolment_id)
    assert found is not None
    batch_id = batch_id or f"pb-{enrolment_id}-{period}"
    return world.emit(
        "PaymentBatchPrepared",
        batch_id,
        {
            "batch_id": batch_id,
            "programme_code": programme_code,
            "admin_unit_id": "county-1",
            "period": period,
            "fund_account_id": fund_id,
            "lines": [
                {
                    "line_id": f"line-{batch_id}",
                    "enrolment_id": enrolment_id,
                    "person_id": found.person_id,
                    "component": "BASIC_LIVING",
                    "amount_fen": amount_fen,
                    "channel": "ONE_CARD",
                    "account_id": found.payment_account_id,
                }
            ],
            "total_fen": amount_fen,
        },
        actor="preparer-1",
        on=f"{period}-05",
    )
