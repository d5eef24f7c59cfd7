"""Synthetic but valid programme histories, for tests and the benchmark.

:class:`Scenario` writes envelopes in a consistent order (application before enrolment,
proposal before decision, approval before settlement) and tracks stream versions, so the
log it produces is one the ledger could have accepted. It also produces the *fact* cases the
projections must survive: settlements of unknown lines and of lines never approved.
Envelopes are signed when a signer is given; unsigned ones carry a placeholder signature
(only for in-memory folds, which never check signatures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ledger.client import EnvelopeSigner

_SHA = "0" * 64
_UNSIGNED = "AA=="


@dataclass
class Scenario:
    """Builds envelopes (canonical JSON bytes) for a programme history."""

    signer: EnvelopeSigner | None = None
    seed: int = 0
    programme: str = "TEKUN"
    envelopes: list[bytes] = field(default_factory=list)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    enrolments: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    committed_lines: list[str] = field(default_factory=list)
    settled_lines: list[str] = field(default_factory=list)
    failed_lines: list[str] = field(default_factory=list)
    pending_batches: list[str] = field(default_factory=list)
    expenditures: list[str] = field(default_factory=list)
    counter: int = 0

    # ------------------------------------------------------------------ envelopes

    def emit(
        self, event_type: str, stream_type: str, stream_id: str, payload: dict[str, Any]
    ) -> bytes:
        """Append one envelope on ``stream_type/stream_id`` at its next version."""
        key = (stream_type, stream_id)
        version = self.versions.get(key, 0)
        self.versions[key] = version + 1
        self.counter += 1
        fields: dict[str, Any] = {
            "event_type": event_type,
            "stream_type": stream_type,
            "stream_id": stream_id,
            "expected_version": version,
            "payload": payload,
            "event_id": _uuid(self.counter, self.seed),
            "occurred_at": "2024-01-01T00:00:00+08:00",
        }
        if self.signer is not None:
            raw = self.signer.sign(**fields)
        else:
            env = {
                **fields,
                "protocol": "ledger/v1",
                "schema_version": 1,
                "actor": {"actor_id": "sim", "role": "sim", "org_id": "city"},
                "key_id": _SHA,
                "causation_id": None,
                "correlation_id": None,
                "attachments": [],
                "signature": _UNSIGNED,
            }
            raw = orjson.dumps(env, option=orjson.OPT_SORT_KEYS)
        self.envelopes.append(raw)
        return raw

    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.seed}-{self.counter:08d}"

    # ------------------------------------------------------------------ roster

    def define_programme(self, frequency: str = "MONTHLY") -> None:
        self.emit(
            "ProgrammeDefined",
            "programme",
            self.programme,
            {"programme_code": self.programme, "payment_frequency": frequency},
        )

    def enrol(
        self, township: str = "town-1", village: str = "village-1", amount: int = 156_000
    ) -> str:
        app_id, enrolment_id = self._id("app"), self._id("enr")
        self.emit(
            "ApplicationSubmitted",
            "application",
            app_id,
            {
                "application_id": app_id,
                "programme_code": self.programme,
                "household_id": f"hh-{app_id}",
                "township_org_id": township,
                "residence_org_id": village,
            },
        )
        self.emit(
            "BeneficiaryEnrolled",
            "enrolment",
            enrolment_id,
            {
                "enrolment_id": enrolment_id,
                "application_id": app_id,
                "person_id": f"p-{enrolment_id}",
                "household_id": f"hh-{app_id}",
                "programme_code": self.programme,
                "support_mode": "DISPERSED",
                "institution_id": None,
                "annual_amount_fen": amount,
                "standard_ref": "00000000-0000-7000-8000-000000000000",
                "first_payable_period": "2024-02",
                "payment_account_id": f"acct-{enrolment_id}",
                "dossier_id": f"d-{enrolment_id}",
            },
        )
        self.enrolments.append(enrolment_id)
        self.status[enrolment_id] = "ACTIVE"
        return enrolment_id

    def propose(
        self, enrolment_id: str, reason: str = "NO_LONGER_ELIGIBLE", death: str | None = None
    ) -> None:
        payload: dict[str, Any] = {"reason_code": reason, "evidence": [], "death_date": death}
        self.emit("TerminationProposed", "enrolment", enrolment_id, payload)
        self.status[enrolment_id] = "TERMINATION_PENDING"

    def withdraw(self, enrolment_id: str) -> None:
        self.emit("TerminationWithdrawn", "enrolment", enrolment_id, {"reason": "objection upheld"})
        self.status[enrolment_id] = "ACTIVE"

    def decide(self, enrolment_id: str, effective: str = "2024-06") -> None:
        payload = {"effective_period": effective, "reasons": ["r"], "notice_id": None}
        self.emit("TerminationDecided", "enrolment", enrolment_id, payload)
        self.status[enrolment_id] = "TERMINATED"

    def refer(self, enrolment_id: str, to: str = "DIBAO_RURAL") -> None:
        payload = {"to_programme_code": to, "new_application_id": self._id("app")}
        self.emit("ReferralMade", "enrolment", enrolment_id, payload)

    # ------------------------------------------------------------------ funds

    def open_account(self) -> str:
        account = self._id("fund")
        self.emit(
            "FundAccountOpened",
            "fund_account",
            account,
            {
                "fund_account_id": account,
                "owner_org_id": "county-a",
                "bank_account_ref_hmac": _SHA,
                "ledger_id": "L1",
                "programme_codes": [self.programme, "WUBAO"],
                "purposes": ["BASIC_LIVING", "INSTITUTION_MANAGEMENT"],
                "fiscal_year": 2024,
            },
        )
        self.accounts.append(account)
        return account

    def appropriate(
        self, account: str, amount: int, source: str = "PROVINCIAL_SUBSIDY", matching: bool = False
    ) -> str:
        appropriation = self._id("appr")
        self.emit(
            "FundAppropriated",
            "fund_account",
            account,
            {
                "appropriation_id": appropriation,
                "source": source,
                "amount_fen": amount,
                "document_ref": "doc",
                "is_matching_fund": matching,
            },
        )
        return appropriation

    def receive(self, account: str, amount: int, appropriation: str = "appr-x") -> None:
        payload = {
            "appropriation_id": appropriation,
            "amount_fen": amount,
            "value_date": "2024-01-05",
        }
        self.emit("FundReceived", "fund_account", account, payload)

    def transfer(self, source: str, target: str, amount: int) -> None:
        self.emit(
            "FundTransferred",
            "fund_account",
            source,
            {
                "transfer_id": self._id("tr"),
                "to_fund_account_id": target,
                "amount_fen": amount,
                "purpose": "BASIC_LIVING",
                "reason": "centralised support",
            },
        )

    def expend(self, account: str, amount: int) -> str:
        expenditure = self._id("exp")
        self.emit(
            "FundExpenditureAuthorised",
            "fund_account",
            account,
            {
                "expenditure_id": expenditure,
                "purpose": "INSTITUTION_MANAGEMENT",
                "payee_org_id": "inst-1",
                "amount_fen": amount,
                "invoice_sha256": _SHA,
            },
        )
        self.expenditures.append(expenditure)
        return expenditure

    def settle_expenditure(self, account: str, expenditure: str, amount: int) -> None:
        payload = {"expenditure_id": expenditure, "amount_fen": amount, "value_date": "2024-02-01"}
        self.emit("FundExpenditureSettled", "fund_account", account, payload)

    def return_to_treasury(self, account: str, amount: int) -> None:
        self.emit(
            "FundReturnedToTreasury",
            "fund_account",
            account,
            {"amount_fen": amount, "reason": "unused"},
        )

    # ------------------------------------------------------------------ payments

    def prepare(
        self, account: str, enrolments: list[str], amount: int = 13_000
    ) -> tuple[str, list[str]]:
        batch = self._id("batch")
        lines = [
            {
                "line_id": self._id("line"),
                "enrolment_id": e,
                "person_id": f"p-{e}",
                "component": "BASIC_LIVING",
                "amount_fen": amount,
                "channel": "ONE_CARD",
                "account_id": f"acct-{e}",
            }
            for e in enrolments
        ]
        self.emit(
            "PaymentBatchPrepared",
            "payment_batch",
            batch,
            {
                "batch_id": batch,
                "programme_code": self.programme,
                "admin_unit_id": "county-a",
                "period": "2024-03",
                "fund_account_id": account,
                "lines": lines,
                "total_fen": amount * len(lines),
            },
        )
        self.pending_batches.append(batch)
        return batch, [str(line["line_id"]) for line in lines]

    def approve(self, batch: str, line_ids: list[str]) -> None:
        self.emit("PaymentBatchApproved", "payment_batch", batch, {"approved_on": "2024-03-02"})
        self.committed_lines += [f"{batch}|{line}" for line in line_ids]

    def settle(self, batch: str, line_id: str, amount: int = 13_000) -> None:
        payload = {
            "line_id": line_id,
            "amount_fen": amount,
            "value_date": "2024-03-05",
            "bank_ref": "b",
        }
        self.emit("PaymentSettled", "payment_batch", batch, payload)

    def fail(self, batch: str, line_id: str) -> None:
        self.emit(
            "PaymentFailed",
            "payment_batch",
            batch,
            {"line_id": line_id, "reason": "closed account"},
        )

    def returned(self, batch: str, line_id: str, amount: int = 13_000) -> None:
        payload = {"line_id": line_id, "amount_fen": amount, "reason": "returned by bank"}
        self.emit("PaymentReturned", "payment_batch", batch, payload)

    def reissue(self, batch: str, original: str) -> str:
        new_line = self._id("line")
        payload = {"original_line_id": original, "new_line_id": new_line, "account_id": "acct-new"}
        self.emit("PaymentLineReissued", "payment_batch", batch, payload)
        return new_line

    # ------------------------------------------------------------------ random steps

    def random_step(self, op: int, a: int, b: int) -> None:
        """One random but consistent step; ``op`` picks it, ``a`` and ``b`` its arguments.

        A step whose subject does not exist yet (no enrolment, no committed line) enrols
        or opens an account instead, so every draw yields at least one event.
        """
        if not self.enrolments:
            self._enrol(a, b)
        elif not self.accounts:
            self._open(a, b)
        else:
            steps = (
                self._enrol,
                self._open,
                self._terminate,
                self._refer,
                self._appropriate,
                self._receive,
                self._transfer,
                self._expend,
                self._settle_expenditure,
                self._batch,
                self._settle,
                self._settle,
                self._fail,
                self._return,
                self._reissue,
                self._unknown_fact,
                self._treasury,
            )
            steps[op % len(steps)](a, b)

    @staticmethod
    def _pick(items: list[str], a: int) -> str:
        return items[a % len(items)]

    def _enrol(self, a: int, b: int) -> None:
        self.enrol(township=f"town-{a % 3}", village=f"village-{b % 5}", amount=_amount(b) * 12)

    def _open(self, _a: int, b: int) -> None:
        account = self.open_account()
        self.receive(account, _amount(b) * 100, self.appropriate(account, _amount(b) * 100))

    def _terminate(self, a: int, b: int) -> None:
        enrolment_id = self._pick(self.enrolments, a)
        state = self.status[enrolment_id]
        if state == "ACTIVE":
            death = ("DECEASED", "2024-03-10") if b % 3 == 0 else ()
            self.propose(enrolment_id, *death)
        elif state == "TERMINATION_PENDING":
            (self.withdraw if b % 5 < 2 else self.decide)(enrolment_id)

    def _refer(self, a: int, _b: int) -> None:
        self.refer(self._pick(self.enrolments, a))

    def _appropriate(self, a: int, b: int) -> None:
        source = ("CENTRAL_SUBSIDY", "COUNTY_BUDGET")[b % 2]
        self.appropriate(self._pick(self.accounts, a), _amount(b), source, matching=b % 3 == 0)

    def _receive(self, a: int, b: int) -> None:
        self.receive(self._pick(self.accounts, a), _amount(b))

    def _transfer(self, a: int, b: int) -> None:
        self.transfer(self._pick(self.accounts, a), self._pick(self.accounts, b), _amount(b))

    def _expend(self, a: int, b: int) -> None:
        self.expend(self._pick(self.accounts, a), _amount(b))

    def _settle_expenditure(self, a: int, b: int) -> None:
        exp = self._pick(self.expenditures, a) if self.expenditures else f"exp-unknown-{a}"
        self.settle_expenditure(self._pick(self.accounts, b), exp, _amount(b))

    def _batch(self, a: int, b: int) -> None:
        chosen = [self.enrolments[(a + i) % len(self.enrolments)] for i in range(1 + b % 4)]
        batch, lines = self.prepare(self._pick(self.accounts, a), chosen, _amount(b))
        if b % 4:
            self.approve(batch, lines)

    def _settle(self, a: int, b: int) -> None:
        if self.committed_lines:
            batch, line = self._pick(self.committed_lines, a).split("|")
            self.settle(batch, line, _amount(b))
            self.settled_lines.append(f"{batch}|{line}")

    def _fail(self, a: int, _b: int) -> None:
        if self.committed_lines:
            batch, line = self._pick(self.committed_lines, a).split("|")
            self.fail(batch, line)
            self.failed_lines.append(f"{batch}|{line}")

    def _return(self, a: int, _b: int) -> None:
        if self.settled_lines:
            batch, line = self._pick(self.settled_lines, a).split("|")
            self.returned(batch, line)

    def _reissue(self, a: int, _b: int) -> None:
        if self.failed_lines:
            entry = self._pick(self.failed_lines, a)
            self.failed_lines.remove(entry)
            batch, line = entry.split("|")
            self.committed_lines.append(f"{batch}|{self.reissue(batch, line)}")

    def _unknown_fact(self, a: int, b: int) -> None:
        # A fact about things the ledger never saw: it must be recorded, never crash.
        self.settle(f"batch-unknown-{a}", f"line-unknown-{b}", _amount(b))

    def _treasury(self, a: int, b: int) -> None:
        self.return_to_treasury(self._pick(self.accounts, a), _amount(b) % 1000 + 1)


def _amount(b: int) -> int:
    return 100 + b % 50_000


def _uuid(counter: int, seed: int) -> str:
    """A deterministic UUIDv7-shaped id (the benchmark writes many; ids must not collide)."""
    value = (seed & 0xFFFF_FFFF) << 64 | counter
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-7{text[13:16]}-8{text[17:20]}-{text[20:32]}"
