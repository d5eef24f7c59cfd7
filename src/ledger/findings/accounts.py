"""Where settled money went (``domain.md`` §7.3, §7.4): the accounts behind each settled line.

* ``AF-PAY-WRONG-CHANNEL`` — a settled line that does not fit PAY-4: its channel is not the
  one the enrolment's support mode in that period requires (``BeneficiaryEnrolled``, then
  ``SupportModeChanged`` from its effective period); its account is unknown or registered for
  another channel; a one-card account not held by the person paid; an institution account not
  held by the enrolment's institution, or for a person no ``InstitutionResidencyRecorded``
  shows living in that institution during the months the line pays for. One finding per line
  (the first problem found).
* ``AF-PAY-SHARED-ACCOUNT`` — one one-card account receiving settled money for
  ``shared_account_persons`` (default 3 `[I]`) or more persons of different households
  (possible ghost beneficiaries, 套取), or held by a person who is a registered official
  (``ActorRegistered.person_ref``). Institution accounts are shared by design. One finding
  per account.
* ``AF-FUND-HEADCOUNT-MISMATCH`` — an institution paid, for one period, centralised support
  for more persons than its residency records show living there during that period.
  One finding per (institution, period).

A centralised line for a person the institution does not house is both a wrong channel
(the line) and, when it pushes the institution's headcount over, a headcount mismatch (the
institution's month): both findings stand because they name different subjects and
different people must act on them (the paying office; the institution and its funder).

PAY-4 refuses such lines on the append path; the detector re-checks what the bank settled
(§7: "the blocking code itself must be checked").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.domain.model import DomainEvent
from ledger.domain.payments import months_covered
from ledger.domain.periods import Period, parse_date
from ledger.findings.model import Detector, Finding

SHARED_ACCOUNT_PERSONS = 3
"""§7.3 AF-PAY-SHARED-ACCOUNT: "≥3 `[I]` unrelated beneficiaries" into one account."""

ONE_CARD = "ONE_CARD"
INSTITUTION_ACCOUNT = "INSTITUTION_ACCOUNT"
REQUIRED_CHANNEL = {"DISPERSED": ONE_CARD, "CENTRALISED": INSTITUTION_ACCOUNT}
"""PAY-4: the channel each support mode is paid through."""


@dataclass(frozen=True)
class _Account:
    channel: str
    holder_person_id: str | None
    holder_org_id: str | None
    event_id: str


@dataclass
class _PaidLine:
    """A prepared (or reissued) line and the settlements of it."""

    line_id: str
    enrolment_id: str
    person_id: str
    channel: str
    account_id: str
    period: Period
    frequency: str
    admin_unit_id: str
    prepared_event_id: str
    settled_event_ids: list[str] = field(default_factory=list)

    def evidence(self) -> list[str]:
        return [self.prepared_event_id, *self.settled_event_ids]

    def days(self) -> tuple[date, date]:
        """First and last calendar day of the months the line pays for."""
        months = months_covered(self.period, self.frequency)
        after = months[-1].plus(1)
        first = date(months[0].year, months[0].month, 1)
        return first, date(after.year, after.month, 1) - timedelta(days=1)


class AccountIntegrity(Detector):
    """``AF-PAY-WRONG-CHANNEL``, ``AF-PAY-SHARED-ACCOUNT`` and ``AF-FUND-HEADCOUNT-MISMATCH``
    (see module docstring)."""

    name = "account-integrity"
    version = 1
    types = frozenset(
        {
            "ProgrammeDefined",
            "ActorRegistered",
            "SupportModeChanged",
            "PaymentAccountRegistered",
            "InstitutionResidencyRecorded",
            "BeneficiaryEnrolled",
            "PaymentBatchPrepared",
            "PaymentLineReissued",
            "PaymentSettled",
        }
    )

    def __init__(self, shared_account_persons: int = SHARED_ACCOUNT_PERSONS) -> None:
        self.shared_account_persons = shared_account_persons
        self._frequency: dict[str, str] = {}
        self._accounts: dict[str, _Account] = {}
        self._stays: dict[tuple[str, str], dict[date, tuple[date | None, str]]] = {}
        """(person, institution) → admission date → (discharge date, latest event id)."""
        self._household: dict[str, str] = {}
        """person → household (from the enrolments)."""
        self._modes: dict[str, list[tuple[Period, str, str | None, str]]] = {}
        """enrolment → (from period, support mode, institution, event id), oldest first."""
        self._officials: dict[str, str] = {}
        """person → the ``ActorRegistered`` that makes the person an official."""
        self._lines: dict[str, _PaidLine] = {}

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "ProgrammeDefined":
            self._frequency[p["programme_code"]] = p["payment_frequency"]
        elif kind == "PaymentAccountRegistered":
            self._accounts[p["account_id"]] = _Account(
                p["channel"], p["holder_person_id"], p["holder_org_id"], event.event_id
            )
        elif kind == "InstitutionResidencyRecorded":
            discharged = None if p["discharged_on"] is None else parse_date(p["discharged_on"])
            stays = self._stays.setdefault((p["person_id"], p["institution_id"]), {})
            stays[parse_date(p["admitted_on"])] = (discharged, event.event_id)
        elif kind == "BeneficiaryEnrolled":
            self._household[p["person_id"]] = p["household_id"]
            self._modes[p["enrolment_id"]] = [
                (
                    Period.parse(p["first_payable_period"]),
                    p["support_mode"],
                    p["institution_id"],
                    event.event_id,
                )
            ]
        elif kind == "SupportModeChanged":
            self._modes.setdefault(event.stream_id, []).append(
                (Period.parse(p["effective_period"]), p["to"], p["institution_id"], event.event_id)
            )
        elif kind == "ActorRegistered":
            if p["person_ref"] is not None:
                self._officials.setdefault(p["person_ref"], event.event_id)
        elif kind == "PaymentBatchPrepared":
            self._prepared(event)
        elif kind == "PaymentLineReissued":
            original = self._lines.get(p["original_line_id"])
            if original is not None:
                self._lines[p["new_line_id"]] = _PaidLine(
                    p["new_line_id"],
                    original.enrolment_id,
                    original.person_id,
                    original.channel,
                    p["account_id"],
                    original.period,
                    original.frequency,
                    original.admin_unit_id,
                    event.event_id,
                )
        else:
            line = self._lines.get(p["line_id"])
            if line is not None:  # an unknown line is UnauthorisedMoney's
                line.settled_event_ids.append(event.event_id)

    def _prepared(self, event: DomainEvent) -> None:
        p = event.payload
        period = Period.parse(p["period"])
        frequency = self._frequency.get(p["programme_code"], "MONTHLY")
        for line in p["lines"]:
            self._lines[line["line_id"]] = _PaidLine(
                line["line_id"],
                line["enrolment_id"],
                line["person_id"],
                line["channel"],
                line["account_id"],
                period,
                frequency,
                p["admin_unit_id"],
                event.event_id,
            )

    def _settled(self) -> list[_PaidLine]:
        return sorted(
            (x for x in self._lines.values() if x.settled_event_ids), key=lambda x: x.line_id
        )

    def _resident(self, person_id: str, institution_id: str, line: _PaidLine) -> str | None:
        """The residency event showing ``person_id`` in ``institution_id`` during the line's
        months, if any."""
        first, last = line.days()
        stays = self._stays.get((person_id, institution_id), {})
        for admitted, (discharged, event_id) in sorted(stays.items()):
            if admitted <= last and (discharged is None or discharged >= first):
                return event_id
        return None

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock  # paid is paid
        settled = self._settled()
        yield from self._wrong_channel(settled)
        yield from self._shared(settled)
        yield from self._headcount(settled)

    def _mode(self, line: _PaidLine) -> tuple[str, str | None, str] | None:
        """(support mode, institution, event that set them) of the line's enrolment in its
        period, if the enrolment is known."""
        changes = [c for c in self._modes.get(line.enrolment_id, []) if c[0] <= line.period]
        if not changes:
            changes = self._modes.get(line.enrolment_id, [])[:1]
        if not changes:
            return None
        _, mode, institution, event_id = max(changes, key=lambda c: c[0])
        return mode, institution, event_id

    def _channel_problem(self, line: _PaidLine) -> tuple[str, list[str]] | None:
        """Why the line breaks PAY-4, and the events that show it, if it does."""
        mode = self._mode(line)
        if mode is not None and REQUIRED_CHANNEL[mode[0]] != line.channel:
            return f"{mode[0]} support must be paid through {REQUIRED_CHANNEL[mode[0]]}", [mode[2]]
        account = self._accounts.get(line.account_id)
        if account is None:
            return f"account {line.account_id} was never registered", []
        cite = [account.event_id]
        if account.channel != line.channel:
            return f"account {line.account_id} is a {account.channel} account", cite
        if account.channel == ONE_CARD and account.holder_person_id != line.person_id:
            return (
                f"one-card account {line.account_id} is held by "
                f"{account.holder_person_id or account.holder_org_id}, not by {line.person_id}",
                cite,
            )
        if account.channel == INSTITUTION_ACCOUNT:
            return self._institution_problem(line, account, mode)
        return None

    def _institution_problem(
        self, line: _PaidLine, account: _Account, mode: tuple[str, str | None, str] | None
    ) -> tuple[str, list[str]] | None:
        """The centralised half of PAY-4: the enrolment's institution, where the person lived."""
        institution = account.holder_org_id
        if mode is not None and mode[1] is not None and institution != mode[1]:
            return (
                f"institution account {line.account_id} is held by {institution}, not by "
                f"the enrolment's institution {mode[1]}",
                [account.event_id, mode[2]],
            )
        if institution is None or self._resident(line.person_id, institution, line) is None:
            return (
                f"no residency record shows {line.person_id} living in {institution} "
                f"during {line.period}",
                [account.event_id],
            )
        return None

    def _wrong_channel(self, settled: list[_PaidLine]) -> Iterator[Finding]:
        for line in settled:
            problem = self._channel_problem(line)
            if problem is None:
                continue
            why, cite = problem
            yield self.finding(
                "AF-PAY-WRONG-CHANNEL",
                [line.line_id],
                [*cite, *line.evidence()],
                f"line {line.line_id} ({line.channel}, {line.period}) was settled although {why}",
                rule_ref="PAY-4",
                period=str(line.period),
                admin_unit_id=line.admin_unit_id,
            )

    def _shared(self, settled: list[_PaidLine]) -> Iterator[Finding]:
        by_account: dict[str, list[_PaidLine]] = {}
        for line in settled:
            account = self._accounts.get(line.account_id)
            if account is not None and account.channel == ONE_CARD:
                by_account.setdefault(line.account_id, []).append(line)
        for account_id, lines in sorted(by_account.items()):
            account = self._accounts[account_id]
            households = {self._household.get(x.person_id, x.person_id) for x in lines}
            persons = sorted({x.person_id for x in lines})
            holder = account.holder_person_id
            official = None if holder is None else self._officials.get(holder)
            whys = []
            if len(households) >= self.shared_account_persons:
                whys.append(
                    f"received money for {len(persons)} persons of {len(households)} households "
                    f"({', '.join(persons)}); {self.shared_account_persons} or more is a sign of "
                    "ghost beneficiaries"
                )
            if official is not None:
                whys.append(f"is held by {holder}, a registered official")
            if not whys:
                continue
            yield self.finding(
                "AF-PAY-SHARED-ACCOUNT",
                [account_id],
                [
                    account.event_id,
                    *([official] if official else []),
                    *(e for x in lines for e in x.evidence()),
                ],
                f"one-card account {account_id} {'; and '.join(whys)}",
                rule_ref=f"domain.md §7.3 AF-PAY-SHARED-ACCOUNT (≥{self.shared_account_persons} "
                "[I])",
                period=str(min(x.period for x in lines)),
                admin_unit_id=lines[0].admin_unit_id,
            )

    def _headcount(self, settled: list[_PaidLine]) -> Iterator[Finding]:
        paid: dict[tuple[str, Period], list[_PaidLine]] = {}
        for line in settled:
            account = self._accounts.get(line.account_id)
            if line.channel != INSTITUTION_ACCOUNT or account is None:
                continue  # only centralised payments count against the headcount
            if account.channel == INSTITUTION_ACCOUNT and account.holder_org_id is not None:
                paid.setdefault((account.holder_org_id, line.period), []).append(line)
        for (institution, period), lines in sorted(paid.items(), key=lambda i: str(i[0])):
            persons = sorted({x.person_id for x in lines})
            residents = {
                p: e for p in persons if (e := self._resident(p, institution, lines[0])) is not None
            }
            if len(persons) <= len(residents):
                continue
            missing = [p for p in persons if p not in residents]
            yield self.finding(
                "AF-FUND-HEADCOUNT-MISMATCH",
                [institution, str(period)],
                [*residents.values(), *(e for x in lines for e in x.evidence())],
                f"institution {institution} was paid for {len(persons)} residents for {period} "
                f"but its records show {len(residents)} living there (no record for "
                f"{', '.join(missing)})",
                rule_ref="domain.md §7.4 AF-FUND-HEADCOUNT-MISMATCH",
                period=str(period),
                admin_unit_id=lines[0].admin_unit_id,
            )
