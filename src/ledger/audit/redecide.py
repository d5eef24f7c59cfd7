"""Re-derive decisions: fold a set of recorded events in log order and judge chosen ones again.

Used by decision replay (online, over a decision's dependency closure) and by the offline
evidence-bundle verifier (over the bundle's events), so both give the same verdict:

* registry events are folded into a :class:`~ledger.domain.registry.Registry` (the rules'
  :class:`~ledger.domain.model.Directory`: organisations, actors, persons);
* every other event is folded with the business rules' *apply* functions
  (``build_rules()``), exactly as the append path did;
* a *judged* event is first re-decided against the state just before it: accepted →
  ``match``; refused → ``mismatch`` with the refusal's invariant code and evidence. Then the
  numbers the event states are re-derived (entitlement from the standard in force, fund
  availability before a batch approval) and compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.domain import assessment_results, assessment_scores, funds, payments
from ledger.domain.assessment_state import require_scheme
from ledger.domain.catalogue import REGISTRY_STREAM
from ledger.domain.model import DomainEvent, DomainState, Rules
from ledger.domain.periods import Period, period_amount_fen
from ledger.domain.registry import Registry
from ledger.domain.scoring_replay import ranking_rows
from ledger.errors import LedgerError
from ledger.integrity.signing import b64decode_strict, key_id_for
from ledger.services.decisions import RegistryDirectory, domain_event

MATCH = "match"
MISMATCH = "mismatch"
UNDERIVABLE = "not_derivable"


@dataclass(frozen=True)
class Derivation:
    """One number the event states, re-derived from the state before it."""

    name: str
    stated: Any
    derived: Any
    result: str
    detail: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stated": self.stated,
            "derived": self.derived,
            "result": self.result,
            "detail": self.detail,
            "inputs": dict(self.inputs),
        }


@dataclass(frozen=True)
class Verdict:
    """The re-decision of one event: ``match`` or ``mismatch`` (with the refusal)."""

    event_id: str
    index: int
    event_type: str
    result: str
    code: str | None = None
    detail: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    derivations: tuple[Derivation, ...] = ()

    @property
    def ok(self) -> bool:
        """The decision and every derivable number match."""
        return self.result == MATCH and all(d.result != MISMATCH for d in self.derivations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "index": self.index,
            "event_type": self.event_type,
            "result": self.result if self.ok or self.result == MISMATCH else MISMATCH,
            "decision": self.result,
            "code": self.code,
            "detail": self.detail,
            "evidence": _jsonable(self.evidence),
            "derivations": [d.as_dict() for d in self.derivations],
        }


class Refold:
    """State rebuilt from the events given to :meth:`add`, in increasing log order."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.state = DomainState()
        self.registry = Registry()
        self.directory = RegistryDirectory(self.registry)
        self.apply_errors: list[dict[str, Any]] = []
        """Events whose apply function failed: the fold lacked something they needed."""
        self._standards: dict[str, tuple[int, Mapping[str, Any]]] = {}
        self._stream_programme: dict[tuple[str, str], str] = {}
        self._batches: dict[str, Mapping[str, Any]] = {}
        self._last = -1

    def add(self, index: int, fields: Mapping[str, Any], *, judge: bool = False) -> Verdict | None:
        """Fold the event recorded at ``index``; re-decide it first when ``judge``."""
        if index <= self._last:
            msg = f"events must be folded in increasing log order ({index} after {self._last})"
            raise ValueError(msg)
        self._last = index
        if (fields["stream_type"], fields["stream_id"]) == REGISTRY_STREAM:
            self._fold_registry(index, fields)
            return None
        event = domain_event(dict(fields), index)
        self.state.position = index
        verdict = self._judge(event) if judge else None
        try:
            self.rules.apply(self.state, event)
        except Exception as e:  # noqa: BLE001 - reported: the fold is incomplete
            self.apply_errors.append(
                {"index": index, "event_type": event.event_type, "error": repr(e)}
            )
        self._remember(event)
        self.state.position = index + 1
        return verdict

    # ------------------------------------------------------------------ judging

    def _judge(self, event: DomainEvent) -> Verdict:
        self.state.begin()
        try:
            self.rules.decide(self.state, self.directory, event)
        except LedgerError as e:
            return Verdict(
                event.event_id,
                event.position,
                event.event_type,
                MISMATCH,
                e.code,
                e.detail,
                dict(e.evidence),
                self._derive(event),
            )
        except Exception as e:  # noqa: BLE001 - a rule crashed on this state: not accepted
            return Verdict(
                event.event_id,
                event.position,
                event.event_type,
                MISMATCH,
                "REPLAY-ERROR",
                f"the rules could not judge the event on the rebuilt state: {e!r}",
            )
        finally:
            self.state.rollback()
        return Verdict(
            event.event_id,
            event.position,
            event.event_type,
            MATCH,
            None,
            None,
            {},
            self._derive(event),
        )

    def _derive(self, event: DomainEvent) -> tuple[Derivation, ...]:
        found: list[Derivation] = []
        p = event.payload
        if isinstance(p.get("annual_amount_fen"), int):
            found.append(self._entitlement(event))
        if event.event_type == "PaymentBatchApproved":
            found.append(self._availability(event))
        if event.event_type == "PaymentBatchPrepared":
            found.append(self._line_amounts(event))
        scoring = _SCORING_DERIVATIONS.get(event.event_type)
        if scoring is not None:
            found.append(self._scoring(event, *scoring))
        return tuple(found)

    def _scoring(
        self,
        event: DomainEvent,
        name: str,
        derive: Callable[[DomainState, DomainEvent], tuple[Any, Any, str]],
    ) -> Derivation:
        """A score, ranking or award eligibility recomputed from the rebuilt assessment state
        with the scheme's formulas (F-BONUS/F-SHORT, F-ANNUAL, F-RANK, AWD-*)."""
        inputs = {"scheme_id": event.payload.get("scheme_id")}
        try:
            stated, derived, detail = derive(self.state, event)
        except LedgerError as e:
            return Derivation(name, None, None, UNDERIVABLE, f"{e.code}: {e.detail}", inputs)
        result = MATCH if stated == derived else MISMATCH
        return Derivation(name, stated, derived, result, detail, inputs)

    def _line_amounts(self, event: DomainEvent) -> Derivation:
        """PAY-5 for every line: the §4.2 instalment of the enrolment's annual amount."""
        p = event.payload
        period = Period.parse(str(p["period"]))
        terms = payments.programme(self.state, str(p["programme_code"]))
        stated = sum(int(line["amount_fen"]) for line in p["lines"])
        if terms is None:
            return Derivation(
                "line_amounts_fen",
                stated,
                None,
                UNDERIVABLE,
                "the batch's programme is not in the rebuilt state",
                {"programme_code": p["programme_code"]},
            )
        derived, differing, unknown = 0, [], []
        for line in p["lines"]:
            enrolled = payments.enrolment(self.state, str(line["enrolment_id"]))
            if enrolled is None:
                unknown.append(line["line_id"])
                continue
            due = period_amount_fen(enrolled.annual_amount_fen, terms.payment_frequency, period)
            derived += due
            if due != line["amount_fen"]:
                differing.append(
                    {"line_id": line["line_id"], "stated": line["amount_fen"], "due": due}
                )
        if unknown:
            result, detail = UNDERIVABLE, f"{len(unknown)} lines name enrolments not rebuilt"
        elif differing:
            result, detail = MISMATCH, f"{len(differing)} lines differ from the instalment due"
        else:
            result = MATCH
            detail = (
                f"{len(p['lines'])} lines, each the {terms.payment_frequency.lower()} instalment "
                f"of its enrolment's annual amount for {period}"
            )
        return Derivation(
            "line_amounts_fen",
            stated,
            derived,
            result,
            detail,
            {
                "period": str(period),
                "frequency": terms.payment_frequency,
                "differing_lines": differing[:20],
                "unknown_lines": unknown[:20],
            },
        )

    def _entitlement(self, event: DomainEvent) -> Derivation:
        """The annual amount from the benefit standard in force (domain.md §4.9, F-STD)."""
        p = event.payload
        programme = p.get("programme_code") or self._stream_programme.get(
            (event.stream_type, event.stream_id)
        )
        mode = p.get("support_mode")
        period = str(p.get("first_payable_period") or p.get("effective_period") or "9999-12")
        candidates = [
            (s.get("effective_from", ""), index, event_id, s)
            for event_id, (index, s) in self._standards.items()
            if s.get("programme_code") == programme
            and (mode is None or s.get("support_mode") in (None, mode))
            and str(s.get("effective_from", "")) <= period
        ]
        inputs = {"programme_code": programme, "support_mode": mode, "period": period}
        if not candidates:
            return Derivation(
                "annual_amount_fen",
                p["annual_amount_fen"],
                None,
                UNDERIVABLE,
                "no benefit standard for this programme and support mode was in force",
                inputs,
            )
        _, index, event_id, standard = max(candidates, key=lambda c: (str(c[0]), c[1]))
        amount = int(standard["amount_fen"])
        annual = amount * 12 if standard.get("period") == "MONTH" else amount
        inputs = inputs | {"standard_event_id": event_id, "standard_index": index}
        stated_ref = p.get("standard_ref")
        same = annual == p["annual_amount_fen"] and stated_ref in (None, event_id)
        detail = (
            f"standard {standard.get('standard_id')} (event {event_id}) in force for "
            f"{period}: {amount} fen per {standard.get('period', 'YEAR').lower()} = "
            f"{annual} fen a year"
        )
        if stated_ref not in (None, event_id):
            detail += f"; the decision cites standard event {stated_ref} instead"
        return Derivation(
            "annual_amount_fen",
            p["annual_amount_fen"],
            annual,
            MATCH if same else MISMATCH,
            detail,
            inputs,
        )

    def _availability(self, event: DomainEvent) -> Derivation:
        """FUND-1 before a batch approval: the batch total against the available balance."""
        prepared = self._batches.get(event.stream_id) or {}
        fund_id = prepared.get("fund_account_id")
        total = sum(int(line["amount_fen"]) for line in prepared.get("lines", ()))
        balance = funds.fund_balance(self.state, str(fund_id)) if fund_id else None
        if balance is None:
            return Derivation(
                "available_fen",
                None,
                None,
                UNDERIVABLE,
                "the batch's fund account is not in the rebuilt state",
                {"fund_account_id": fund_id},
            )
        available = balance.available_fen
        covered = total <= available
        return Derivation(
            "available_fen",
            f">= {total}",
            available,
            MATCH if covered else MISMATCH,
            f"fund {fund_id} had {available} fen available before the approval; the batch "
            f"commits {total} fen, leaving {available - total} fen",
            {
                "fund_account_id": fund_id,
                "batch_total_fen": total,
                "available_after_fen": available - total,
            },
        )

    # ------------------------------------------------------------------ folding

    def _remember(self, event: DomainEvent) -> None:
        """Keep what the derivations need (standards, programmes per stream, batches)."""
        p = event.payload
        if event.event_type == "BenefitStandardPublished":
            self._standards[event.event_id] = (event.position, p)
        code = p.get("programme_code")
        if isinstance(code, str):
            self._stream_programme.setdefault((event.stream_type, event.stream_id), code)
        if event.event_type == "PaymentBatchPrepared":
            self._batches[event.stream_id] = p

    def _fold_registry(self, index: int, fields: Mapping[str, Any]) -> None:
        payload = fields["payload"]
        derived = {}
        for name in ("ledger_public_key", "admin_public_key"):
            value = payload.get(name)
            if isinstance(value, str):
                derived[value] = key_id_for(b64decode_strict(value))
        self.registry.apply(fields["event_type"], payload, index, derived_key_ids=derived)


def _indicator_final(state: DomainState, event: DomainEvent) -> tuple[Any, Any, str]:
    scheme = require_scheme(state, event)
    expected = assessment_scores.expected_score(state, scheme, event)
    stated = str(Decimal(event.payload["final"]).quantize(Decimal("0.0001")))
    detail = (
        f"{expected.formula_id} for {event.payload['assessee']} on "
        f"{event.payload['indicator_id']} under scheme {scheme.config.scheme_id}: base "
        f"{expected.base}, bonus {expected.bonus}, deduction {expected.deduction}"
    )
    return stated, str(expected.final), detail


def _ranking(state: DomainState, event: DomainEvent) -> tuple[Any, Any, str]:
    scheme = require_scheme(state, event)
    result = assessment_results.recompute(state, scheme)
    derived = [[row["assessee"], str(row["S"])] for row in ranking_rows(result)]
    stated = [[row["assessee"], str(row["S"])] for row in event.payload["ranking"]]
    vetoed = ", ".join(sorted(result.ranking.vetoed)) or "none"
    return stated, derived, f"F-ANNUAL and F-RANK over every assessee; vetoed: {vetoed}"


def _award(state: DomainState, event: DomainEvent) -> tuple[Any, Any, str]:
    scheme = require_scheme(state, event)
    ranking = assessment_results.recompute(state, scheme).ranking
    p = event.payload
    kind = p["award_type"]
    if kind == "COMPREHENSIVE":
        eligible = p["assessee"] in ranking.comprehensive and p["assessee"] not in ranking.vetoed
        basis = f"recomputed comprehensive awards: {', '.join(ranking.comprehensive)}"
    elif kind == "SINGLE_ITEM":
        winners = ranking.single_item.get(str(p.get("category")), ())
        eligible = p["assessee"] in winners
        basis = f"recomputed single-item awards for {p.get('category')}: {', '.join(winners)}"
    else:
        eligible = p["assessee"] not in ranking.vetoed and p["assessee"] not in ranking.revoked
        basis = "an advanced individual's unit is neither vetoed nor revoked"
    return True, eligible, basis


_SCORING_DERIVATIONS: dict[str, tuple[str, Callable[[DomainState, DomainEvent], Any]]] = {
    "IndicatorScoreRecorded": ("indicator_final", _indicator_final),
    "AssessmentConsolidated": ("ranking", _ranking),
    "AwardGranted": ("award_eligible", _award),
}
"""Decisions whose numbers the assessment rules recompute, and how to show the recomputation."""


def _jsonable(value: Any) -> Any:
    """Evidence as JSON values (tuples → lists, unknown objects → their text)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
