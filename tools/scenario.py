"""Writes whole, valid cases into a ledger through any submitter (in-process or HTTP).

The demo data and the end-to-end tests use this to drive the first programme (特困 / 五保,
``domain.md`` §3.1.1, §4.1, §4.2, §4.5, §4.8) the way the operational systems would: every
step is a signed envelope from the official whose role it is, in the order the rules demand.

:class:`Desk` keeps the stream versions it has written (``expected_version``), the actors'
signers, and the ids it handed out; the step methods are thin and named after the workflow
step (W1.1 :meth:`Desk.submit`, W1.2b :meth:`Desk.accept`, …).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ledger.client import CHINA_STANDARD_TIME, EnvelopeSigner, actor_onboarding
from ledger.domain.catalogue import REGISTRY_ADMIN
from ledger.domain.periods import Period, month_after, period_amount_fen
from ledger.domain.spot_checks import draw_sample
from ledger.integrity.jcs import canonicalize_checked
from ledger.integrity.signing import SigningKey

Submit = Callable[[bytes], Any]
"""Appends one signed envelope and returns its receipt (``LedgerService.append`` or an HTTP
client's ``post_event``); raises on refusal."""

TEKUN = "TEKUN"
MANDATORY_MATERIALS = (
    "WRITTEN_APPLICATION",
    "ID_PROOF",
    "HOUSEHOLD_REGISTER",
    "CIRCUMSTANCES_STATEMENT",
    "TRUTHFULNESS_PLEDGE",
)
DISPERSED_ANNUAL_FEN = 130_000  # 1,300 元 a year (seed 001, N-WB-1)
CENTRALISED_ANNUAL_FEN = 264_000  # 2,640 元 a year (seed 001, N-WB-2)


def digest(*parts: object) -> str:
    """A stand-in SHA-256 of a document (the documents themselves live outside the ledger)."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def at(day: date, hour: int = 10) -> str:
    """A business date as ``occurred_at`` (China Standard Time)."""
    return datetime.combine(day, time(hour), CHINA_STANDARD_TIME).isoformat()


@dataclass
class Desk:
    """Signs and submits workflow steps, tracking stream versions (see module docstring)."""

    submit: Submit
    admin: EnvelopeSigner
    signers: dict[str, EnvelopeSigner] = field(default_factory=dict)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    registry_version: int = 1
    event_ids: dict[str, str] = field(default_factory=dict)
    """Ids of events other steps cite (``standard:<id>``, ``approval:<app>``, …)."""

    # ------------------------------------------------------------------ plumbing

    def emit(
        self,
        signer: EnvelopeSigner,
        stream: tuple[str, str],
        event_type: str,
        payload: Mapping[str, Any],
        day: date,
        *,
        remember_as: str | None = None,
    ) -> Any:
        """Sign and submit one event on ``stream`` as ``signer``; advances the version."""
        version = self.versions.get(stream, 0)
        envelope = signer.build(
            event_type=event_type,
            stream_type=stream[0],
            stream_id=stream[1],
            expected_version=version,
            payload=payload,
            occurred_at=at(day),
        )
        receipt = self.submit(canonicalize_checked(envelope))
        self.versions[stream] = version + 1
        if remember_as is not None:
            self.event_ids[remember_as] = envelope["event_id"]
        return receipt

    def registry(self, event_type: str, payload: Mapping[str, Any]) -> None:
        """A registry event signed by the administrator."""
        self.submit(
            self.admin.sign(
                event_type=event_type,
                stream_type="registry",
                stream_id="registry",
                expected_version=self.registry_version,
                payload=payload,
            )
        )
        self.registry_version += 1

    def organisation(self, org_id: str, kind: str, parent: str, name: str) -> None:
        self.registry(
            "OrganisationRegistered",
            {"org_id": org_id, "kind": kind, "parent_org_id": parent, "name": name},
        )

    def official(
        self, actor_id: str, org_id: str, roles: Sequence[str], key: SigningKey | None = None
    ) -> EnvelopeSigner:
        """Register a person with a fresh key and roles at ``org_id``; their signer for the
        first role (others via :meth:`as_role`)."""
        key = key or SigningKey.generate()
        onboarding = actor_onboarding(
            actor_id, org_id, key, roles, person_ref=actor_id, include_descendants=True
        )
        for event_type, payload in onboarding:
            self.registry(event_type, payload)
        signer = EnvelopeSigner(key, actor_id, roles[0], org_id)
        self.signers[actor_id] = signer
        return signer

    def as_role(self, actor_id: str, role: str) -> EnvelopeSigner:
        base = self.signers[actor_id]
        return EnvelopeSigner(base.key, base.actor_id, role, base.org_id)


# ---------------------------------------------------------------------- the county


@dataclass(frozen=True)
class Township:
    """A township with its villages and its four officials."""

    org_id: str
    villages: tuple[str, ...]
    clerk: str
    investigators: tuple[str, str]
    reviewer: str


@dataclass
class County:
    """One county: townships, a care institution, the county and finance officials."""

    org_id: str
    townships: list[Township]
    institution: str
    bank: str
    approver: str
    spot_checker: str
    finance: str
    preparer: str
    payment_approver: str
    bank_agent: str
    institution_manager: str
    government: str
    institution_account: str = ""
    fund_account: str = ""


def build_county(desk: Desk, county_id: str = "county-hx", townships: int = 3) -> County:
    """Register a county with ``townships`` townships of two villages each, every official
    the workflows need (each a different person: separation of duties), and the city's
    government approver (so this runs once per ledger; more counties: :func:`add_county`)."""
    register_county(desk, county_id, "和县人民政府", "和县", "", townships)
    desk.official(f"{desk.admin.org_id}-gov-approver", desk.admin.org_id, ["government_approver"])
    return county_by_convention(desk, county_id, townships)


def add_county(desk: Desk, county_id: str, name: str, townships: int = 2) -> County:
    """Register one more county-level unit of the city (a county, or a development zone's
    administrative committee: both ``GOVERNMENT``), its townships named after it."""
    register_county(desk, county_id, name, name, name, townships)
    return county_by_convention(desk, county_id, townships)


def register_county(  # noqa: PLR0917 - the names a county's documents carry
    desk: Desk,
    county_id: str,
    county_name: str,
    short_name: str,
    town_prefix: str,
    townships: int,
) -> None:
    """Register the county, its care institution and bank, ``townships`` townships of two
    villages (named ``{town_prefix}第t镇…``) and the county's officials, ids by convention."""
    desk.organisation(county_id, "GOVERNMENT", desk.admin.org_id, county_name)
    institution, bank = f"{county_id}-elderly-home", f"{county_id}-rural-bank"
    desk.organisation(institution, "CARE_INSTITUTION", county_id, f"{short_name}中心敬老院")
    desk.organisation(bank, "BANK", county_id, f"{short_name}农村商业银行")
    for t in range(1, townships + 1):
        _register_township(desk, county_id, town_prefix, t)
    for suffix, role in (
        ("approver", "county_approver"),
        ("spot-checker", "county_spot_checker"),
        ("finance", "finance_officer"),
        ("preparer", "payment_preparer"),
        ("pay-approver", "payment_approver"),
    ):
        desk.official(f"{county_id}-{suffix}", county_id, [role])
    desk.official(f"{bank}-agent", bank, ["disbursement_agent"])
    desk.official(f"{institution}-manager", institution, ["care_institution_manager"])


def _register_township(desk: Desk, county_id: str, prefix: str, t: int) -> None:
    town = f"{county_id}-town-{t}"
    desk.organisation(town, "GOVERNMENT", county_id, f"{prefix}第{t}镇人民政府")
    for v in (1, 2):
        desk.organisation(
            f"{town}-village-{v}", "VILLAGE_COMMITTEE", town, f"{prefix}第{t}镇{v}村村委会"
        )
    desk.official(f"{town}-clerk", town, ["township_intake_clerk"])
    desk.official(f"{town}-inv-a", town, ["township_investigator"])
    desk.official(f"{town}-inv-b", town, ["township_investigator"])
    desk.official(f"{town}-rev", town, ["township_reviewer"])


def county_by_convention(
    desk: Desk, county_id: str, townships: int, fund_account: str = ""
) -> County:
    """The :class:`County` registered as ``county_id`` by :func:`register_county` (its ids
    follow a fixed naming convention), also for steps taken long after it."""
    root = desk.admin.org_id
    bank, institution = f"{county_id}-rural-bank", f"{county_id}-elderly-home"
    town_list = []
    for t in range(1, townships + 1):
        town = f"{county_id}-town-{t}"
        town_list.append(
            Township(
                town,
                tuple(f"{town}-village-{v}" for v in (1, 2)),
                f"{town}-clerk",
                (f"{town}-inv-a", f"{town}-inv-b"),
                f"{town}-rev",
            )
        )
    return County(
        org_id=county_id,
        townships=town_list,
        institution=institution,
        bank=bank,
        approver=f"{county_id}-approver",
        spot_checker=f"{county_id}-spot-checker",
        finance=f"{county_id}-finance",
        preparer=f"{county_id}-preparer",
        payment_approver=f"{county_id}-pay-approver",
        bank_agent=f"{bank}-agent",
        institution_manager=f"{institution}-manager",
        government=f"{root}-gov-approver",
        fund_account=fund_account,
    )


def define_programme(
    desk: Desk,
    code: str,
    *,
    names: tuple[str, str],
    lead_org_id: str,
    support_modes: list[str],
    exclusive_with: list[str],
    published: date,
) -> None:
    """``ProgrammeDefined`` with the seed's procedure: monthly payments, 7-day notices, 10
    working days per level, a 30 % county spot check, two investigators."""
    desk.emit(
        desk.admin,
        ("programme", code),
        "ProgrammeDefined",
        {
            "programme_code": code,
            "name_zh": names[0],
            "name_en": names[1],
            "lead_org_id": lead_org_id,
            "support_modes": support_modes,
            "payment_frequency": "MONTHLY",
            "exclusive_with": exclusive_with,
            "notice_days": 7,
            "termination_notice_days": 7,
            "investigation_working_days": 10,
            "county_working_days": 10,
            "spot_check_ratio": "3/10",
            "confirmation_level": "COUNTY",
            "democratic_appraisal": "OPTIONAL",
            "mandatory_materials": list(MANDATORY_MATERIALS),
            "notice_waived_reasons": ["DECEASED", "VOLUNTARY"],
            "min_investigators": 2,
        },
        published,
    )


def define_programmes(desk: Desk, county: County, published: date) -> None:
    """TEKUN (paid monthly) and DIBAO_RURAL (for referrals), and the seed-001 standards."""
    define_programme(
        desk,
        TEKUN,
        names=("特困人员救助供养", "Extreme-poverty support"),
        lead_org_id=county.org_id,
        support_modes=["DISPERSED", "CENTRALISED"],
        exclusive_with=["DIBAO_RURAL"],
        published=published,
    )
    define_programme(
        desk,
        "DIBAO_RURAL",
        names=("农村最低生活保障", "Rural minimum living allowance"),
        lead_org_id=county.org_id,
        support_modes=["DISPERSED"],
        exclusive_with=[TEKUN],
        published=published,
    )
    government = desk.signers[county.government]
    for mode, amount in (
        ("DISPERSED", DISPERSED_ANNUAL_FEN),
        ("CENTRALISED", CENTRALISED_ANNUAL_FEN),
    ):
        standard_id = f"{TEKUN}-{mode}-{published.year}"
        desk.emit(
            government,
            ("standard", standard_id),
            "BenefitStandardPublished",
            {
                "standard_id": standard_id,
                "programme_code": TEKUN,
                "admin_unit_id": desk.admin.org_id,
                "support_mode": mode,
                "component": "BASIC_LIVING",
                "amount_fen": amount,
                "period": "YEAR",
                "effective_from": str(Period(published.year, 7)),  # STD-3: from 1 July
                "published_on": published.isoformat(),
                "basis": None,
            },
            published,
            remember_as=f"standard:{mode}",
        )


def publish_coverage_targets(desk: Desk, county: County, year: int, day: date) -> None:
    """The city's centralised-support target for the year's 特困 (N-WB-7: 40 %)."""
    desk.emit(
        desk.signers[county.government],
        ("coverage_targets", str(year)),
        "CoverageTargetsPublished",
        {
            "target_set_id": f"coverage-targets-{year}",
            "year": year,
            "programme_codes": [TEKUN],
            "centralised_rate_min": "2/5",
            "published_on": day.isoformat(),
            "basis": "N-WB-7: at least 40 % centralised support in every township",
        },
        day,
    )


# ---------------------------------------------------------------------- one case


@dataclass
class Applicant:
    """A person applying, and how their case should go (the demo's script for them)."""

    application_id: str
    person_id: str
    household_id: str
    identity_hmac: str
    township: Township
    village: str
    category: str = "ELDERLY"
    mode: str = "DISPERSED"
    path: str = "APPROVE"
    """APPROVE, REJECT (found ineligible), OBJECTION_UPHELD (re-investigated, then rejected),
    INCOMPLETE (materials supplemented, then approved)."""
    obligors: tuple[str, ...] = ()
    enrolment_id: str | None = None
    account_id: str | None = None
    first_payable: Period | None = None
    last_payable: Period | None = None
    annual_fen: int = 0


class Caseworker:
    """Moves applicants through W1 and W5 with the right official at each step."""

    def __init__(self, desk: Desk, county: County) -> None:
        self.desk = desk
        self.county = county
        self._notices = 0

    def _signer(self, actor_id: str) -> EnvelopeSigner:
        return self.desk.signers[actor_id]

    def _app(  # noqa: PLR0917 - mirrors Desk.emit, plus the acting official
        self,
        a: Applicant,
        event_type: str,
        payload: Mapping[str, Any],
        day: date,
        actor: str,
        remember_as: str | None = None,
    ) -> Any:
        return self.desk.emit(
            self._signer(actor),
            ("application", a.application_id),
            event_type,
            payload,
            day,
            remember_as=remember_as,
        )

    def submit(self, a: Applicant, day: date) -> None:
        """W1.1 (and W1.2a/2b, W1.3): submitted, accepted (after a one-time deficiency notice
        on the INCOMPLETE path) and the financial-check authorisations signed."""
        materials = list(MANDATORY_MATERIALS)
        if a.category == "DISABLED":
            materials.append("DISABILITY_CERTIFICATE")
        missing = ["ID_PROOF", "HOUSEHOLD_REGISTER"] if a.path == "INCOMPLETE" else []
        handed_in = [m for m in materials if m not in missing]
        clerk = a.township.clerk
        self._app(
            a,
            "ApplicationSubmitted",
            {
                "application_id": a.application_id,
                "programme_code": TEKUN,
                "applicant_person_id": a.person_id,
                "applicant_identity_hmac": a.identity_hmac,
                "household_id": a.household_id,
                "members": [],
                "channel": "IN_PERSON",
                "agent_person_id": None,
                "township_org_id": a.township.org_id,
                "residence_org_id": a.village,
                "category": a.category,
                "health_flags": [],
                "materials": [
                    {"type": m, "sha256": digest(a.application_id, m)} for m in handed_in
                ],
                "obligor_person_ids": list(a.obligors),
                "referral_from_enrolment_id": None,
            },
            day,
            clerk,
        )
        if missing:
            self._app(
                a,
                "ApplicationMaterialsIncompleteNotified",
                {"missing_items": missing, "channel": "WRITTEN"},
                day,
                clerk,
            )
            day += timedelta(days=3)
            self._app(
                a,
                "ApplicationMaterialsSupplemented",
                {
                    "materials": [
                        {"type": m, "sha256": digest(a.application_id, m)} for m in missing
                    ]
                },
                day,
                clerk,
            )
        self._app(a, "ApplicationAccepted", {"checklist_version": "tekun-2024"}, day, clerk)
        for signer, role in [(a.person_id, "APPLICANT"), *((o, "OBLIGOR") for o in a.obligors)]:
            self._app(
                a,
                "FinancialCheckAuthorisationSigned",
                {
                    "signer_person_id": signer,
                    "signer_role": role,
                    "document_sha256": digest("auth", a.application_id, signer),
                },
                day,
                clerk,
            )

    def investigate(self, a: Applicant, day: date, *, eligible: bool = True) -> None:
        """W1.5 by two investigators."""
        inv1, inv2 = a.township.investigators
        self._app(
            a,
            "EconomicCheckRecorded",
            {
                "sources": ["civil-affairs-data-exchange", "bank-deposits"],
                "result_sha256": digest("econ", a.application_id, day),
            },
            day,
            inv1,
        )
        self._app(
            a,
            "HouseholdInvestigationCompleted",
            {
                "investigator_actor_ids": [inv1, inv2],
                "methods": ["HOME_VISIT", "NEIGHBOUR_INTERVIEW", "DATA_MATCH"],
                "findings": {
                    "registered_in_province": True,
                    "no_labour_capacity": True,
                    "no_income_source": eligible,
                    "no_capable_obligor": True,
                    "per_capita_income_fen": 0 if eligible else 600_000,
                    "dependency_level": "PARTIAL" if a.mode == "CENTRALISED" else "NONE",
                },
                "evidence": [digest("visit", a.application_id, day)],
            },
            day,
            inv1,
        )

    def opinion(self, a: Applicant, day: date, *, approve: bool = True) -> str:
        """W1.7 and W1.8: the preliminary opinion and its 7-day notice; returns the notice id."""
        self._app(
            a,
            "PreliminaryOpinionIssued",
            {
                "opinion": "RECOMMEND_APPROVE" if approve else "RECOMMEND_REJECT",
                "proposed_support_mode": a.mode if approve else None,
                "proposed_institution_id": self.county.institution
                if approve and a.mode == "CENTRALISED"
                else None,
                "reasons": [] if approve else ["has a source of income"],
            },
            day,
            a.township.reviewer,
        )
        return self.notice(
            a.township.reviewer,
            "PRELIMINARY_OPINION",
            [a.application_id],
            a.village,
            day + timedelta(days=1),
        )

    def notice(self, actor: str, kind: str, subjects: list[str], location: str, start: date) -> str:
        self._notices += 1
        notice_id = f"notice-{subjects[0]}-{self._notices}"
        self.desk.emit(
            self._signer(actor),
            ("notice", notice_id),
            "PublicNoticePosted",
            {
                "notice_id": notice_id,
                "kind": kind,
                "subject_ids": subjects,
                "location_org_id": location,
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=6)).isoformat(),
                "content_sha256": digest(notice_id),
            },
            start,
        )
        return notice_id

    def close_notice(self, actor: str, notice_id: str, day: date) -> None:
        self.desk.emit(
            self._signer(actor),
            ("notice", notice_id),
            "PublicNoticeClosed",
            {"closed_on": day.isoformat()},
            day,
        )

    def object_and_uphold(self, a: Applicant, notice_id: str, day: date) -> None:
        """W1.9: a neighbour's objection, investigated and upheld."""
        objection = f"obj-{a.application_id}"
        self.desk.emit(
            self._signer(a.township.clerk),
            ("notice", notice_id),
            "ObjectionReceived",
            {
                "objection_id": objection,
                "subject_id": a.application_id,
                "received_on": day.isoformat(),
                "channel": "WRITTEN",
                "content_sha256": digest(objection),
            },
            day,
        )
        self.desk.emit(
            self._signer(a.township.investigators[0]),
            ("notice", notice_id),
            "ObjectionInvestigated",
            {
                "objection_id": objection,
                "finding": "UPHELD",
                "summary_sha256": digest(objection, "upheld"),
            },
            day + timedelta(days=2),
        )

    def forward(self, a: Applicant, notice_id: str, day: date) -> None:
        """W1.10."""
        self.close_notice(a.township.reviewer, notice_id, day)
        self._app(
            a,
            "ApplicationForwarded",
            {
                "to_org_id": self.county.org_id,
                "package_sha256": digest("package", a.application_id),
                "notice_id": notice_id,
            },
            day,
            a.township.reviewer,
        )

    def spot_check(
        self, batch_id: str, township: Township, population: list[str], seed: int, day: date
    ) -> list[str]:
        """W1.11a: a reproducible ≥30 % sample, each sampled case checked."""
        k = math.ceil(len(population) * 3 / 10)
        sampled = draw_sample(population, seed, k)
        checker = self._signer(self.county.spot_checker)
        stream = ("spot_check", batch_id)
        self.desk.emit(
            checker,
            stream,
            "CountySpotCheckSampleDrawn",
            {
                "batch_id": batch_id,
                "township_org_id": township.org_id,
                "population_ids": population,
                "sampled_ids": sampled,
                "rng_algorithm": "SPLITMIX64-FISHER-YATES-v1",
                "rng_seed": seed,
                "ratio": "3/10",
            },
            day,
        )
        for application_id in sampled:
            self.desk.emit(
                checker,
                stream,
                "CountySpotCheckCompleted",
                {
                    "application_id": application_id,
                    "result": "CONSISTENT",
                    "notes_sha256": digest("spot", application_id),
                },
                day + timedelta(days=1),
            )
        return sampled

    def approve_and_enrol(self, a: Applicant, batch_id: str, day: date) -> None:
        """W1.11b, W1.12, W1.14, W1.13: approve, notify, register the account, enrol,
        publish the result (and, for centralised support, the institution's admission)."""
        approver = self.county.approver
        a.first_payable = month_after(day)
        a.annual_fen = DISPERSED_ANNUAL_FEN if a.mode == "DISPERSED" else CENTRALISED_ANNUAL_FEN
        standard_ref = self.desk.event_ids[f"standard:{a.mode}"]
        institution = self.county.institution if a.mode == "CENTRALISED" else None
        dossier = f"dossier-{a.application_id}"
        self._app(
            a,
            "ApplicationApproved",
            {
                "support_mode": a.mode,
                "institution_id": institution,
                "standard_ref": standard_ref,
                "annual_amount_fen": a.annual_fen,
                "first_payable_period": str(a.first_payable),
                "dossier_id": dossier,
                "household_treatment": "NORMAL",
                "spot_check_batch_id": batch_id,
            },
            day,
            approver,
            remember_as=f"decision:{a.application_id}",
        )
        self._notify(a, day + timedelta(days=1), reasons=[])
        if a.mode == "DISPERSED":
            a.account_id = f"acct-{a.person_id}"
            self.desk.emit(
                self._signer(a.township.clerk),
                ("payment_account", a.account_id),
                "PaymentAccountRegistered",
                {
                    "account_id": a.account_id,
                    "channel": "ONE_CARD",
                    "holder_person_id": a.person_id,
                    "holder_org_id": None,
                    "bank_org_id": self.county.bank,
                    "account_ref_hmac": digest("card", a.person_id),
                },
                day + timedelta(days=1),
            )
        else:
            a.account_id = self.institution_account(day)
            self.desk.emit(
                self._signer(self.county.institution_manager),
                ("residency", a.person_id),
                "InstitutionResidencyRecorded",
                {
                    "institution_id": self.county.institution,
                    "person_id": a.person_id,
                    "admitted_on": (day + timedelta(days=2)).isoformat(),
                    "discharged_on": None,
                    "bed_id": f"bed-{a.person_id}",
                },
                day + timedelta(days=2),
            )
        a.enrolment_id = f"enr-{a.application_id}"
        self.desk.emit(
            self._signer(approver),
            ("enrolment", a.enrolment_id),
            "BeneficiaryEnrolled",
            {
                "enrolment_id": a.enrolment_id,
                "application_id": a.application_id,
                "person_id": a.person_id,
                "household_id": a.household_id,
                "programme_code": TEKUN,
                "support_mode": a.mode,
                "institution_id": institution,
                "annual_amount_fen": a.annual_fen,
                "standard_ref": standard_ref,
                "first_payable_period": str(a.first_payable),
                "payment_account_id": a.account_id,
                "dossier_id": dossier,
            },
            day + timedelta(days=2),
        )
        self.notice(
            a.township.reviewer,
            "RESULT_PUBLICATION",
            [a.application_id],
            a.village,
            day + timedelta(days=3),
        )

    def institution_account(self, day: date) -> str:
        if not self.county.institution_account:
            account = f"acct-{self.county.institution}"
            self.desk.emit(
                self._signer(self.county.finance),
                ("payment_account", account),
                "PaymentAccountRegistered",
                {
                    "account_id": account,
                    "channel": "INSTITUTION_ACCOUNT",
                    "holder_person_id": None,
                    "holder_org_id": self.county.institution,
                    "bank_org_id": self.county.bank,
                    "account_ref_hmac": digest("inst-account", self.county.institution),
                },
                day,
            )
            self.county.institution_account = account
        return self.county.institution_account

    def reject(self, a: Applicant, batch_id: str, day: date) -> None:
        reasons = [f"has a regular source of income (investigation of {day.isoformat()})"]
        self._app(
            a,
            "ApplicationRejected",
            {"reasons": reasons, "spot_check_batch_id": batch_id},
            day,
            self.county.approver,
            remember_as=f"decision:{a.application_id}",
        )
        self._notify(a, day + timedelta(days=2), reasons=reasons)

    def _notify(self, a: Applicant, day: date, reasons: list[str]) -> None:
        self._app(
            a,
            "DecisionNotified",
            {
                "decision_event_id": self.desk.event_ids[f"decision:{a.application_id}"],
                "recipients": [a.person_id, a.village],
                "channel": "WRITTEN",
                "document_sha256": digest("decision", a.application_id),
                "reasons": reasons,
            },
            day,
            a.township.reviewer,
        )

    # ------------------------------------------------------------------ W5

    def terminate(self, a: Applicant, reason: str, day: date, *, death: date | None = None) -> None:
        """W5: proposal, the 7-day notice unless waived (death, voluntary exit), decision
        effective next month."""
        assert a.enrolment_id is not None
        stream = ("enrolment", a.enrolment_id)
        self.desk.emit(
            self._signer(a.township.reviewer),
            stream,
            "TerminationProposed",
            {
                "reason_code": reason,
                "evidence": [digest("report", a.enrolment_id)],
                "death_date": death.isoformat() if death else None,
            },
            day,
        )
        notice_id = None
        decided = day + timedelta(days=1)
        if reason not in ("DECEASED", "VOLUNTARY"):
            notice_id = self.notice(
                a.township.reviewer,
                "TERMINATION",
                [a.enrolment_id],
                a.village,
                day + timedelta(days=1),
            )
            decided = day + timedelta(days=9)
            self.close_notice(a.township.reviewer, notice_id, decided)
        effective = month_after(decided)
        self.desk.emit(
            self._signer(self.county.approver),
            stream,
            "TerminationDecided",
            {
                "effective_period": str(effective),
                "reasons": [f"termination: {reason}"],
                "notice_id": notice_id,
            },
            decided,
        )
        a.last_payable = effective.plus(-1)
        if death is not None and Period.of(death) < a.last_payable:
            a.last_payable = Period.of(death)

    def refer(self, a: Applicant, new_application_id: str, day: date) -> None:
        """W5.6: referred to rural dibao, which starts a new application there."""
        assert a.enrolment_id is not None
        self.desk.emit(
            self._signer(self.county.approver),
            ("enrolment", a.enrolment_id),
            "ReferralMade",
            {"to_programme_code": "DIBAO_RURAL", "new_application_id": new_application_id},
            day,
        )
        self.desk.emit(
            self._signer(a.township.clerk),
            ("application", new_application_id),
            "ApplicationSubmitted",
            {
                "application_id": new_application_id,
                "programme_code": "DIBAO_RURAL",
                "applicant_person_id": a.person_id,
                "applicant_identity_hmac": a.identity_hmac,
                "household_id": a.household_id,
                "members": [],
                "channel": "REFERRAL",
                "agent_person_id": None,
                "township_org_id": a.township.org_id,
                "residence_org_id": a.village,
                "category": a.category,
                "health_flags": [],
                "materials": [
                    {"type": m, "sha256": digest(new_application_id, m)}
                    for m in MANDATORY_MATERIALS
                ],
                "obligor_person_ids": [],
                "referral_from_enrolment_id": a.enrolment_id,
            },
            day,
        )


# ---------------------------------------------------------------------- money


class Treasurer:
    """Opens the earmarked account, appropriates and pays monthly batches (W8, W2)."""

    def __init__(self, desk: Desk, county: County) -> None:
        self.desk = desk
        self.county = county
        self.lines_paid = 0
        self.amount_paid_fen = 0

    def _signer(self, actor_id: str) -> EnvelopeSigner:
        return self.desk.signers[actor_id]

    def open_fund(
        self, year: int, day: date, appropriations: Sequence[tuple[str, int, bool]]
    ) -> str:
        """W8.1, W8.2, W8.4: a dedicated account for 特困/五保 and its appropriations, received."""
        fund = f"fund-{self.county.org_id}-tekun-{year}"
        self.county.fund_account = fund
        finance = self._signer(self.county.finance)
        stream = ("fund_account", fund)
        self.desk.emit(
            finance,
            stream,
            "FundAccountOpened",
            {
                "fund_account_id": fund,
                "owner_org_id": self.county.org_id,
                "bank_account_ref_hmac": digest("fund-bank", fund),
                "ledger_id": f"ledger-{fund}",
                "programme_codes": [TEKUN, "WUBAO"],
                "purposes": ["BASIC_LIVING", "INSTITUTION_MANAGEMENT"],
                "fiscal_year": year,
            },
            day,
        )
        for n, (source, amount, matching) in enumerate(appropriations, 1):
            appropriation = f"{fund}-approp-{n}"
            self.desk.emit(
                finance,
                stream,
                "FundAppropriated",
                {
                    "appropriation_id": appropriation,
                    "source": source,
                    "amount_fen": amount,
                    "document_ref": f"财社[{year}]{n}号",
                    "is_matching_fund": matching,
                },
                day,
            )
            self.desk.emit(
                finance,
                stream,
                "FundReceived",
                {
                    "appropriation_id": appropriation,
                    "amount_fen": amount,
                    "value_date": (day + timedelta(days=5)).isoformat(),
                },
                day + timedelta(days=5),
            )
        return fund

    def pay_month(
        self, period: Period, beneficiaries: Sequence[Applicant], *, fail_person: str | None = None
    ) -> str | None:
        """W2: prepare, approve, submit, settle one month; one line may fail and be reissued."""
        payable = [
            a
            for a in beneficiaries
            if a.enrolment_id
            and a.first_payable
            and a.first_payable <= period
            and (a.last_payable is None or period <= a.last_payable)
        ]
        if not payable:
            return None
        batch_id = f"batch-{self.county.org_id}-{period}"
        stream = ("payment_batch", batch_id)
        lines: list[dict[str, Any]] = [
            {
                "line_id": f"{batch_id}-{a.enrolment_id}",
                "enrolment_id": a.enrolment_id,
                "person_id": a.person_id,
                "component": "BASIC_LIVING",
                "amount_fen": period_amount_fen(a.annual_fen, "MONTHLY", period),
                "channel": "ONE_CARD" if a.mode == "DISPERSED" else "INSTITUTION_ACCOUNT",
                "account_id": a.account_id,
            }
            for a in payable
        ]
        first = date(period.year, period.month, 1)
        self.desk.emit(
            self._signer(self.county.preparer),
            stream,
            "PaymentBatchPrepared",
            {
                "batch_id": batch_id,
                "programme_code": TEKUN,
                "admin_unit_id": self.county.org_id,
                "period": str(period),
                "fund_account_id": self.county.fund_account,
                "lines": lines,
                "total_fen": sum(int(line["amount_fen"]) for line in lines),
            },
            first + timedelta(days=2),
        )
        self.desk.emit(
            self._signer(self.county.payment_approver),
            stream,
            "PaymentBatchApproved",
            {"approved_on": (first + timedelta(days=3)).isoformat()},
            first + timedelta(days=3),
        )
        self.desk.emit(
            self._signer(self.county.finance),
            stream,
            "PaymentBatchSubmitted",
            {
                "bank_org_id": self.county.bank,
                "file_sha256": digest("bank-file", batch_id),
            },
            first + timedelta(days=4),
        )
        bank = self._signer(self.county.bank_agent)
        value_date = first + timedelta(days=9)
        for line, a in zip(lines, payable, strict=True):
            if a.person_id == fail_person:
                self.desk.emit(
                    bank,
                    stream,
                    "PaymentFailed",
                    {"line_id": line["line_id"], "reason": "一卡通账户冻结 (card frozen)"},
                    value_date,
                )
                new_line = f"{line['line_id']}-r1"
                self.desk.emit(
                    self._signer(self.county.preparer),
                    stream,
                    "PaymentLineReissued",
                    {
                        "original_line_id": line["line_id"],
                        "new_line_id": new_line,
                        "account_id": a.account_id,
                    },
                    value_date + timedelta(days=2),
                )
                paid = {**line, "line_id": new_line}
                value_date_line = value_date + timedelta(days=4)
            else:
                paid, value_date_line = line, value_date
            self.desk.emit(
                bank,
                stream,
                "PaymentSettled",
                {
                    "line_id": paid["line_id"],
                    "amount_fen": paid["amount_fen"],
                    "value_date": value_date_line.isoformat(),
                    "bank_ref": f"BR{digest(paid['line_id'])[:12]}",
                },
                value_date_line,
            )
            self.lines_paid += 1
            self.amount_paid_fen += int(line["amount_fen"])
        return batch_id


def new_admin_desk(
    submit: Submit,
    admin_key: SigningKey,
    admin_actor_id: str,
    root_org_id: str,
    registry_version: int,
) -> Desk:
    """A desk acting with the registry administrator's key."""
    admin = EnvelopeSigner(admin_key, admin_actor_id, REGISTRY_ADMIN, root_org_id)
    return Desk(submit=submit, admin=admin, registry_version=registry_version)
