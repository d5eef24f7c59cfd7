"""Award detector (``domain.md`` §7.6): ``AF-AWD-INCONSISTENT``, awards that contradict the
rules of their scheme (002 F-RANK, 004 篇九; AWD-1 to AWD-7), re-checked over the log:

* an award granted before the scheme's awards were ratified (AWD-5);
* a comprehensive award to a vetoed unit (``VetoApplied``, or vetoed in the consolidated
  ranking; AWD-1);
* any award to a unit whose award eligibility was revoked for the scheme or its year (AWD-7);
* a single-item award to a comprehensive winner of the same scheme (AWD-2);
* more comprehensive awards, single-item awards of a category, or last places than the
  scheme's quotas (AWD-3);
* a last place whose total S in the latest consolidated ranking is above the lowest S (the
  n-th lowest for a quota of n last places), or any last place when every unit met every
  target (AWD-4);
* a cash reward or fine (``MonetaryRewardGranted``, ``MonetaryPenaltyImposed``) whose
  position or amount is not the scheme's ``reward_schedule`` entry for the unit's place in the
  cited ranking (consolidated or periodic; rewards from the top, fines from the bottom among
  the units not rewarded, :func:`ledger.domain.scoring_rank.cash_entries`), or a unit both
  rewarded and fined in one ranking (AWD-6), or a reward after a revocation (AWD-7).

One finding per inconsistent award, cash decision (naming every rule it breaks) or last
place, and one per exceeded quota.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ledger.domain.model import DomainEvent
from ledger.domain.scoring_rank import cash_entries
from ledger.domain.scoring_scheme import SchemeConfig, scheme_config
from ledger.findings.model import Detector, Finding

_CASH = {"MonetaryRewardGranted": "REWARD", "MonetaryPenaltyImposed": "FINE"}


@dataclass
class _Scheme:
    config: SchemeConfig
    event_id: str
    ratified: bool = False
    vetoed: dict[str, str] = field(default_factory=dict)
    """assessee → the event that vetoes it."""
    ranking: list[tuple[str, Decimal, bool]] = field(default_factory=list)
    """(assessee, S, met every target) of the latest consolidation."""
    ranking_event_id: str | None = None
    awards: list[DomainEvent] = field(default_factory=list)
    last_places: list[DomainEvent] = field(default_factory=list)
    rankings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """ranking event id → its order, best first (consolidated and periodic)."""
    cash: list[DomainEvent] = field(default_factory=list)


class AwardConsistency(Detector):
    """``AF-AWD-INCONSISTENT`` (see module docstring)."""

    name = "award-consistency"
    version = 1
    types = frozenset(
        {
            "AssessmentSchemePublished",
            "AssessmentConsolidated",
            "VetoApplied",
            "AwardsRatified",
            "AwardEligibilityRevoked",
            "AwardGranted",
            "LastPlaceDesignated",
            "PeriodRankingPublished",
            *_CASH,
        }
    )

    def __init__(self) -> None:
        self._schemes: dict[str, _Scheme] = {}
        self._revoked: list[tuple[str, str, int, str]] = []
        """(scheme, assessee, year, event id) of each revocation."""
        self._unratified: set[str] = set()
        """Awards granted before their scheme's awards were ratified."""

    def observe(self, event: DomainEvent) -> None:
        p = event.payload
        kind = event.event_type
        if kind == "AssessmentSchemePublished":
            self._schemes[p["scheme_id"]] = _Scheme(scheme_config(p), event.event_id)
            return
        if kind == "AwardEligibilityRevoked":
            self._revoked.append((p["scheme_id"], p["assessee"], p["year"], event.event_id))
            return
        scheme = self._schemes.get(p["scheme_id"])
        if scheme is not None:
            self._scheme_event(scheme, event)

    def _scheme_event(self, scheme: _Scheme, event: DomainEvent) -> None:
        """Fold one event of a published scheme."""
        p = event.payload
        kind = event.event_type
        if kind == "AssessmentConsolidated":
            scheme.ranking = [
                (r["assessee"], Decimal(r["S"]), not r["failing_indicator_ids"])
                for r in p["ranking"]
            ]
            scheme.ranking_event_id = event.event_id
            scheme.rankings[event.event_id] = tuple(r["assessee"] for r in p["ranking"])
            for row in p["ranking"]:
                if row["vetoed"]:
                    scheme.vetoed.setdefault(row["assessee"], event.event_id)
        elif kind == "VetoApplied":
            scheme.vetoed[p["assessee"]] = event.event_id
        elif kind == "PeriodRankingPublished":
            scheme.rankings[event.event_id] = tuple(r["assessee"] for r in p["ranking"])
        elif kind in _CASH:
            scheme.cash.append(event)
        elif kind == "AwardsRatified":
            scheme.ratified = True
        elif kind == "AwardGranted":
            if not scheme.ratified:
                self._unratified.add(event.event_id)
            scheme.awards.append(event)
        else:
            scheme.last_places.append(event)

    def _inconsistent(
        self, event: DomainEvent, evidence: list[str], why: str, rule: str
    ) -> Finding:
        p = event.payload
        what = (
            f"{p['award_type'].lower().replace('_', '-')} award"
            if event.event_type == "AwardGranted"
            else "last place"
        )
        return self.finding(
            "AF-AWD-INCONSISTENT",
            [p["scheme_id"], event.event_id],
            evidence,
            f"{what} of {p['assessee']} in scheme {p['scheme_id']} {why}",
            rule_ref=rule,
            period=f"{event.day:%Y}",
            admin_unit_id=p["assessee"],
        )

    def findings(self, clock: date) -> Iterator[Finding]:
        del clock
        for _, scheme in sorted(self._schemes.items()):
            yield from self._award_rules(scheme)
            yield from self._cash_rules(scheme)
            yield from self._quotas(scheme)
            yield from self._last_place(scheme)

    def _revocation(self, scheme: _Scheme, assessee: str) -> str | None:
        for scheme_id, revoked, year, event_id in self._revoked:
            same = scheme_id == scheme.config.scheme_id or year == scheme.config.year
            if revoked == assessee and same:
                return event_id
        return None

    def _award_rules(self, scheme: _Scheme) -> Iterator[Finding]:
        """One finding per award, naming every rule it breaks."""
        for award in scheme.awards:
            broken = self._broken(scheme, award)
            if broken:
                yield self._inconsistent(
                    award,
                    [e for _, cited, _ in broken for e in cited] + [award.event_id],
                    "; ".join(why for why, _, _ in broken),
                    ", ".join(rule for _, _, rule in broken),
                )

    def _broken(self, scheme: _Scheme, award: DomainEvent) -> list[tuple[str, list[str], str]]:
        """(why, evidence, rule) of each rule ``award`` breaks."""
        p = award.payload
        assessee, kind = p["assessee"], p["award_type"]
        broken: list[tuple[str, list[str], str]] = []
        if award.event_id in self._unratified:
            broken.append(("before the awards were ratified", [], "AWD-5"))
        if kind == "COMPREHENSIVE" and assessee in scheme.vetoed:
            broken.append(("although it was vetoed (一票否决)", [scheme.vetoed[assessee]], "AWD-1"))
        revoked = self._revocation(scheme, assessee)
        if revoked is not None:
            broken.append(("after its eligibility was revoked", [revoked], "AWD-7"))
        winner = next(
            (
                a.event_id
                for a in scheme.awards
                if a.payload["award_type"] == "COMPREHENSIVE" and a.payload["assessee"] == assessee
            ),
            None,
        )
        if kind == "SINGLE_ITEM" and winner is not None:
            broken.append(
                ("although it won a comprehensive award in the same scheme", [winner], "AWD-2")
            )
        return broken

    def _cash_rules(self, scheme: _Scheme) -> Iterator[Finding]:
        """AWD-6 and AWD-7 for each cash decision that cites a known ranking."""
        kinds: dict[tuple[str, str], set[str]] = {}
        for event in scheme.cash:
            p = event.payload
            kinds.setdefault((p["ranking_event_id"], p["assessee"]), set()).add(
                _CASH[event.event_type]
            )
        for event in scheme.cash:
            p = event.payload
            order = scheme.rankings.get(p["ranking_event_id"])
            if order is None:
                continue  # a ranking of another scheme, or none: ENV-8's concern
            both = len(kinds[p["ranking_event_id"], p["assessee"]]) > 1
            revoked = self._revocation(scheme, p["assessee"])
            broken = _cash_broken(scheme, event, order, both=both, revoked=revoked is not None)
            if broken:
                yield self.finding(
                    "AF-AWD-INCONSISTENT",
                    [p["scheme_id"], event.event_id],
                    [p["ranking_event_id"], *([revoked] if revoked else []), event.event_id],
                    f"cash {_CASH[event.event_type].lower()} of {p['assessee']} in ranking "
                    f"{p['ranking_event_id']} " + "; ".join(why for why, _ in broken),
                    rule_ref=", ".join(dict.fromkeys(rule for _, rule in broken)),
                    period=f"{event.day:%Y}",
                    admin_unit_id=p["assessee"],
                )

    def _quotas(self, scheme: _Scheme) -> Iterator[Finding]:
        quotas = scheme.config.quotas
        groups: dict[tuple[str, str], list[DomainEvent]] = {}
        for award in scheme.awards:
            p = award.payload
            if p["award_type"] == "COMPREHENSIVE":
                groups.setdefault(("COMPREHENSIVE", ""), []).append(award)
            elif p["award_type"] == "SINGLE_ITEM":
                groups.setdefault(("SINGLE_ITEM", p["category"] or ""), []).append(award)
        if scheme.last_places:
            groups["LAST_PLACE", ""] = scheme.last_places
        for (kind, category), events in sorted(groups.items()):
            if kind == "COMPREHENSIVE":
                quota = quotas.comprehensive
            elif kind == "LAST_PLACE":
                quota = quotas.last_place
            else:
                quota = quotas.single_item.get(category, 0)  # no quota: no award
            if len(events) <= quota:
                continue
            subjects = [scheme.config.scheme_id, kind] + ([category] if category else [])
            yield self.finding(
                "AF-AWD-INCONSISTENT",
                subjects,
                [scheme.event_id, *(e.event_id for e in events)],
                f"scheme {scheme.config.scheme_id} granted {len(events)} "
                f"{kind.lower().replace('_', ' ')} award(s){f' for {category}' if category else ''}"
                f"; its quota is {quota}",
                rule_ref="AWD-3",
                period=str(scheme.config.year),
            )

    def _last_place(self, scheme: _Scheme) -> Iterator[Finding]:
        if not scheme.last_places or scheme.ranking_event_id is None:
            return
        places = max(scheme.config.quotas.last_place, 1)
        # The n-th lowest S for n last places (ties at that S all qualify).
        lowest = sorted(s for _, s, _ in scheme.ranking)[:places][-1]
        totals = {a: s for a, s, _ in scheme.ranking}
        everyone_met = all(met for _, _, met in scheme.ranking)
        cited = [scheme.ranking_event_id]
        for event in scheme.last_places:
            assessee = event.payload["assessee"]
            if everyone_met:
                why = "although every unit met every target"
            elif assessee not in totals or totals[assessee] > lowest:
                why = f"with S = {totals.get(assessee)}, above the last-place S = {lowest}"
            else:
                continue
            yield self._inconsistent(event, [*cited, event.event_id], why, "AWD-4")


def _cash_broken(
    scheme: _Scheme, event: DomainEvent, order: tuple[str, ...], *, both: bool, revoked: bool
) -> list[tuple[str, str]]:
    """(why, rule) of each rule a cash decision breaks, against the ranking ``order``."""
    p = event.payload
    kind = _CASH[event.event_type]
    entries = {(e.assessee, e.kind): e for e in cash_entries(order, scheme.config.cash)}
    entry = entries.get((p["assessee"], kind))
    broken: list[tuple[str, str]] = []
    recorded = (p["position"], p["amount_fen"])
    if entry is None or (entry.position, entry.amount_fen) != recorded:
        due = f"{entry.amount_fen} fen as #{entry.position}" if entry else f"no {kind.lower()}"
        why = f"records {p['amount_fen']} fen as #{p['position']}; the schedule gives {due}"
        broken.append((why, "AWD-6"))
    if both:
        broken.append(("although the unit is both rewarded and fined in that ranking", "AWD-6"))
    if kind == "REWARD" and revoked:
        broken.append(("after its eligibility was revoked", "AWD-7"))
    return broken
