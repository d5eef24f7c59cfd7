"""Builders for the fund (W8) and payment (W2) rule tests.

:class:`MoneyLedger` decides and applies schema-valid events against a :class:`DomainState`
with a :class:`Rules` built from **only** ``funds`` and ``payments``: the lifecycle events
(programme, application, enrolment, termination, account, residency) are folded by the
payment module's own applies, so these tests do not depend on the lifecycle modules.

The organisation tree of :class:`FakeDirectory`::

    city
    ├── county-1
    │   ├── township-1 ── village-1
    │   ├── township-2
    │   ├── inst-1   (care institution)
    │   └── inst-2   (care institution)
    ├── county-2
    └── bank-1
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ledger.domain import funds, payments
from ledger.domain.catalogue import validate_payload
from ledger.domain.fund_events import FUND_EXTRA_EVENTS
from ledger.domain.model import DomainEvent, DomainState, Rules
from ledger.domain.periods import Period, period_amount_fen
from ledger.domain.programme_events import PROGRAMME_EVENTS
from ledger.errors import RuleViolation

CST = timezone(timedelta(hours=8))
SPECS = {spec.event_type: spec for spec in PROGRAMME_EVENTS + FUND_EXTRA_EVENTS}
HASH = "ab" * 32

ORG_PARENTS: dict[str, str | None] = {
    "city": None,
    "county-1": "city",
    "township-1": "county-1",
    "village-1": "township-1",
    "township-2": "county-1",
    "inst-1": "county-1",
    "inst-2": "county-1",
    "county-2": "city",
    "bank-1": "city",
}
ORG_KINDS = {"inst-1": "CARE_INSTITUTION", "inst-2": "CARE_INSTITUTION", "bank-1": "BANK"}


@dataclass(frozen=True)
class Actor:
    org_id: str
    person: str
    role: str


ACTORS = {
    "registry": Actor("city", "p-registry", "registry_admin"),
    "clerk": Actor("township-1", "p-clerk", "township_intake_clerk"),
    "approver-county": Actor("county-1", "p-county-approver", "county_approver"),
    "finance": Actor("county-1", "p-finance", "finance_officer"),
    "finance-t2": Actor("township-2", "p-finance-t2", "finance_officer"),
    "inst-manager": Actor("inst-1", "p-inst-manager", "care_institution_manager"),
    "preparer": Actor("county-1", "p-preparer", "payment_preparer"),
    "preparer-t2": Actor("township-2", "p-preparer-t2", "payment_preparer"),
    "pay-approver": Actor("county-1", "p-pay-approver", "payment_approver"),
    # A second account of the preparer's person: SOD-5 must see through it.
    "preparer-as-approver": Actor("county-1", "p-preparer", "payment_approver"),
    "bank": Actor("bank-1", "p-bank", "disbursement_agent"),
    "gov": Actor("county-1", "p-gov", "government_approver"),
    "gov-t2": Actor("township-2", "p-gov-t2", "government_approver"),
}


class FakeDirectory:
    """The organisation tree and actors above (implements ``model.Directory``)."""

    def org_exists(self, org_id: str) -> bool:
        return org_id in ORG_PARENTS

    def org_kind(self, org_id: str) -> str | None:
        return ORG_KINDS.get(org_id, "ADMIN_UNIT") if org_id in ORG_PARENTS else None

    def org_parent(self, org_id: str) -> str | None:
        return ORG_PARENTS.get(org_id)

    def is_within(self, org_id: str, ancestor_id: str) -> bool:
        current: str | None = org_id
        while current is not None:
            if current == ancestor_id:
                return True
            current = ORG_PARENTS.get(current)
        return False

    def actor_org(self, actor_id: str) -> str | None:
        return ACTORS[actor_id].org_id

    def actor_person(self, actor_id: str) -> str:
        return ACTORS[actor_id].person


@contextmanager
def refused(code: str) -> Iterator[pytest.ExceptionInfo[RuleViolation]]:
    """Expect a refusal with ``code`` (the invariant ID)."""
    with pytest.raises(RuleViolation) as caught:
        yield caught
    assert caught.value.code == code, f"expected {code}, got {caught.value}"


@dataclass(frozen=True)
class Enrolled:
    """What a test needs to write payment lines for a beneficiary."""

    enrolment_id: str
    person_id: str
    programme_code: str
    account_id: str
    channel: str
    annual_amount_fen: int


@dataclass
class MoneyLedger:
    """Decides and applies events, assigning stream versions and log positions."""

    directory: FakeDirectory = field(default_factory=FakeDirectory)
    state: DomainState = field(default_factory=DomainState)
    rules: Rules = field(default_factory=Rules)
    occurred_at: datetime = datetime(2024, 1, 5, 9, 0, tzinfo=CST)
    accepted: list[DomainEvent] = field(default_factory=list)
    """Every event decided and applied, in log order (to fold projections over)."""
    _versions: dict[tuple[str, str], int] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        funds.register(self.rules)
        payments.register(self.rules)

    # -- the factory -------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        stream_id: str,
        payload: Mapping[str, Any],
        *,
        actor: str,
        validate: bool = True,
    ) -> DomainEvent:
        """Decide, then apply ``event_type``; a refusal leaves the state untouched."""
        spec = SPECS[event_type]
        if validate:
            validate_payload(spec, payload)
        key = (spec.stream_type, stream_id)
        event = DomainEvent(
            event_id=str(uuid.UUID(int=next(self._ids))),
            event_type=event_type,
            stream_type=spec.stream_type,
            stream_id=stream_id,
            version=self._versions.get(key, 0) + 1,
            position=self.state.position,
            occurred_at=self.occurred_at,
            actor_id=actor,
            role=ACTORS[actor].role,
            org_id=ACTORS[actor].org_id,
            payload=dict(payload),
        )
        self.state.begin()
        try:
            self.rules.decide(self.state, self.directory, event)
            self.rules.apply(self.state, event)
        except BaseException:
            self.state.rollback()
            raise
        self.state.commit(self.state.position + 1)
        self._versions[key] = event.version
        self.accepted.append(event)
        return event

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):05d}"

    # -- lifecycle (folded by the payment module) ---------------------------------------

    def define_programme(
        self, code: str, frequency: str = "MONTHLY", exclusive_with: tuple[str, ...] = ()
    ) -> None:
        self.emit(
            "ProgrammeDefined",
            code,
            {
                "programme_code": code,
                "name_zh": "特困人员救助供养",
                "name_en": "Extreme-poverty support",
                "lead_org_id": "city",
                "support_modes": ["DISPERSED", "CENTRALISED"],
                "payment_frequency": frequency,
                "exclusive_with": list(exclusive_with),
                "notice_days": 7,
                "termination_notice_days": 7,
                "investigation_working_days": 10,
                "county_working_days": 10,
                "spot_check_ratio": "3/10",
                "confirmation_level": "COUNTY",
                "democratic_appraisal": "OPTIONAL",
                "mandatory_materials": ["WRITTEN_APPLICATION"],
                "notice_waived_reasons": ["DECEASED", "VOLUNTARY"],
                "min_investigators": 2,
            },
            actor="registry",
        )

    def register_account(
        self,
        account_id: str,
        *,
        channel: str = "ONE_CARD",
        person_id: str | None = None,
        org_id: str | None = None,
    ) -> str:
        self.emit(
            "PaymentAccountRegistered",
            account_id,
            {
                "account_id": account_id,
                "channel": channel,
                "holder_person_id": person_id,
                "holder_org_id": org_id,
                "bank_org_id": "bank-1",
                "account_ref_hmac": HASH,
            },
            actor="clerk",
        )
        return account_id

    def enrol(
        self,
        programme_code: str = "TEKUN",
        *,
        person_id: str | None = None,
        annual_amount_fen: int = 130_000,
        first_payable_period: str = "2024-01",
        township_org_id: str = "township-1",
        institution_id: str | None = None,
    ) -> Enrolled:
        """Submit an application, register the account and enrol; CENTRALISED (with an
        institution id) pays the institution's account and records the residency."""
        person = person_id or self.new_id("person")
        application_id, enrolment_id = self.new_id("app"), self.new_id("enr")
        self._submit_application(application_id, programme_code, person, township_org_id)
        if institution_id is None:
            channel, account = "ONE_CARD", self.register_account(f"card-{person}", person_id=person)
        else:
            channel, account = "INSTITUTION_ACCOUNT", self.institution_account(institution_id)
            self.record_residency(person, institution_id, "2023-06-01")
        self.emit(
            "BeneficiaryEnrolled",
            enrolment_id,
            {
                "enrolment_id": enrolment_id,
                "application_id": application_id,
                "person_id": person,
                "household_id": f"hh-{person}",
                "programme_code": programme_code,
                "support_mode": "DISPERSED" if institution_id is None else "CENTRALISED",
                "institution_id": institution_id,
                "annual_amount_fen": annual_amount_fen,
                "standard_ref": str(uuid.UUID(int=7)),
                "first_payable_period": first_payable_period,
                "payment_account_id": account,
                "dossier_id": f"dossier-{enrolment_id}",
            },
            actor="approver-county",
        )
        return Enrolled(enrolment_id, person, programme_code, account, channel, annual_amount_fen)

    def _submit_application(
        self, application_id: str, programme_code: str, person: str, township_org_id: str
    ) -> None:
        self.emit(
            "ApplicationSubmitted",
            application_id,
            {
                "application_id": application_id,
                "programme_code": programme_code,
                "applicant_person_id": person,
                "applicant_identity_hmac": HASH,
                "household_id": f"hh-{person}",
                "members": [],
                "channel": "IN_PERSON",
                "agent_person_id": None,
                "township_org_id": township_org_id,
                "residence_org_id": "village-1",
                "category": "ELDERLY",
                "health_flags": [],
                "materials": [],
                "obligor_person_ids": [],
                "referral_from_enrolment_id": None,
            },
            actor="clerk",
        )

    def institution_account(self, institution_id: str) -> str:
        account_id = f"acct-{institution_id}"
        if payments.payment_account(self.state, account_id) is None:
            self.register_account(account_id, channel="INSTITUTION_ACCOUNT", org_id=institution_id)
        return account_id

    def record_residency(
        self,
        person_id: str,
        institution_id: str,
        admitted_on: str,
        discharged_on: str | None = None,
    ) -> None:
        self.emit(
            "InstitutionResidencyRecorded",
            person_id,
            {
                "institution_id": institution_id,
                "person_id": person_id,
                "admitted_on": admitted_on,
                "discharged_on": discharged_on,
                "bed_id": None,
            },
            actor="inst-manager",
        )

    def propose_termination(
        self, enrolled: Enrolled, reason: str = "MOVED_AWAY", death_date: str | None = None
    ) -> None:
        self.emit(
            "TerminationProposed",
            enrolled.enrolment_id,
            {"reason_code": reason, "evidence": [], "death_date": death_date},
            actor="approver-county",
        )

    def decide_termination(self, enrolled: Enrolled, effective_period: str) -> None:
        self.emit(
            "TerminationDecided",
            enrolled.enrolment_id,
            {"effective_period": effective_period, "reasons": ["moved"], "notice_id": None},
            actor="approver-county",
        )

    def withdraw_termination(self, enrolled: Enrolled) -> None:
        self.emit(
            "TerminationWithdrawn",
            enrolled.enrolment_id,
            {"reason": "objection upheld"},
            actor="approver-county",
        )

    # -- funds ----------------------------------------------------------------------------

    def open_fund(
        self,
        fund_account_id: str | None = None,
        *,
        owner_org_id: str = "county-1",
        programmes: tuple[str, ...] = ("WUBAO", "TEKUN"),
        purposes: tuple[str, ...] = ("BASIC_LIVING", "INSTITUTION_MANAGEMENT"),
        fiscal_year: int = 2024,
        actor: str = "finance",
    ) -> str:
        account_id = fund_account_id or self.new_id("fund")
        self.emit(
            "FundAccountOpened",
            account_id,
            {
                "fund_account_id": account_id,
                "owner_org_id": owner_org_id,
                "bank_account_ref_hmac": HASH,
                "ledger_id": f"book-{account_id}",
                "programme_codes": list(programmes),
                "purposes": list(purposes),
                "fiscal_year": fiscal_year,
            },
            actor=actor,
        )
        return account_id

    def appropriate(
        self,
        fund_account_id: str,
        amount_fen: int,
        *,
        appropriation_id: str | None = None,
        source: str = "PROVINCIAL_SUBSIDY",
        is_matching_fund: bool = False,
        actor: str = "finance",
        validate: bool = True,
    ) -> str:
        appropriation_id = appropriation_id or self.new_id("approp")
        self.emit(
            "FundAppropriated",
            fund_account_id,
            {
                "appropriation_id": appropriation_id,
                "source": source,
                "amount_fen": amount_fen,
                "document_ref": "caishe-2024-1",
                "is_matching_fund": is_matching_fund,
            },
            actor=actor,
            validate=validate,
        )
        return appropriation_id

    def receive(self, fund_account_id: str, appropriation_id: str, amount_fen: int) -> None:
        self.emit(
            "FundReceived",
            fund_account_id,
            {
                "appropriation_id": appropriation_id,
                "amount_fen": amount_fen,
                "value_date": "2024-01-10",
            },
            actor="bank",
        )

    def fund(self, fund_account_id: str, amount_fen: int) -> None:
        """Appropriate and receive ``amount_fen`` in one go."""
        self.receive(fund_account_id, self.appropriate(fund_account_id, amount_fen), amount_fen)

    def transfer(
        self,
        from_id: str,
        to_id: str,
        amount_fen: int,
        *,
        purpose: str = "BASIC_LIVING",
        transfer_id: str | None = None,
    ) -> None:
        self.emit(
            "FundTransferred",
            from_id,
            {
                "transfer_id": transfer_id or self.new_id("xfer"),
                "to_fund_account_id": to_id,
                "amount_fen": amount_fen,
                "purpose": purpose,
                "reason": "centralised support",
            },
            actor="finance",
        )

    def authorise_expenditure(
        self,
        fund_account_id: str,
        amount_fen: int,
        *,
        purpose: str = "INSTITUTION_MANAGEMENT",
        payee_org_id: str = "inst-1",
        expenditure_id: str | None = None,
        actor: str = "finance",
    ) -> str:
        expenditure_id = expenditure_id or self.new_id("exp")
        self.emit(
            "FundExpenditureAuthorised",
            fund_account_id,
            {
                "expenditure_id": expenditure_id,
                "purpose": purpose,
                "payee_org_id": payee_org_id,
                "amount_fen": amount_fen,
                "invoice_sha256": HASH,
            },
            actor=actor,
        )
        return expenditure_id

    def settle_expenditure(
        self, fund_account_id: str, expenditure_id: str, amount_fen: int
    ) -> None:
        self.emit(
            "FundExpenditureSettled",
            fund_account_id,
            {
                "expenditure_id": expenditure_id,
                "amount_fen": amount_fen,
                "value_date": "2024-03-01",
            },
            actor="bank",
        )

    def return_to_treasury(self, fund_account_id: str, amount_fen: int) -> None:
        self.emit(
            "FundReturnedToTreasury",
            fund_account_id,
            {"amount_fen": amount_fen, "reason": "year-end return"},
            actor="finance",
        )

    def commit_matching(
        self,
        amount_fen: int,
        *,
        admin_unit_id: str = "county-1",
        programme_code: str = "TEKUN",
        year: int = 2024,
        commitment_id: str | None = None,
        stream_id: str | None = None,
        actor: str = "gov",
    ) -> str:
        commitment_id = commitment_id or self.new_id("commit")
        self.emit(
            "MatchingFundCommitted",
            stream_id or admin_unit_id,
            {
                "commitment_id": commitment_id,
                "admin_unit_id": admin_unit_id,
                "programme_code": programme_code,
                "year": year,
                "amount_fen": amount_fen,
                "agreement_id": f"agreement-{admin_unit_id}-{year}",
            },
            actor=actor,
        )
        return commitment_id

    def carry_over(
        self,
        from_id: str,
        to_id: str,
        amount_fen: int,
        *,
        carry_over_id: str | None = None,
        validate: bool = True,
    ) -> DomainEvent:
        return self.emit(
            "FundCarriedOver",
            from_id,
            {
                "carry_over_id": carry_over_id or self.new_id("carry"),
                "to_fund_account_id": to_id,
                "amount_fen": amount_fen,
            },
            actor="finance",
            validate=validate,
        )

    def recover(
        self,
        fund_account_id: str,
        amount_fen: int,
        *,
        cause_event_id: str = "overpayment-1",
        recovery_id: str | None = None,
        actor: str = "finance",
    ) -> str:
        recovery_id = recovery_id or self.new_id("recovery")
        self.emit(
            "FundRecovered",
            fund_account_id,
            {
                "recovery_id": recovery_id,
                "amount_fen": amount_fen,
                "cause_event_id": cause_event_id,
                "reason": "overpayment recovered",
            },
            actor=actor,
        )
        return recovery_id

    def balance(self, fund_account_id: str) -> funds.FundBalance:
        found = funds.fund_balance(self.state, fund_account_id)
        assert found is not None
        return found

    def available(self, fund_account_id: str) -> int:
        return self.balance(fund_account_id).available_fen

    # -- payments -------------------------------------------------------------------------

    def line_for(self, enrolled: Enrolled, period: str, **overrides: Any) -> dict[str, Any]:
        """A correct payment line for ``enrolled`` in ``period`` (fields overridable)."""
        terms = payments.programme(self.state, enrolled.programme_code)
        assert terms is not None
        amount = period_amount_fen(
            enrolled.annual_amount_fen, terms.payment_frequency, Period.parse(period)
        )
        item = {
            "line_id": self.new_id("line"),
            "enrolment_id": enrolled.enrolment_id,
            "person_id": enrolled.person_id,
            "component": "BASIC_LIVING",
            "amount_fen": amount,
            "channel": enrolled.channel,
            "account_id": enrolled.account_id,
        }
        item.update(overrides)
        return item

    def prepare(
        self,
        fund_account_id: str,
        period: str,
        lines: list[dict[str, Any]],
        *,
        programme_code: str = "TEKUN",
        admin_unit_id: str = "county-1",
        batch_id: str | None = None,
        total_fen: int | None = None,
        actor: str = "preparer",
    ) -> str:
        batch_id = batch_id or self.new_id("batch")
        self.emit(
            "PaymentBatchPrepared",
            batch_id,
            {
                "batch_id": batch_id,
                "programme_code": programme_code,
                "admin_unit_id": admin_unit_id,
                "period": period,
                "fund_account_id": fund_account_id,
                "lines": lines,
                "total_fen": sum(i["amount_fen"] for i in lines)
                if total_fen is None
                else total_fen,
            },
            actor=actor,
        )
        return batch_id

    def approve(self, batch_id: str, *, actor: str = "pay-approver") -> None:
        self.emit("PaymentBatchApproved", batch_id, {"approved_on": "2024-01-20"}, actor=actor)

    def submit(self, batch_id: str) -> None:
        self.emit(
            "PaymentBatchSubmitted",
            batch_id,
            {"bank_org_id": "bank-1", "file_sha256": HASH},
            actor="finance",
        )

    def pay(self, fund_account_id: str, period: str, enrolled: list[Enrolled], **kw: Any) -> str:
        """Prepare, approve and submit a correct batch for ``enrolled``."""
        batch_id = self.prepare(
            fund_account_id, period, [self.line_for(e, period) for e in enrolled], **kw
        )
        self.approve(batch_id)
        self.submit(batch_id)
        return batch_id

    def settle(self, batch_id: str, line_id: str, amount_fen: int | None = None) -> None:
        if amount_fen is None:
            found = payments.line(self.state, line_id)
            assert found is not None
            amount_fen = found.amount_fen
        self.emit(
            "PaymentSettled",
            batch_id,
            {
                "line_id": line_id,
                "amount_fen": amount_fen,
                "value_date": "2024-01-25",
                "bank_ref": "b-1",
            },
            actor="bank",
        )

    def settle_batch(self, batch_id: str) -> None:
        for item in payments.batch_lines(self.state, batch_id):
            self.settle(batch_id, item.line_id)

    def fail(self, batch_id: str, line_id: str) -> None:
        self.emit(
            "PaymentFailed", batch_id, {"line_id": line_id, "reason": "card closed"}, actor="bank"
        )

    def return_payment(self, batch_id: str, line_id: str, amount_fen: int) -> None:
        self.emit(
            "PaymentReturned",
            batch_id,
            {"line_id": line_id, "amount_fen": amount_fen, "reason": "account frozen"},
            actor="bank",
        )

    def reissue(
        self, batch_id: str, original_line_id: str, account_id: str, new_line_id: str | None = None
    ) -> str:
        new_line_id = new_line_id or self.new_id("line")
        self.emit(
            "PaymentLineReissued",
            batch_id,
            {
                "original_line_id": original_line_id,
                "new_line_id": new_line_id,
                "account_id": account_id,
            },
            actor="preparer",
        )
        return new_line_id

    def line_ids(self, batch_id: str) -> list[str]:
        return [item.line_id for item in payments.batch_lines(self.state, batch_id)]
