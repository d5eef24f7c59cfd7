"""Standards and capped-benefit detectors (``domain.md`` §7.5).

* :class:`StandardBelowFloor` — ``AF-STD-BELOW-FLOOR``: a published 特困 standard below its
  legal floor, recomputed independently of the append path (§5.8): a basic-living standard
  that carries its ``basis`` is held to STD-1 (max(ceil(0.6 x C_prev), ceil(1.3 x 12 x
  monthly dibao))); a care standard to STD-2 (ceil(0.10 x) the basic-living standard of the
  same programme, admin unit and support mode in force from the same month, i.e. the one
  with the latest ``effective_from`` not after it, the latest published winning a tie). A
  care standard with no basic standard published for exactly its admin unit is not judged
  (the append path resolves ancestors through the registry, which a detector does not see).
  Legacy ``BENEFIT_STANDARD`` records are held to the same floors from their own ``basis``
  and ``basic_standard_fen``.
* :class:`CapBreached` — ``AF-CAP-EXCEEDED`` (CAP-1: a grant above its component's cap for
  its period, counting earlier grants in the same cap period) and ``AF-CAP-OOP`` (CAP-2: all
  levels' grants for an episode not below its out-of-pocket cost). The detector folds
  components and grants with :mod:`ledger.domain.assistance_caps` and runs the same checks
  the append path runs on each grant *before* folding it, so a grant that entered despite
  them (a rule that was briefly wrong, a later correction) is found with the invariant's own
  message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain import assistance_caps as caps
from ledger.domain.model import DomainEvent, DomainState
from ledger.domain.periods import Period
from ledger.domain.programmes import basic_living_floor_fen
from ledger.domain.standards import BASIC_LIVING, CARE_COMPONENTS, care_floor_fen
from ledger.errors import RuleViolation
from ledger.findings.model import Detector, Finding
from ledger.findings.procedure import LEGACY, legacy_record

_CapCheck = Callable[[DomainState, caps.Component, caps.Grant, Any], None]
"""``assistance_caps.decide_cap_1`` or ``decide_cap_2``."""


@dataclass(frozen=True)
class _Basic:
    effective_from: Period
    position: int
    amount_fen: int
    event_id: str


class StandardBelowFloor(Detector):
    """``AF-STD-BELOW-FLOOR`` (see module docstring): one finding per standard."""

    name = "standard-floor"
    version = 1
    types = frozenset({"BenefitStandardPublished", LEGACY})

    def __init__(self) -> None:
        self._basic: dict[tuple[str, str, str], list[_Basic]] = {}
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        if event.event_type == LEGACY:
            record = legacy_record(event, "BENEFIT_STANDARD")
            if record is not None:
                self._legacy(event, record)
            return
        p = event.payload
        key = (p["programme_code"], p["admin_unit_id"], p["support_mode"])
        effective = Period.parse(p["effective_from"])
        if p["component"] == BASIC_LIVING:
            self._basic.setdefault(key, []).append(
                _Basic(effective, event.position, p["amount_fen"], event.event_id)
            )
            if p["basis"] is not None:
                self._check_basic(event, p)
        elif p["component"] in CARE_COMPONENTS:
            candidates = [b for b in self._basic.get(key, []) if b.effective_from <= effective]
            if candidates:
                basic = max(candidates, key=lambda b: (b.effective_from, b.position))
                self._check_care(event, basic, p)

    def _legacy(self, event: DomainEvent, record: Mapping[str, Any]) -> None:
        """A legacy standard carries its own basis (STD-1) or basic standard (STD-2)."""
        if record["component"] == BASIC_LIVING and record["basis"] is not None:
            self._check_basic(event, record)
        basic_fen = record["basic_standard_fen"]
        if record["component"] in CARE_COMPONENTS and basic_fen is not None:
            self._check_care(event, _Basic(Period(1, 1), -1, basic_fen, event.event_id), record)

    def _check_basic(self, event: DomainEvent, p: Mapping[str, Any]) -> None:
        """STD-1 for the basic standard ``p`` (a payload or a legacy record) of ``event``."""
        basis = p["basis"]
        floor = basic_living_floor_fen(
            basis["prior_year_consumption_per_capita_fen"], basis["dibao_monthly_standard_fen"]
        )
        if p["amount_fen"] < floor:
            self._below(
                event,
                [event.event_id],
                f"{floor} fen (60 % of last year's consumption "
                f"{basis['prior_year_consumption_per_capita_fen']} fen, 1.3 x 12 x the monthly "
                f"dibao standard {basis['dibao_monthly_standard_fen']} fen)",
                "STD-1",
                p,
            )

    def _check_care(self, event: DomainEvent, basic: _Basic, p: Mapping[str, Any]) -> None:
        """STD-2 for the care standard ``p`` of ``event`` against ``basic``."""
        floor = care_floor_fen(basic.amount_fen)
        if p["amount_fen"] < floor:
            self._below(
                event,
                list(dict.fromkeys([event.event_id, basic.event_id])),
                f"{floor} fen (10 % of the basic living standard of {basic.amount_fen} fen)",
                "STD-2",
                p,
            )

    def _below(
        self, event: DomainEvent, evidence: list[str], floor: str, rule: str, p: Mapping[str, Any]
    ) -> None:
        source = "legacy " if event.event_type == LEGACY else ""
        self._found.append(
            self.finding(
                "AF-STD-BELOW-FLOOR",
                [p["standard_id"]],
                evidence,
                f"{source}standard {p['standard_id']} ({p['programme_code']} {p['component']} "
                f"{p['support_mode']}, {p['admin_unit_id']}, from {p['effective_from']}) is "
                f"{p['amount_fen']} fen a year, below the legal floor of {floor}",
                rule_ref=rule,
                period=p["effective_from"],
                admin_unit_id=p["admin_unit_id"],
            )
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found


class CapBreached(Detector):
    """``AF-CAP-EXCEEDED`` and ``AF-CAP-OOP`` (see module docstring): one finding per grant
    and rule."""

    name = "benefit-caps"
    version = 1
    types = frozenset({"BenefitComponentDefined", "BenefitGranted"})

    def __init__(self) -> None:
        self._state = DomainState()
        self._found: list[Finding] = []

    def observe(self, event: DomainEvent) -> None:
        if event.event_type == "BenefitComponentDefined":
            caps.apply_component_defined(self._state, event)
            return
        component = caps.component(self._state, event.payload["component_code"])
        if component is not None:
            grant = caps.grant_from(self._state, event)
            basis = event.payload["basis"]
            self._check(event, "AF-CAP-EXCEEDED", caps.decide_cap_1, component, grant, basis)
            self._check(event, "AF-CAP-OOP", caps.decide_cap_2, component, grant, basis)
        caps.apply_grant(self._state, event)

    def _check(  # noqa: PLR0917 - one argument per thing the check needs
        self,
        event: DomainEvent,
        code: str,
        check: _CapCheck,
        component: caps.Component,
        grant: caps.Grant,
        basis: Any,
    ) -> None:
        try:
            check(self._state, component, grant, basis)
        except RuleViolation as broken:
            self._found.append(
                self.finding(
                    code,
                    [grant.grant_id],
                    [event.event_id],
                    f"grant {grant.grant_id} ({grant.household_id}, {grant.period}): "
                    f"{broken.detail}",
                    rule_ref=broken.code,
                    period=str(grant.period),
                    admin_unit_id=grant.org_id,
                )
            )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        yield from self._found
