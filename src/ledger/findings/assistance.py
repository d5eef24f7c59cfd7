"""``AF-TA-NO-MONTHLY-APPROVAL`` (``domain.md`` §7.2, M): temporary or medical assistance not
approved or not spot-checked monthly (003 "建立每月审批制度和抽查机制"; N-TA-1, N-MA-3).

For each (programme, township, month) with ``BenefitGranted`` of a temporary- or
medical-assistance component (the component's programme comes from its
``BenefitComponentDefined``; the township is the granting organisation), the month needs a
``TempAssistanceMonthlyApproval`` of that township and month, and a ``SpotCheckCompleted`` of
that programme, township and month — the same pairing as
:func:`ledger.domain.assistance.months_missing_oversight`.

A month's approval and spot check are made during or after it, so a month is judged once the
following month is over (clock in the second month after it or later) `[I]`. One finding per
(programme, township, month), naming what is missing and citing the month's grants.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ledger.domain.assistance import MONTHLY_PROGRAMMES
from ledger.domain.model import DomainEvent
from ledger.domain.periods import Period
from ledger.findings.model import Detector, Finding

GRACE_MONTHS = 1
"""A month's oversight may come during the following month `[I]`."""


class TempAssistanceOversight(Detector):
    """``AF-TA-NO-MONTHLY-APPROVAL`` (see module docstring)."""

    name = "assistance-monthly-oversight"
    version = 1
    types = frozenset(
        {
            "BenefitComponentDefined",
            "BenefitGranted",
            "TempAssistanceMonthlyApproval",
            "SpotCheckCompleted",
        }
    )

    def __init__(self, grace_months: int = GRACE_MONTHS) -> None:
        self.grace_months = grace_months
        self._programme_of: dict[str, str] = {}
        """Component code → programme code."""
        self._grants: dict[tuple[str, str, str], list[str]] = {}
        """(programme, township, month) → grant event ids."""
        self._approved: set[tuple[str, str]] = set()
        self._checked: set[tuple[str, str, str]] = set()

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind == "BenefitComponentDefined":
            self._programme_of[p["component_code"]] = p["programme_code"]
        elif kind == "BenefitGranted":
            programme = self._programme_of.get(p["component_code"])
            if programme in MONTHLY_PROGRAMMES:
                key = (programme, event.org_id, str(Period.parse(p["period"])))
                self._grants.setdefault(key, []).append(event.event_id)
        elif kind == "TempAssistanceMonthlyApproval":
            self._approved.add((p["township_org_id"], str(Period.parse(p["month"]))))
        else:
            month = str(Period.parse(p["month"]))
            self._checked.add((p["programme"], p["township_org_id"], month))

    def findings(self, clock: date) -> Iterator[Finding]:
        today = Period.of(clock)
        for (programme, township, month), grants in sorted(self._grants.items()):
            if Period.parse(month).plus(self.grace_months) >= today:
                continue  # the month's oversight may still come
            missing = []
            if (township, month) not in self._approved:
                missing.append("monthly approval")
            if (programme, township, month) not in self._checked:
                missing.append("spot check")
            if not missing:
                continue
            yield self.finding(
                "AF-TA-NO-MONTHLY-APPROVAL",
                [programme, township, month],
                grants,
                f"{township}: {len(grants)} {programme} grant(s) in {month} with no "
                f"{' and no '.join(missing)}",
                rule_ref="domain.md §7.2 AF-TA-NO-MONTHLY-APPROVAL (N-TA-1, N-MA-3)",
                period=month,
                admin_unit_id=township,
            )
