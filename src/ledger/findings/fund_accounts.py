"""``AF-FUND-COMMINGLED`` (``domain.md`` §7.4, M): no dedicated account (专户储存, 专帐核算).

Re-checks FUND-5 on the log: more than one ``FundAccountOpened`` for the same earmark key
(programme set, purpose set, owning admin unit, fiscal year). Money for one earmark held in
two accounts is not one dedicated account. One finding per earmark key, citing every opening.

Not covered: §7.4's other reading ("payments drawn from an account whose earmark covers other
programmes without a purpose sub-ledger"): the ``FundLedger`` projection keeps a sub-ledger
per purpose for every account, so no event can express an account without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.findings.model import Detector, Finding

EarmarkKey = tuple[tuple[str, ...], tuple[str, ...], str, int]
"""(programmes, purposes, owning admin unit, fiscal year), as FUND-5 defines it."""


class CommingledAccounts(Detector):
    """``AF-FUND-COMMINGLED`` (see module docstring)."""

    name = "fund-commingled"
    version = 1
    types = frozenset({"FundAccountOpened"})

    def __init__(self) -> None:
        self._opened: dict[EarmarkKey, list[tuple[str, str]]] = {}
        """Earmark key → (fund account id, opening event id) of each account opened for it."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        key = (
            tuple(sorted(p["programme_codes"])),
            tuple(sorted(p["purposes"])),
            p["owner_org_id"],
            p["fiscal_year"],
        )
        self._opened.setdefault(key, []).append((p["fund_account_id"], event.event_id))

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for key, opened in sorted(self._opened.items()):
            accounts = sorted({account for account, _ in opened})
            if len(accounts) < 2:
                continue
            programmes, purposes, owner, year = key
            yield self.finding(
                "AF-FUND-COMMINGLED",
                [owner, str(year), *accounts],
                [event_id for _, event_id in opened],
                f"{owner} holds {len(accounts)} accounts ({', '.join(accounts)}) for one "
                f"earmark: {'/'.join(programmes)}, {'/'.join(purposes)}, {year}",
                rule_ref="FUND-5 (one open dedicated account per earmark key)",
                period=str(year),
                admin_unit_id=owner,
            )
