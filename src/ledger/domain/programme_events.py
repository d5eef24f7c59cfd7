"""Payload schemas of the benefit-programme events (``domain.md`` §6.2, §6.3).

Covers the benefit programmes end to end: programme, standards and eligibility rule sets
(config), the W1 application workflow (with the dibao income assessment and declared
relationships to officials), public notices and objections, the county spot check, enrolment
and payment accounts, dynamic management and exits (W3, W4), termination and referral (W5),
earmarked fund accounts (W8), payment batches and bank results (W2), and the erasure of a
person's identity (§6.7).

Personal data never appears here: people are pseudonymous ids (``person_id``,
``household_id``); identity numbers and bank card numbers appear only as keyed hashes
(``*_hmac``: HMAC-SHA-256 in lowercase hex, keyed by the identity registry's key).

Stream types and ids:

==================  ==========================  ==========================================
stream_type         stream_id                   events
==================  ==========================  ==========================================
``programme``       programme code              ``ProgrammeDefined``
``standard``        standard id                 ``BenefitStandardPublished``
``rule_set``        rule set id                 ``EligibilityRuleSetPublished``
``application``     application id              W1 steps
``notice``          notice id                   ``PublicNotice*``, ``Objection*``
``spot_check``      batch id                    ``CountySpotCheck*``
``payment_account`` account id                  ``PaymentAccountRegistered``
``enrolment``       enrolment id                enrolment, W3 dynamic management, W4 exits,
                                                termination, referral
``roll_review``     review id                   ``RollReviewedByVillageAssembly``
``residency``       person id                   ``InstitutionResidencyRecorded``
``fund_account``    fund account id             ``Fund*``
``payment_batch``   batch id                    ``PaymentBatch*``, ``Payment*``
``person``          person id                   ``PersonIdentityErased``
==================  ==========================  ==========================================
"""

from __future__ import annotations

from ledger.domain.catalogue import EventSpec, Kind
from ledger.domain.catalogue import event_spec_v1 as _spec
from ledger.domain.fields import (
    DATE,
    FEN,
    IDENTIFIER,
    PERIOD,
    RATIO,
    SHA256_HEX,
    UUID_TEXT,
    Check,
    boolean,
    integer,
    list_of,
    nullable,
    one_of,
    record,
    text,
)

SUPPORT_MODES = ("DISPERSED", "CENTRALISED")
FREQUENCIES = ("MONTHLY", "QUARTERLY", "YEARLY")
CATEGORIES = ("ELDERLY", "DISABLED", "MINOR")
CHANNELS = ("IN_PERSON", "ONLINE", "AGENT", "VILLAGE_COMMITTEE", "ASSISTED", "REFERRAL")
MATERIAL_TYPES = (
    "WRITTEN_APPLICATION",
    "ID_PROOF",
    "HOUSEHOLD_REGISTER",
    "CIRCUMSTANCES_STATEMENT",
    "TRUTHFULNESS_PLEDGE",
    "DISABILITY_CERTIFICATE",
    "OTHER",
)
HEALTH_FLAGS = ("MENTAL_ILLNESS", "INFECTIOUS_DISEASE", "VIOLENT_BEHAVIOUR")
NOTICE_KINDS = ("PRELIMINARY_OPINION", "RESULT_PUBLICATION", "TERMINATION")
TERMINATION_REASONS = (
    "NO_LONGER_ELIGIBLE",
    "INCOME_ABOVE_STANDARD",
    "VOLUNTARY",
    "DECEASED",
    "MOVED_AWAY",
    "FRAUD",
    "GRADUAL_EXIT_ENDED",
    "OTHER",
)
FUND_SOURCES = (
    "CENTRAL_SUBSIDY",
    "PROVINCIAL_SUBSIDY",
    "CITY_BUDGET",
    "COUNTY_BUDGET",
    "TOWNSHIP_BUDGET",
    "WELFARE_LOTTERY",
    "COLLECTIVE_INCOME",
    "DONATION",
    "OTHER",
)
FUND_PURPOSES = (
    "BASIC_LIVING",
    "CARE",
    "MEDICAL_TREATMENT",
    "FUNERAL",
    "INSTITUTION_MANAGEMENT",
    "TEMP_ASSISTANCE_RESERVE",
    "HARDSHIP_POOL",
    "CONSTRUCTION",
    "OFFICE_RENOVATION",
    "GENERAL_OFFICE",
)
PAYMENT_CHANNELS = ("ONE_CARD", "INSTITUTION_ACCOUNT")
COMPONENTS = ("BASIC_LIVING", "CARE_FULL", "CARE_PARTIAL", "CARE_NONE", "DIBAO_MONTHLY")
"""Parts of a benefit standard: the basic living standard, the care-dependency tiers of the
特困 care standard (§5.8) and the dibao monthly standard."""
DISREGARD_KINDS = ("DISABILITY", "ILLNESS", "EDUCATION", "EMPLOYMENT_COST")
"""Rigid expenses and employment costs deducted from household income (N-DB-9)."""
HARDSHIP_CATEGORIES = ("ELDERLY", "DISABLED", "SEVERELY_DISABLED", "SERIOUSLY_ILL", "MINOR")
"""Categories of classified assistance (分类施保, N-DB-2)."""
HOUSEHOLD_TREATMENTS = ("NORMAL", "SINGLE_PERSON", "WHOLE_HOUSEHOLD")
ELIGIBILITY_TESTS = ("THREE_NOS", "INCOME_BELOW_STANDARD")

_ID = IDENTIFIER
_IDS = list_of(IDENTIFIER, max_len=100_000, unique=True)
_REASONS = list_of(text(500), min_len=1, max_len=50)
_HASHES = list_of(SHA256_HEX, max_len=200)
PROGRAMME_CODES = (
    "TEKUN",
    "WUBAO",
    "DIBAO_URBAN",
    "DIBAO_RURAL",
    "MEDICAL_AID",
    "TEMP_ASSISTANCE",
    "PRICE_SUBSIDY",
    "PREFERENTIAL_CARE",
    "HARDSHIP_ASSISTANCE",
)
_PROGRAMME_CODE: Check = one_of(*PROGRAMME_CODES)

_CLERK = frozenset({"township_intake_clerk"})
_INVESTIGATOR = frozenset({"township_investigator"})
_REVIEWER = frozenset({"township_reviewer"})
_APPROVER = frozenset({"county_approver"})
_FINANCE = frozenset({"finance_officer"})
_BANK = frozenset({"disbursement_agent"})


CONFIG_EVENTS = (
    _spec(
        "ProgrammeDefined",
        "programme",
        Kind.CONFIG,
        frozenset({"registry_admin", "government_approver"}),
        {
            "programme_code": _PROGRAMME_CODE,
            "name_zh": text(100),
            "name_en": text(200),
            "lead_org_id": _ID,
            "support_modes": list_of(one_of(*SUPPORT_MODES), min_len=1, max_len=2, unique=True),
            "payment_frequency": one_of(*FREQUENCIES),
            "exclusive_with": list_of(_PROGRAMME_CODE, max_len=10, unique=True),
            "notice_days": integer(1, 60),
            "termination_notice_days": integer(1, 60),
            "investigation_working_days": integer(1, 60),
            "county_working_days": integer(1, 60),
            "spot_check_ratio": RATIO,
            "confirmation_level": one_of("COUNTY", "TOWNSHIP_DELEGATED"),
            "democratic_appraisal": one_of("NONE", "OPTIONAL", "REQUIRED"),
            "mandatory_materials": list_of(one_of(*MATERIAL_TYPES), min_len=1, unique=True),
            "notice_waived_reasons": list_of(one_of(*TERMINATION_REASONS), unique=True),
            "min_investigators": integer(1, 5),
        },
        "A programme's configuration: support modes, payment frequency and procedure "
        "parameters (domain.md §4.1, §6.2). A later event on the same stream amends it.",
    ),
    _spec(
        "BenefitStandardPublished",
        "standard",
        Kind.CONFIG,
        frozenset({"government_approver"}),
        {
            "standard_id": _ID,
            "programme_code": _PROGRAMME_CODE,
            "admin_unit_id": _ID,
            "support_mode": one_of(*SUPPORT_MODES),
            "component": one_of(*COMPONENTS),
            "amount_fen": integer(1),
            "period": one_of("YEAR"),
            "effective_from": PERIOD,
            "published_on": DATE,
            "basis": nullable(
                record(
                    {
                        "prior_year_consumption_per_capita_fen": FEN,
                        "dibao_monthly_standard_fen": FEN,
                    }
                )
            ),
        },
        "A benefit standard (annual amount in fen) for a programme, admin unit and support "
        "mode, in force from a month on (domain.md §4.9).",
    ),
)

RULE_SET_EVENTS = (
    _spec(
        "EligibilityRuleSetPublished",
        "rule_set",
        Kind.CONFIG,
        frozenset({"government_approver"}),
        {
            "rule_set_id": _ID,
            "version": integer(1, 10_000),
            "programme_code": _PROGRAMME_CODE,
            "test": one_of(*ELIGIBILITY_TESTS),
            "disregard_kinds": list_of(one_of(*DISREGARD_KINDS), unique=True),
            "classified_increments": list_of(
                record({"category": one_of(*HARDSHIP_CATEGORIES), "monthly_fen": FEN}),
                max_len=len(HARDSHIP_CATEGORIES),
            ),
            "gradual_exit_months": nullable(integer(1, 36)),
            "voluntary_exit_max_months": nullable(integer(1, 12)),
            "effective_from": PERIOD,
        },
        "The eligibility and entitlement rules of a programme (domain.md §6.2): the test "
        "(THREE_NOS for 特困, INCOME_BELOW_STANDARD for dibao), the income disregards, the "
        "classified-assistance increments per person and month (分类施保) and the W4 exit "
        "periods (N-DB-5, N-DB-6; null where the programme has none).",
    ),
)

APPLICATION_EVENTS = (
    _spec(
        "ApplicationSubmitted",
        "application",
        Kind.DECISION,
        _CLERK,
        {
            "application_id": _ID,
            "programme_code": _PROGRAMME_CODE,
            "applicant_person_id": _ID,
            "applicant_identity_hmac": SHA256_HEX,
            "household_id": _ID,
            "members": list_of(record({"person_id": _ID, "relation": text(50)}), max_len=30),
            "channel": one_of(*CHANNELS),
            "agent_person_id": nullable(_ID),
            "township_org_id": _ID,
            "residence_org_id": _ID,
            "category": one_of(*CATEGORIES),
            "health_flags": list_of(one_of(*HEALTH_FLAGS), unique=True),
            "materials": list_of(
                record({"type": one_of(*MATERIAL_TYPES), "sha256": SHA256_HEX}), max_len=50
            ),
            "obligor_person_ids": list_of(_ID, max_len=20, unique=True),
            "referral_from_enrolment_id": nullable(_ID),
        },
        "W1.1: the township records a written application (for the applicant, an agent or "
        "the village committee).",
    ),
    _spec(
        "ApplicationMaterialsIncompleteNotified",
        "application",
        Kind.DECISION,
        _CLERK,
        {
            "missing_items": list_of(one_of(*MATERIAL_TYPES), min_len=1, unique=True),
            "channel": one_of("IN_PERSON", "WRITTEN", "PHONE", "ONLINE"),
        },
        "W1.2a: one-time complete notice of every missing material (APP-2).",
    ),
    _spec(
        "ApplicationMaterialsSupplemented",
        "application",
        Kind.DECISION,
        _CLERK,
        {
            "materials": list_of(
                record({"type": one_of(*MATERIAL_TYPES), "sha256": SHA256_HEX}),
                min_len=1,
                max_len=50,
            )
        },
        "The applicant hands in materials that a deficiency notice listed.",
    ),
    _spec(
        "ApplicationAccepted",
        "application",
        Kind.DECISION,
        _CLERK,
        {"checklist_version": _ID},
        "W1.2b: accepted with complete materials (APP-3); starts the 10-working-day clock.",
    ),
    _spec(
        "FinancialCheckAuthorisationSigned",
        "application",
        Kind.FACT,
        _CLERK,
        {
            "signer_person_id": _ID,
            "signer_role": one_of("APPLICANT", "OBLIGOR"),
            "document_sha256": SHA256_HEX,
        },
        "W1.3: the applicant or an obligor signed the authorisation to check finances.",
    ),
    _spec(
        "RelativeOfOfficialFiled",
        "application",
        Kind.DECISION,
        _CLERK,
        {
            "person_id": _ID,
            "official_actor_id": _ID,
            "official_role": one_of("CASEWORKER", "VILLAGE_COMMITTEE_MEMBER"),
            "relationship": text(50),
        },
        "W1.4: the applicant is a close relative of an official, who is recused (SOD-4).",
    ),
    _spec(
        "OfficialRelationshipDeclared",
        "application",
        Kind.FACT,
        _CLERK | _INVESTIGATOR,
        {
            "person_id": _ID,
            "official_actor_id": _ID,
            "official_role": one_of("CASEWORKER", "VILLAGE_COMMITTEE_MEMBER"),
            "relationship": text(50),
            "source": one_of("APPLICANT_DECLARATION", "REGISTRY_MATCH", "REPORT"),
        },
        "W1.4: the applicant or a household member is declared (or found by the registry) to "
        "be a close relative of a caseworker or committee member; a filing must follow before "
        "approval (APP-11).",
    ),
    _spec(
        "HouseholdIncomeAssessed",
        "application",
        Kind.DECISION,
        _INVESTIGATOR,
        {
            "rule_set_id": _ID,
            "household_treatment": one_of(*HOUSEHOLD_TREATMENTS),
            "covered_person_ids": list_of(_ID, min_len=1, max_len=30, unique=True),
            "monthly_income_fen": FEN,
            "disregards": list_of(
                record({"kind": one_of(*DISREGARD_KINDS), "amount_fen": FEN}), max_len=20
            ),
            "member_categories": list_of(
                record({"person_id": _ID, "category": one_of(*HARDSHIP_CATEGORIES)}), max_len=30
            ),
        },
        "W1.5 (income-tested programmes such as dibao): the covered household's monthly "
        "income, the disregarded rigid expenses and the members' hardship categories; the "
        "entitlement follows from the rule set and the standard in force (N-DB-7, N-DB-9).",
    ),
    _spec(
        "EconomicCheckRecorded",
        "application",
        Kind.FACT,
        _INVESTIGATOR,
        {"sources": list_of(text(100), min_len=1, max_len=20), "result_sha256": SHA256_HEX},
        "W1.5: result of the household economic-status data match.",
    ),
    _spec(
        "HouseholdInvestigationCompleted",
        "application",
        Kind.DECISION,
        _INVESTIGATOR,
        {
            "investigator_actor_ids": list_of(_ID, min_len=1, max_len=5, unique=True),
            "methods": list_of(
                one_of("HOME_VISIT", "NEIGHBOUR_INTERVIEW", "LETTER_EVIDENCE", "DATA_MATCH"),
                min_len=1,
                unique=True,
            ),
            "findings": record(
                {
                    "registered_in_province": boolean,
                    "no_labour_capacity": boolean,
                    "no_income_source": boolean,
                    "no_capable_obligor": boolean,
                    "per_capita_income_fen": FEN,
                    "dependency_level": one_of("FULL", "PARTIAL", "NONE"),
                }
            ),
            "evidence": _HASHES,
        },
        "W1.5: the household investigation (APP-4, APP-5).",
    ),
    _spec(
        "DemocraticAppraisalHeld",
        "application",
        Kind.FACT,
        frozenset({"village_committee_member"}),
        {
            "date": DATE,
            "participants_count": integer(1, 10_000),
            "outcome": one_of("SUPPORT", "OPPOSE", "MIXED"),
            "minutes_sha256": SHA256_HEX,
        },
        "W1.6: the village's democratic appraisal.",
    ),
    _spec(
        "PreliminaryOpinionIssued",
        "application",
        Kind.DECISION,
        _REVIEWER,
        {
            "opinion": one_of("RECOMMEND_APPROVE", "RECOMMEND_REJECT"),
            "proposed_support_mode": nullable(one_of(*SUPPORT_MODES)),
            "proposed_institution_id": nullable(_ID),
            "reasons": list_of(text(500), max_len=50),
        },
        "W1.7: the township's preliminary opinion (APP-6, SOD-1).",
    ),
    _spec(
        "ApplicationForwarded",
        "application",
        Kind.DECISION,
        _REVIEWER,
        {"to_org_id": _ID, "package_sha256": SHA256_HEX, "notice_id": _ID},
        "W1.10: after a clean notice, the case goes to the county (APP-8).",
    ),
    _spec(
        "ApplicationApproved",
        "application",
        Kind.DECISION,
        _APPROVER,
        {
            "support_mode": one_of(*SUPPORT_MODES),
            "institution_id": nullable(_ID),
            "standard_ref": UUID_TEXT,
            "annual_amount_fen": FEN,
            "first_payable_period": PERIOD,
            "dossier_id": _ID,
            "household_treatment": one_of("NORMAL", "SINGLE_PERSON", "WHOLE_HOUSEHOLD"),
            "spot_check_batch_id": _ID,
        },
        "W1.11b: the county confirms (APP-8, APP-10, APP-11, APP-12, APP-14, APP-16, SOD-1/2).",
    ),
    _spec(
        "ApplicationRejected",
        "application",
        Kind.DECISION,
        _APPROVER,
        {"reasons": _REASONS, "spot_check_batch_id": nullable(_ID)},
        "W1.11b: the county rejects, with reasons (APP-13).",
    ),
    _spec(
        "DecisionNotified",
        "application",
        Kind.DECISION,
        _REVIEWER | _CLERK,
        {
            "decision_event_id": UUID_TEXT,
            "recipients": list_of(_ID, min_len=1, max_len=20),
            "channel": one_of("IN_PERSON", "WRITTEN", "POST"),
            "document_sha256": SHA256_HEX,
            "reasons": list_of(text(500), max_len=50),
        },
        "W1.12: written notice of the decision (a rejection carries its reasons, APP-13).",
    ),
    _spec(
        "ApplicationWithdrawn",
        "application",
        Kind.DECISION,
        _CLERK,
        {"reason": text(500)},
        "The applicant withdraws a case that is not yet decided.",
    ),
)

NOTICE_EVENTS = (
    _spec(
        "PublicNoticePosted",
        "notice",
        Kind.DECISION,
        _REVIEWER | frozenset({"village_committee_member", "county_approver"}),
        {
            "notice_id": _ID,
            "kind": one_of(*NOTICE_KINDS),
            "subject_ids": list_of(_ID, min_len=1, max_len=1000, unique=True),
            "location_org_id": _ID,
            "start_date": DATE,
            "end_date": DATE,
            "content_sha256": SHA256_HEX,
        },
        "W1.8 / W1.13 / W5.2: a public notice in the village, community or institution (APP-7).",
    ),
    _spec(
        "ObjectionReceived",
        "notice",
        Kind.FACT,
        _CLERK | _REVIEWER | _APPROVER,
        {
            "objection_id": _ID,
            "subject_id": _ID,
            "received_on": DATE,
            "channel": one_of("IN_PERSON", "WRITTEN", "PHONE", "ONLINE", "ANONYMOUS"),
            "content_sha256": SHA256_HEX,
        },
        "W1.9: somebody objects to a notice (always recorded; a late one is flagged later).",
    ),
    _spec(
        "ObjectionInvestigated",
        "notice",
        Kind.DECISION,
        _INVESTIGATOR | _APPROVER,
        {
            "objection_id": _ID,
            "finding": one_of("UPHELD", "DISMISSED"),
            "summary_sha256": SHA256_HEX,
        },
        "W1.9: the objection is investigated; UPHELD re-opens investigation, opinion and notice.",
    ),
    _spec(
        "PublicNoticeClosed",
        "notice",
        Kind.DECISION,
        _REVIEWER | _APPROVER,
        {"closed_on": DATE},
        "W1.10: the notice period is over.",
    ),
)

SPOT_CHECK_EVENTS = (
    _spec(
        "CountySpotCheckSampleDrawn",
        "spot_check",
        Kind.DECISION,
        frozenset({"county_spot_checker"}),
        {
            "batch_id": _ID,
            "township_org_id": _ID,
            "population_ids": list_of(_ID, min_len=1, max_len=10_000, unique=True),
            "sampled_ids": list_of(_ID, max_len=10_000, unique=True),
            "rng_algorithm": one_of("SPLITMIX64-FISHER-YATES-v1"),
            "rng_seed": integer(0),
            "ratio": RATIO,
        },
        "W1.11a: the county draws a reproducible random sample of forwarded cases (APP-10).",
    ),
    _spec(
        "CountySpotCheckCompleted",
        "spot_check",
        Kind.DECISION,
        frozenset({"county_spot_checker"}),
        {
            "application_id": _ID,
            "result": one_of("CONSISTENT", "INCONSISTENT"),
            "notes_sha256": SHA256_HEX,
        },
        "W1.11a: the county's check of one sampled case (SOD-2).",
    ),
)

ENROLMENT_EVENTS = (
    _spec(
        "PaymentAccountRegistered",
        "payment_account",
        Kind.DECISION,
        _CLERK | _FINANCE,
        {
            "account_id": _ID,
            "channel": one_of(*PAYMENT_CHANNELS),
            "holder_person_id": nullable(_ID),
            "holder_org_id": nullable(_ID),
            "bank_org_id": _ID,
            "account_ref_hmac": SHA256_HEX,
        },
        "W1.14: a 一卡通 account of a person, or an institution's account (PAY-4).",
    ),
    _spec(
        "BeneficiaryEnrolled",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {
            "enrolment_id": _ID,
            "application_id": _ID,
            "person_id": _ID,
            "household_id": _ID,
            "programme_code": _PROGRAMME_CODE,
            "support_mode": one_of(*SUPPORT_MODES),
            "institution_id": nullable(_ID),
            "annual_amount_fen": FEN,
            "standard_ref": UUID_TEXT,
            "first_payable_period": PERIOD,
            "payment_account_id": _ID,
            "dossier_id": _ID,
        },
        "W1.13: the approved applicant is enrolled with a payment account.",
    ),
    _spec(
        "InstitutionResidencyRecorded",
        "residency",
        Kind.FACT,
        frozenset({"care_institution_manager"}),
        {
            "institution_id": _ID,
            "person_id": _ID,
            "admitted_on": DATE,
            "discharged_on": nullable(DATE),
            "bed_id": nullable(_ID),
        },
        "A care institution records a resident's admission or discharge.",
    ),
    _spec(
        "TerminationProposed",
        "enrolment",
        Kind.DECISION,
        _REVIEWER | _APPROVER,
        {
            "reason_code": one_of(*TERMINATION_REASONS),
            "evidence": _HASHES,
            "death_date": nullable(DATE),
        },
        "W5.1: termination is proposed after investigating a report.",
    ),
    _spec(
        "TerminationDecided",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {"effective_period": PERIOD, "reasons": _REASONS, "notice_id": nullable(_ID)},
        "W5.4: the county terminates from the next month (TRM-1, TRM-2).",
    ),
    _spec(
        "TerminationWithdrawn",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {"reason": text(500)},
        "W5.4: the proposal is withdrawn (for example after an upheld objection).",
    ),
    _spec(
        "ReferralMade",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {"to_programme_code": _PROGRAMME_CODE, "new_application_id": _ID},
        "W5.6: a terminated person who still qualifies elsewhere is referred.",
    ),
)

_ENROLMENT_OFFICIALS = _CLERK | _INVESTIGATOR | _REVIEWER | _APPROVER
_REPORTERS = _ENROLMENT_OFFICIALS | frozenset(
    {"village_committee_member", "care_institution_manager"}
)
_SPELL = {"reason": text(500), "from_period": PERIOD, "to_period": nullable(PERIOD)}

DYNAMIC_EVENTS = (
    _spec(
        "CircumstanceChangeReported",
        "enrolment",
        Kind.FACT,
        _REPORTERS,
        {
            "change_type": one_of(
                "INCOME",
                "RESIDENCE",
                "DEATH",
                "ENTERED_INSTITUTION",
                "LEFT_INSTITUTION",
                "OBLIGOR_CHANGE",
                "OTHER",
            ),
            "observed_on": DATE,
            "evidence": _HASHES,
        },
        "W3.1: a change in a beneficiary's circumstances was reported (kept for the "
        "应退必退 findings, §7.1).",
    ),
    _spec(
        "PeriodicReviewCompleted",
        "enrolment",
        Kind.DECISION,
        _INVESTIGATOR | frozenset({"county_spot_checker"}),
        {
            "review_type": one_of("ANNUAL_SPOT_CHECK", "ROLL_REVIEW", "INCOME_RECHECK"),
            "outcome": one_of("CONTINUE", "ADJUST", "PROPOSE_TERMINATION"),
        },
        "W3.2: the annual (or other) re-verification of an enrolment.",
    ),
    _spec(
        "RollReviewedByVillageAssembly",
        "roll_review",
        Kind.FACT,
        frozenset({"village_committee_member"}),
        {
            "review_id": _ID,
            "village_org_id": _ID,
            "programme": _PROGRAMME_CODE,
            "meeting_date": DATE,
            "flagged_enrolment_ids": _IDS,
            "minutes_sha256": SHA256_HEX,
        },
        "W3.3: the villagers' representative assembly reviewed the re-announced roll and "
        "flagged ineligible enrolments (N-DB-10).",
    ),
    _spec(
        "SupportModeChanged",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {
            "from": one_of(*SUPPORT_MODES),
            "to": one_of(*SUPPORT_MODES),
            "institution_id": nullable(_ID),
            "effective_period": PERIOD,
            "payment_account_id": _ID,
        },
        "W3.4: the person moves between home and institutional support; payments follow the "
        "new channel and account from the effective period (PAY-4).",
    ),
    _spec(
        "CareDependencyAssessed",
        "enrolment",
        Kind.DECISION,
        _APPROVER | _INVESTIGATOR,
        {"level": one_of("FULL", "PARTIAL", "NONE"), "effective_period": PERIOD},
        "W3.5: the person's level of dependency (care tier) from a month on.",
    ),
    _spec(
        "EntitlementRevalued",
        "enrolment",
        Kind.SYSTEM,
        frozenset({"ledger"}),
        {
            "standard_event_id": UUID_TEXT,
            "from_fen": FEN,
            "to_fen": FEN,
            "effective_period": PERIOD,
        },
        "W3.6: the annual entitlement follows a newly published standard (amounts are annual, "
        "like BeneficiaryEnrolled.annual_amount_fen).",
    ),
    _spec(
        "EntitlementAdjusted",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {
            "reason": one_of("CLASSIFIED_ASSISTANCE", "INCOME_CHANGE", "CORRECTION"),
            "amount_fen": FEN,
            "effective_period": PERIOD,
            "evidence": _HASHES,
        },
        "W3.7: the county sets a new annual entitlement from a month on (分类施保, a "
        "change of income, a correction).",
    ),
    _spec(
        "IncomeAboveStandardDetermined",
        "enrolment",
        Kind.DECISION,
        _INVESTIGATOR,
        {"determined_at": DATE, "per_capita_income_fen": FEN, "standard_fen": FEN},
        "W4.1: the household's monthly per-capita income is above the monthly dibao standard.",
    ),
    _spec(
        "GradualExitStarted",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {"first_period": PERIOD, "last_period": PERIOD},
        "W4.2: 12 more payable months from the month after the determination (TRM-4).",
    ),
    _spec(
        "VoluntaryExitGranted",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        {"months": integer(1, 12), "amount_fen": FEN},
        "W4.4: a beneficiary who asks to leave gets 1 to 3 months of the monthly amount "
        "(TRM-5); the termination (reason VOLUNTARY) follows.",
    ),
    _spec(
        "BeneficiarySuspended",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        dict(_SPELL),
        "W3: payments are suspended from a month on (until to_period, or until reinstated); "
        "suspended months are not payable (PAY-1).",
    ),
    _spec(
        "BeneficiaryReinstated",
        "enrolment",
        Kind.DECISION,
        _APPROVER,
        dict(_SPELL),
        "W3: a suspended beneficiary is payable again from from_period.",
    ),
)

FUND_EVENTS = (
    _spec(
        "FundAccountOpened",
        "fund_account",
        Kind.DECISION,
        _FINANCE,
        {
            "fund_account_id": _ID,
            "owner_org_id": _ID,
            "bank_account_ref_hmac": SHA256_HEX,
            "ledger_id": _ID,
            "programme_codes": list_of(_PROGRAMME_CODE, min_len=1, unique=True),
            "purposes": list_of(one_of(*FUND_PURPOSES), min_len=1, unique=True),
            "fiscal_year": integer(2000, 2100),
        },
        "W8.1: a dedicated account and segregated ledger for one earmark (FUND-5).",
    ),
    _spec(
        "FundAppropriated",
        "fund_account",
        Kind.DECISION,
        _FINANCE,
        {
            "appropriation_id": _ID,
            "source": one_of(*FUND_SOURCES),
            "amount_fen": integer(1),
            "document_ref": text(200),
            "is_matching_fund": boolean,
        },
        "W8.2: money appropriated to the account by a source (budget level, lottery, …).",
    ),
    _spec(
        "FundReceived",
        "fund_account",
        Kind.FACT,
        _FINANCE | _BANK,
        {"appropriation_id": _ID, "amount_fen": integer(1), "value_date": DATE},
        "W8.4: appropriated money actually arrives in the account.",
    ),
    _spec(
        "FundTransferred",
        "fund_account",
        Kind.DECISION,
        _FINANCE,
        {
            "transfer_id": _ID,
            "to_fund_account_id": _ID,
            "amount_fen": integer(1),
            "purpose": one_of(*FUND_PURPOSES),
            "reason": text(500),
        },
        "W8.5: money moves to another dedicated account with a compatible earmark (FUND-3).",
    ),
    _spec(
        "FundExpenditureAuthorised",
        "fund_account",
        Kind.DECISION,
        _FINANCE | frozenset({"care_institution_manager"}),
        {
            "expenditure_id": _ID,
            "purpose": one_of(*FUND_PURPOSES),
            "payee_org_id": _ID,
            "amount_fen": integer(1),
            "invoice_sha256": SHA256_HEX,
        },
        "W8.6: a non-payroll expenditure within the earmark (FUND-1, FUND-2, SOD-5).",
    ),
    _spec(
        "FundExpenditureSettled",
        "fund_account",
        Kind.FACT,
        _FINANCE | _BANK,
        {"expenditure_id": _ID, "amount_fen": integer(1), "value_date": DATE},
        "W8.6: the bank paid an authorised expenditure.",
    ),
    _spec(
        "FundReturnedToTreasury",
        "fund_account",
        Kind.DECISION,
        _FINANCE,
        {"amount_fen": integer(1), "reason": text(500)},
        "W8.9: unused money goes back to the treasury (FUND-1).",
    ),
)

PAYMENT_EVENTS = (
    _spec(
        "PaymentBatchPrepared",
        "payment_batch",
        Kind.DECISION,
        frozenset({"payment_preparer"}),
        {
            "batch_id": _ID,
            "programme_code": _PROGRAMME_CODE,
            "admin_unit_id": _ID,
            "period": PERIOD,
            "fund_account_id": _ID,
            "lines": list_of(
                record(
                    {
                        "line_id": _ID,
                        "enrolment_id": _ID,
                        "person_id": _ID,
                        "component": one_of(*COMPONENTS),
                        "amount_fen": integer(1),
                        "channel": one_of(*PAYMENT_CHANNELS),
                        "account_id": _ID,
                    }
                ),
                min_len=1,
                max_len=20_000,
            ),
            "total_fen": FEN,
        },
        "W2.1: the payment roll for one period (PAY-1 … PAY-7).",
    ),
    _spec(
        "PaymentBatchApproved",
        "payment_batch",
        Kind.DECISION,
        frozenset({"payment_approver"}),
        {"approved_on": DATE},
        "W2.2: approval commits the batch total on the fund account (SOD-5, FUND-1, FUND-2).",
    ),
    _spec(
        "PaymentBatchCancelled",
        "payment_batch",
        Kind.DECISION,
        frozenset({"payment_preparer", "payment_approver"}),
        {"reason": text(500)},
        "W2: a batch that was prepared but not approved is withdrawn; its lines no longer "
        "hold their periods (PAY-6), so a corrected batch can be prepared.",
    ),
    _spec(
        "PaymentBatchSubmitted",
        "payment_batch",
        Kind.DECISION,
        _FINANCE,
        {"bank_org_id": _ID, "file_sha256": SHA256_HEX},
        "W2.3: the approved batch goes to the bank (or the institution is paid).",
    ),
    _spec(
        "PaymentSettled",
        "payment_batch",
        Kind.FACT,
        _BANK,
        {"line_id": _ID, "amount_fen": integer(1), "value_date": DATE, "bank_ref": text(100)},
        "W2.4: the bank paid a line (a fact: always recorded).",
    ),
    _spec(
        "PaymentFailed",
        "payment_batch",
        Kind.FACT,
        _BANK,
        {"line_id": _ID, "reason": text(500)},
        "W2.4: the bank could not pay a line; the commitment is released.",
    ),
    _spec(
        "PaymentReturned",
        "payment_batch",
        Kind.FACT,
        _BANK,
        {"line_id": _ID, "amount_fen": integer(1), "reason": text(500)},
        "W2.4: a settled payment came back to the account.",
    ),
    _spec(
        "PaymentLineReissued",
        "payment_batch",
        Kind.DECISION,
        frozenset({"payment_preparer"}),
        {"original_line_id": _ID, "new_line_id": _ID, "account_id": _ID},
        "W2.5: a failed line is paid again (same invariants as the batch; commits funds).",
    ),
)

PERSON_EVENTS = (
    _spec(
        "PersonIdentityErased",
        "person",
        Kind.DECISION,
        frozenset({"registry_admin"}),
        {"person_id": _ID, "reason": one_of("RETENTION_EXPIRED", "LEGAL_REQUEST", "ERROR")},
        "§6.7: the readable identity of a person was destroyed in the identity registry; the "
        "log keeps only pseudonymous ids and keyed hashes, so every proof still holds.",
    ),
)

PROGRAMME_EVENTS: tuple[EventSpec, ...] = (
    CONFIG_EVENTS
    + RULE_SET_EVENTS
    + APPLICATION_EVENTS
    + NOTICE_EVENTS
    + SPOT_CHECK_EVENTS
    + ENROLMENT_EVENTS
    + DYNAMIC_EVENTS
    + FUND_EVENTS
    + PAYMENT_EVENTS
    + PERSON_EVENTS
)
