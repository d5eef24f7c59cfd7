"""``AF-CAP-MULTI-PREFERENCE`` (``domain.md`` §7.5, M): more than one special preferential
policy (特惠) per household and year without an exception (004 篇十二, N-HA-11).

Re-checks CAP-3 on the log. A component is a special preferential policy when its latest
``BenefitComponentDefined`` sets ``max_per_household_per_year``. Walking a household's grants
of a year in log order, a grant of a policy the household does not hold yet, when it already
holds that many (the granted component's limit), is a breach unless an ``ExceptionApproved``
for that household, year and policy was recorded before it (as CAP-3 requires on append).
One finding per (household, year), citing the grants of the policies held and the breaching
ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ledger.domain.model import DomainEvent
from ledger.domain.periods import Period
from ledger.findings.model import Detector, Finding


@dataclass
class _Year:
    held: dict[str, str] = field(default_factory=dict)
    """Policy → the event id of its first grant this year."""
    breaches: list[tuple[str, str]] = field(default_factory=list)
    """(policy, grant event id) of each grant beyond the limit."""


class MultiplePreferences(Detector):
    """``AF-CAP-MULTI-PREFERENCE`` (see module docstring)."""

    name = "multi-preference"
    version = 1
    types = frozenset({"BenefitComponentDefined", "ExceptionApproved", "BenefitGranted"})

    def __init__(self) -> None:
        self._limit: dict[str, int | None] = {}
        """Component code → its ``max_per_household_per_year`` (None: not a special policy)."""
        self._exceptions: set[tuple[str, int, str]] = set()
        self._years: dict[tuple[str, int], _Year] = {}

    def observe(self, event: DomainEvent) -> None:
        kind, p = event.event_type, event.payload
        if kind == "BenefitComponentDefined":
            self._limit[p["component_code"]] = p["max_per_household_per_year"]
        elif kind == "ExceptionApproved":
            self._exceptions.add((p["household_id"], p["year"], p["extra_policy_code"]))
        else:
            self._granted(event)

    def _granted(self, event: DomainEvent) -> None:
        p = event.payload
        policy = p["component_code"]
        limit = self._limit.get(policy)
        if limit is None:
            return
        household, year = p["household_id"], Period.parse(p["period"]).year
        counted = self._years.setdefault((household, year), _Year())
        if policy in counted.held:
            return
        if len(counted.held) >= limit and (household, year, policy) not in self._exceptions:
            counted.breaches.append((policy, event.event_id))
        counted.held[policy] = event.event_id

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for (household, year), counted in sorted(self._years.items()):
            if not counted.breaches:
                continue
            yield self.finding(
                "AF-CAP-MULTI-PREFERENCE",
                [household, str(year)],
                list(counted.held.values()),
                f"household {household} holds {len(counted.held)} special preferential "
                f"policies in {year} ({', '.join(sorted(counted.held))}); "
                f"{', '.join(policy for policy, _ in counted.breaches)} granted beyond the "
                "limit with no exception approved",
                rule_ref="CAP-3 (N-HA-11, 004 篇十二)",
                period=str(year),
            )
