"""Capped and one-off benefit components and their grants (W7; CAP-1, CAP-2, CAP-3, CAP-5).

A ``BenefitComponentDefined`` fixes how one component may be granted (``domain.md`` §4.7):
who pays, the cap and its period, whether all levels together must stay below the
out-of-pocket cost, and, for a special preferential policy (特惠), how many a household may
hold a year. Each ``BenefitGranted`` is checked against its component and the grants already
recorded:

* CAP-1: the amount within the cap for its period (PER_MONTH_CAP: cap x months, and at most
  the period cap in total);
* CAP-2: for out-of-pocket components, everything granted for the episode at every level,
  this grant included, stays strictly below the documented out-of-pocket cost;
* CAP-3: no more special policies per household and year than allowed, unless an
  ``ExceptionApproved`` names this policy for the household and year;
* CAP-5: a one-off component at most once per beneficiary and configured period.

CAP-4 (hardship selection) lives in :mod:`ledger.domain.assistance_households`.

Tables: ``assist.components`` (code → :class:`Component`), ``assist.grants`` (grant id →
:class:`Grant`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.domain.model import Directory, DomainEvent, DomainState, Table, refuse, require
from ledger.domain.periods import Period

COMPONENTS = "assist.components"
GRANTS = "assist.grants"

SCHOOL_YEAR_START_MONTH = 9
"""A school year (学年) runs from September; N-HA-10 education aid is per school year."""


@dataclass(frozen=True, slots=True)
class Component:
    """The latest ``BenefitComponentDefined`` of one component code."""

    code: str
    programme_code: str
    payer_level: str
    beneficiary: str
    amount_rule: str
    cap_fen: int
    period_cap_fen: int | None
    period: str
    must_be_less_than_out_of_pocket: bool
    max_per_household_per_year: int | None

    @property
    def is_special_policy(self) -> bool:
        """A special preferential policy (特惠) counted by CAP-3."""
        return self.max_per_household_per_year is not None


@dataclass(frozen=True, slots=True)
class Grant:
    """One recorded ``BenefitGranted``."""

    grant_id: str
    event_id: str
    position: int
    component_code: str
    programme_code: str
    household_id: str
    person_id: str | None
    episode_id: str | None
    period: Period
    amount_fen: int
    org_id: str
    fast_track: bool


def components(state: DomainState) -> Table[str, Component]:
    """Defined components by code."""
    return state.table(COMPONENTS)


def grants(state: DomainState) -> Table[str, Grant]:
    """Recorded grants by grant id."""
    return state.table(GRANTS)


def component(state: DomainState, code: str) -> Component | None:
    """The component ``code`` as last defined, or ``None``."""
    return components(state).get(code)


# --- keys: who a cap is counted for, and over which period -----------------------------------


def beneficiary_key(comp: Component, household_id: str, person_id: str | None) -> str:
    """The person or household a component's cap is counted for."""
    if comp.beneficiary == "PERSON":
        return f"person:{person_id}"
    return f"household:{household_id}"


def period_key(comp: Component, period: Period, episode_id: str | None) -> str:
    """The cap period a grant in ``period`` falls in (month, year, school year, episode)."""
    if comp.period == "MONTH":
        return str(period)
    if comp.period == "YEAR":
        return str(period.year)
    if comp.period == "SCHOOL_YEAR":
        start = period.year if period.month >= SCHOOL_YEAR_START_MONTH else period.year - 1
        return f"school-year:{start}"
    if comp.period == "EPISODE":
        return f"episode:{episode_id}"
    return "once"


def _same_cap_bucket(state: DomainState, comp: Component, grant: Grant) -> list[Grant]:
    """Earlier grants of the same component, beneficiary and cap period."""
    who = beneficiary_key(comp, grant.household_id, grant.person_id)
    when = period_key(comp, grant.period, grant.episode_id)
    return [
        g
        for g in grants(state).values()
        if g.component_code == comp.code
        and beneficiary_key(comp, g.household_id, g.person_id) == who
        and period_key(comp, g.period, g.episode_id) == when
    ]


def episode_total_fen(state: DomainState, household_id: str, episode_id: str) -> int:
    """Everything recorded as granted, at any level, for one household's episode."""
    return sum(
        g.amount_fen
        for g in grants(state).values()
        if g.household_id == household_id and g.episode_id == episode_id
    )


def special_policies_held(state: DomainState, household_id: str, year: int) -> frozenset[str]:
    """The special preferential policies (component codes) a household was granted in ``year``."""
    held: set[str] = set()
    for g in grants(state).values():
        comp = component(state, g.component_code)
        if (
            g.household_id == household_id
            and g.period.year == year
            and comp is not None
            and comp.is_special_policy
        ):
            held.add(g.component_code)
    return frozenset(held)


# --- BenefitComponentDefined ---------------------------------------------------------------


def decide_component_defined(_state: DomainState, _dir: Directory, event: DomainEvent) -> None:
    """The component is defined on its own stream, with a period cap only where it means one."""
    p = event.payload
    require(
        p["component_code"] == event.stream_id,
        "ENV-7",
        "a benefit component is defined on the stream named by its code",
        component_code=p["component_code"],
        stream_id=event.stream_id,
    )
    require(
        p["period_cap_fen"] is None or p["amount_rule"] == "PER_MONTH_CAP",
        "ENV-7",
        "only a PER_MONTH_CAP component has a period cap besides its monthly cap",
        amount_rule=p["amount_rule"],
        period_cap_fen=p["period_cap_fen"],
    )


def apply_component_defined(state: DomainState, event: DomainEvent) -> None:
    """Store the component; a later definition replaces (amends) the earlier one."""
    p = event.payload
    components(state).put(
        p["component_code"],
        Component(
            code=p["component_code"],
            programme_code=p["programme_code"],
            payer_level=p["payer_level"],
            beneficiary=p["beneficiary"],
            amount_rule=p["amount_rule"],
            cap_fen=p["cap_fen"],
            period_cap_fen=p["period_cap_fen"],
            period=p["period"],
            must_be_less_than_out_of_pocket=p["must_be_less_than_out_of_pocket"],
            max_per_household_per_year=p["max_per_household_per_year"],
        ),
    )


# --- BenefitGranted ------------------------------------------------------------------------


def grant_from(state: DomainState, event: DomainEvent) -> Grant:
    """The grant an event records (its programme is its component's)."""
    p = event.payload
    comp = component(state, p["component_code"])
    return Grant(
        grant_id=p["grant_id"],
        event_id=event.event_id,
        position=event.position,
        component_code=p["component_code"],
        programme_code="" if comp is None else comp.programme_code,
        household_id=p["household_id"],
        person_id=p["person_id"],
        episode_id=p["episode_id"],
        period=Period.parse(p["period"]),
        amount_fen=p["amount_fen"],
        org_id=event.org_id,
        fast_track=p["fast_track"],
    )


def require_grant_references(state: DomainState, event: DomainEvent) -> Component:
    """A new grant on its own stream, of a defined component, naming who and which episode."""
    p = event.payload
    require(
        p["grant_id"] == event.stream_id and event.version == 1,
        "ENV-7",
        f"grant {p['grant_id']} must be recorded once, on its own stream",
        grant_id=p["grant_id"],
        stream_id=event.stream_id,
        version=event.version,
    )
    comp = component(state, p["component_code"])
    if comp is None:
        raise refuse(
            "ENV-8",
            f"benefit component {p['component_code']} has not been defined",
            component_code=p["component_code"],
        )
    require(
        comp.beneficiary != "PERSON" or p["person_id"] is not None,
        "ENV-8",
        f"component {comp.code} is granted per person: the grant must name the person",
        component_code=comp.code,
    )
    needs_episode = comp.period == "EPISODE" or comp.must_be_less_than_out_of_pocket
    require(
        not needs_episode or p["episode_id"] is not None,
        "ENV-8",
        f"component {comp.code} is counted per episode: the grant must name the episode",
        component_code=comp.code,
    )
    return comp


def decide_cap_1(state: DomainState, comp: Component, grant: Grant, basis: Any) -> None:
    """CAP-1: the amount within the component's cap for its period."""
    earlier = sum(g.amount_fen for g in _same_cap_bucket(state, comp, grant))
    if comp.amount_rule == "PER_MONTH_CAP":
        _require_per_month_cap(comp, grant, basis["months"], earlier)
        return
    cap = comp.cap_fen
    require(
        earlier + grant.amount_fen <= cap,
        "CAP-1",
        f"{comp.code}: {grant.amount_fen} fen on top of {earlier} fen already granted for the "
        f"same {comp.period.lower()} exceeds the cap of {cap} fen",
        amount_fen=grant.amount_fen,
        already_granted_fen=earlier,
        cap_fen=cap,
        period=period_key(comp, grant.period, grant.episode_id),
    )


def _require_per_month_cap(comp: Component, grant: Grant, months: int | None, earlier: int) -> None:
    """PER_MONTH_CAP: at most cap x months for this grant, and the period cap in total."""
    if months is None:
        raise refuse(
            "CAP-1",
            f"{comp.code} is capped per month: the grant must state the months it covers",
            component_code=comp.code,
        )
    by_months = comp.cap_fen * months
    require(
        grant.amount_fen <= by_months,
        "CAP-1",
        f"{comp.code}: {grant.amount_fen} fen for {months} month(s) exceeds "
        f"{comp.cap_fen} fen a month ({by_months} fen)",
        amount_fen=grant.amount_fen,
        months=months,
        cap_fen=by_months,
        monthly_cap_fen=comp.cap_fen,
    )
    period_cap = comp.period_cap_fen
    require(
        period_cap is None or earlier + grant.amount_fen <= period_cap,
        "CAP-1",
        f"{comp.code}: {grant.amount_fen} fen on top of {earlier} fen already granted exceeds "
        f"the cap of {period_cap} fen a {comp.period.lower()}",
        amount_fen=grant.amount_fen,
        already_granted_fen=earlier,
        cap_fen=period_cap,
        period=period_key(comp, grant.period, grant.episode_id),
    )


def decide_cap_2(state: DomainState, comp: Component, grant: Grant, basis: Any) -> None:
    """CAP-2: all levels together stay strictly below the out-of-pocket cost of the episode.

    Earlier grants count at the higher of what the ledger recorded and what the grant
    declares (``prior_grants_fen``): a grant made outside the ledger still counts, and an
    under-declaration cannot hide one the ledger knows.
    """
    if not comp.must_be_less_than_out_of_pocket:
        return
    out_of_pocket = basis["out_of_pocket_fen"]
    if out_of_pocket is None:
        raise refuse(
            "CAP-2",
            f"{comp.code} must stay below the out-of-pocket cost: the grant must document it",
            component_code=comp.code,
        )
    episode = grant.episode_id or ""
    recorded = episode_total_fen(state, grant.household_id, episode)
    earlier = max(recorded, basis["prior_grants_fen"])
    total = earlier + grant.amount_fen
    require(
        total < out_of_pocket,
        "CAP-2",
        f"{comp.code}: {grant.amount_fen} fen on top of {earlier} fen already granted for "
        f"episode {episode} makes {total} fen, not below the out-of-pocket cost of "
        f"{out_of_pocket} fen (at most {max(0, out_of_pocket - 1 - earlier)} fen is allowed)",
        amount_fen=grant.amount_fen,
        recorded_grants_fen=recorded,
        declared_prior_grants_fen=basis["prior_grants_fen"],
        total_fen=total,
        out_of_pocket_fen=out_of_pocket,
        max_allowed_fen=max(0, out_of_pocket - 1 - earlier),
    )


def decide_cap_3(
    state: DomainState, comp: Component, grant: Grant, exception_for: frozenset[str]
) -> None:
    """CAP-3: no more special policies a household and year than allowed, save an exception.

    ``exception_for`` are the policies an ``ExceptionApproved`` allows for this household and
    year on top of the limit.
    """
    limit = comp.max_per_household_per_year
    if limit is None:
        return
    held = special_policies_held(state, grant.household_id, grant.period.year)
    if comp.code in held or len(held) < limit or comp.code in exception_for:
        return
    raise refuse(
        "CAP-3",
        f"household {grant.household_id} already holds {len(held)} special preferential "
        f"polic{'y' if len(held) == 1 else 'ies'} in {grant.period.year} "
        f"({', '.join(sorted(held))}); {comp.code} needs an exception approved by the "
        "township and the district civil-affairs bureau",
        household_id=grant.household_id,
        year=grant.period.year,
        held=sorted(held),
        limit=limit,
        component_code=comp.code,
    )


def decide_cap_5(state: DomainState, comp: Component, grant: Grant) -> None:
    """CAP-5: a one-off component at most once per beneficiary and configured period."""
    if comp.amount_rule != "ONE_OFF":
        return
    earlier = _same_cap_bucket(state, comp, grant)
    if earlier:
        raise refuse(
            "CAP-5",
            f"{comp.code} is a one-off grant and was already granted "
            f"(grant {earlier[0].grant_id}) for the same "
            f"{beneficiary_key(comp, grant.household_id, grant.person_id)} and "
            f"{period_key(comp, grant.period, grant.episode_id)}",
            component_code=comp.code,
            earlier_grant_id=earlier[0].grant_id,
            period=period_key(comp, grant.period, grant.episode_id),
        )


def apply_grant(state: DomainState, event: DomainEvent) -> None:
    """Record the grant (it counts towards later caps)."""
    grant = grant_from(state, event)
    grants(state).put(grant.grant_id, grant)
