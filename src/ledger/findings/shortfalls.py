"""``AF-PAY-NOT-IN-FULL`` (``domain.md`` §7.3, M): paid less than the entitlement (按时足额).

A payment line authorises an amount for one (enrolment, component, period). The bank may
settle it for less, or part of a settled payment may come back (``PaymentReturned``). A failed
or returned line may be reissued (``PaymentLineReissued``): the reissue carries the same
entitlement on, so the line and its reissues are judged together, by the *latest* line of the
chain (the one that stands "after reissues"):

* its net settlement (settled minus returned) is above 0 and below the authorised amount: a
  finding, citing the authorisation and every settlement and return of the chain;
* nothing net settled on it: money not paid at all is ``AF-PAY-ARREARS`` (an H finding of
  :mod:`ledger.findings.coverage`), not this one; more than authorised is ``AF-PAY-OVER``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding


@dataclass
class _Chain:
    """One authorised line and its reissues."""

    root_line_id: str
    enrolment_id: str
    component: str
    period: str
    admin_unit_id: str
    amount_fen: int
    latest_line_id: str
    event_ids: list[str] = field(default_factory=list)
    net_fen: dict[str, int] = field(default_factory=dict)
    """Line id → settled minus returned on that line."""


class PaymentNotInFull(Detector):
    """``AF-PAY-NOT-IN-FULL`` (see module docstring): one finding per authorised line."""

    name = "paid-not-in-full"
    version = 1
    types = frozenset(
        {"PaymentBatchPrepared", "PaymentLineReissued", "PaymentSettled", "PaymentReturned"}
    )

    def __init__(self) -> None:
        self._chains: dict[str, _Chain] = {}
        self._chain_of: dict[str, str] = {}
        """Line id (root or reissue) → root line id."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "PaymentBatchPrepared":
            for line in p["lines"]:
                self._chains[line["line_id"]] = _Chain(
                    line["line_id"],
                    line["enrolment_id"],
                    line["component"],
                    p["period"],
                    p["admin_unit_id"],
                    line["amount_fen"],
                    line["line_id"],
                    [event.event_id],
                )
                self._chain_of[line["line_id"]] = line["line_id"]
            return
        reissued = kind == "PaymentLineReissued"
        chain = self._chain(p["original_line_id"] if reissued else p["line_id"])
        if chain is None:
            return  # a line never authorised is UnauthorisedMoney's
        chain.event_ids.append(event.event_id)
        if reissued:
            chain.latest_line_id = p["new_line_id"]
            self._chain_of[p["new_line_id"]] = chain.root_line_id
            return
        sign = 1 if kind == "PaymentSettled" else -1
        chain.net_fen[p["line_id"]] = chain.net_fen.get(p["line_id"], 0) + sign * p["amount_fen"]

    def _chain(self, line_id: str) -> _Chain | None:
        root = self._chain_of.get(line_id)
        return None if root is None else self._chains[root]

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for root, chain in sorted(self._chains.items()):
            paid = chain.net_fen.get(chain.latest_line_id, 0)
            if not 0 < paid < chain.amount_fen:
                continue
            yield self.finding(
                "AF-PAY-NOT-IN-FULL",
                [root],
                chain.event_ids,
                f"enrolment {chain.enrolment_id}, {chain.component} for {chain.period}: "
                f"{chain.amount_fen} fen authorised, {paid} fen paid (line "
                f"{chain.latest_line_id}); {chain.amount_fen - paid} fen short",
                rule_ref="domain.md §7.3 AF-PAY-NOT-IN-FULL (001 按时足额)",
                period=chain.period,
                admin_unit_id=chain.admin_unit_id,
            )
