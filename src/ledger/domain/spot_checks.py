"""W1.11a: the county's random spot check of forwarded applications (APP-10, SOD-2).

The county draws a sample from a batch of forwarded applications of one township with a
published, reproducible algorithm, so anyone can recompute it from the seed: a sample that
is not exactly :func:`draw_sample` of the batch is refused. Each sampled case is then checked
by a county person who did not investigate it. An approval must cite the batch its case was
drawn in and, if it was sampled, a CONSISTENT check.

An application is in at most one batch per forwarding: otherwise a county could draw again
until an awkward case is left out.

Tables: ``spot.batches`` (batch id → :class:`Batch`), ``spot.membership`` (application id →
``(batch id, forwarding event id)``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from ledger.domain import applications
from ledger.domain.applications import Application, Status
from ledger.domain.model import (
    Directory,
    DomainEvent,
    DomainState,
    Rules,
    Table,
    refuse,
    require,
    require_scope,
)
from ledger.domain.periods import parse_ratio
from ledger.domain.programmes import require_programme

BATCHES = "spot.batches"
MEMBERSHIP = "spot.membership"

ALGORITHM = "SPLITMIX64-FISHER-YATES-v1"
CONSISTENT = "CONSISTENT"

_MASK64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_MIX_1 = 0xBF58476D1CE4E5B9
_MIX_2 = 0x94D049BB133111EB


# --- the sampling algorithm ------------------------------------------------------------------


def splitmix64(seed: int) -> Iterator[int]:
    """The SplitMix64 generator (Steele, Lea and Flood 2014): an endless stream of uint64.

    >>> hex(next(splitmix64(0)))
    '0xe220a8397b1dcdaf'
    """
    x = seed & _MASK64
    while True:
        x = (x + _GOLDEN_GAMMA) & _MASK64
        z = x
        z = ((z ^ (z >> 30)) * _MIX_1) & _MASK64
        z = ((z ^ (z >> 27)) * _MIX_2) & _MASK64
        yield z ^ (z >> 31)


def draw_sample(population: Iterable[str], seed: int, k: int) -> list[str]:
    """``SPLITMIX64-FISHER-YATES-v1``: the first ``k`` ids of a seeded shuffle.

    The ids are sorted (Python string order), then shuffled by Fisher-Yates from the last
    index down to 1, swapping ``a[i]`` with ``a[next() mod (i + 1)]``; the sample is
    ``a[0:k]`` in that order. Clients use this function to draw what the ledger will accept.
    """
    shuffled = sorted(population)
    if not 0 <= k <= len(shuffled):
        msg = f"cannot sample {k} of {len(shuffled)} ids"
        raise ValueError(msg)
    rng = splitmix64(seed)
    for i in range(len(shuffled) - 1, 0, -1):
        j = next(rng) % (i + 1)
        shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
    return shuffled[:k]


def minimum_sample_size(ratio: Fraction, population_size: int) -> int:
    """ceil(ratio * N): the smallest sample the ratio allows (APP-10)."""
    return math.ceil(ratio * population_size)


# --- state -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """A drawn batch and the checks completed on its sample so far."""

    batch_id: str
    township_org_id: str
    programme_code: str
    population_ids: tuple[str, ...]
    forwarding_ids: tuple[str, ...]
    """The ``ApplicationForwarded`` event of each population id when the batch was drawn."""
    sampled_ids: tuple[str, ...]
    results: tuple[tuple[str, str], ...] = ()
    """``(application id, CONSISTENT | INCONSISTENT)`` of each completed check."""

    def forwarding_of(self, application_id: str) -> str | None:
        """The forwarding under which ``application_id`` joined the batch, if it did."""
        for member, forwarding in zip(self.population_ids, self.forwarding_ids, strict=True):
            if member == application_id:
                return forwarding
        return None

    def result_of(self, application_id: str) -> str | None:
        """The completed check of a sampled case, or ``None``."""
        return dict(self.results).get(application_id)


def _batches(state: DomainState) -> Table[str, Batch]:
    return state.table(BATCHES)


def _membership(state: DomainState) -> Table[str, tuple[str, str]]:
    return state.table(MEMBERSHIP)


def batch(state: DomainState, batch_id: str) -> Batch | None:
    """The spot-check batch ``batch_id``, or ``None``."""
    return _batches(state).get(batch_id)


def require_batch(state: DomainState, batch_id: str) -> Batch:
    """The batch ``batch_id``; refuses with ENV-8 when it was never drawn."""
    found = batch(state, batch_id)
    if found is None:
        raise refuse("ENV-8", f"spot-check batch {batch_id} was never drawn", batch_id=batch_id)
    return found


def _require_county_checker(directory: Directory, event: DomainEvent, township: str) -> None:
    """SOD-2: the spot checker acts for the county, not for the township being checked."""
    require(
        not directory.is_within(event.org_id, township),
        "SOD-2",
        f"{event.actor_id} acts for {event.org_id}, inside township {township}; spot checks "
        "are done by the county",
        actor_id=event.actor_id,
        actor_org_id=event.org_id,
        township_org_id=township,
    )


# --- CountySpotCheckSampleDrawn ---------------------------------------------------------------


def decide_sample_drawn(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """APP-10: a batch of the township's forwarded cases, sampled at the programme's ratio
    or more, exactly as the published algorithm draws it."""
    p = event.payload
    require(
        p["batch_id"] == event.stream_id and batch(state, p["batch_id"]) is None,
        "ENV-7",
        f"spot-check batch {p['batch_id']} is drawn once, on the stream named by its id",
        batch_id=p["batch_id"],
        stream_id=event.stream_id,
    )
    township = p["township_org_id"]
    require_scope(directory, event, township)
    _require_county_checker(directory, event, township)
    cases = [_require_batchable(state, a, township) for a in p["population_ids"]]
    programme_codes = sorted({c.programme_code for c in cases})
    require(
        len(programme_codes) == 1,
        "APP-10",
        "a spot-check batch holds the cases of one programme",
        programme_codes=programme_codes,
    )
    _require_sample(p, require_programme(state, programme_codes[0]).spot_check_ratio)


def _require_batchable(state: DomainState, application_id: str, township: str) -> Application:
    """A forwarded case of the township that is not yet in a batch for this forwarding."""
    found = applications.require_application(state, application_id)
    require(
        found.status == Status.FORWARDED and found.township_org_id == township,
        "APP-10",
        f"application {application_id} is not a forwarded case of township {township}",
        application_id=application_id,
        status=str(found.status),
        township_org_id=found.township_org_id,
    )
    member = _membership(state).get(application_id)
    require(
        member is None or member[1] != found.forwarded_event_id,
        "APP-10",
        f"application {application_id} is already in spot-check batch "
        f"{member[0] if member else ''}; it cannot be drawn again",
        application_id=application_id,
        batch_id=member[0] if member else None,
    )
    return found


def _require_sample(p: Mapping[str, Any], programme_ratio: Fraction) -> None:
    """The ratio, the sample size and the exact sample (APP-10)."""
    population: list[str] = p["population_ids"]
    sampled: list[str] = p["sampled_ids"]
    seed: int = p["rng_seed"]
    ratio = parse_ratio(p["ratio"])
    require(
        ratio >= programme_ratio,
        "APP-10",
        f"the sampling ratio {ratio} is below the programme's {programme_ratio}",
        ratio=str(ratio),
        programme_ratio=str(programme_ratio),
    )
    minimum = minimum_sample_size(ratio, len(population))
    require(
        minimum <= len(sampled) <= len(population),
        "APP-10",
        f"{len(sampled)} of {len(population)} cases sampled; at least {minimum} are required",
        sampled=len(sampled),
        population=len(population),
        minimum=minimum,
    )
    expected = draw_sample(population, seed, len(sampled))
    require(
        list(sampled) == expected,
        "APP-10",
        f"the sample is not the one {ALGORITHM} draws from seed {seed}",
        rng_seed=seed,
        sampled_ids=list(sampled),
        expected_sampled_ids=expected,
    )


def apply_sample_drawn(state: DomainState, event: DomainEvent) -> None:
    p = event.payload
    cases = [applications.application(state, a) for a in p["population_ids"]]
    forwardings = tuple((c.forwarded_event_id or "") if c else "" for c in cases)
    programme_code = next((c.programme_code for c in cases if c is not None), "")
    _batches(state).put(
        p["batch_id"],
        Batch(
            batch_id=p["batch_id"],
            township_org_id=p["township_org_id"],
            programme_code=programme_code,
            population_ids=tuple(p["population_ids"]),
            forwarding_ids=forwardings,
            sampled_ids=tuple(p["sampled_ids"]),
        ),
    )
    for application_id, forwarding in zip(p["population_ids"], forwardings, strict=True):
        _membership(state).put(application_id, (p["batch_id"], forwarding))


# --- CountySpotCheckCompleted -----------------------------------------------------------------


def decide_check_completed(state: DomainState, directory: Directory, event: DomainEvent) -> None:
    """A sampled, still forwarded case is checked once, by a county person who neither
    investigated it (SOD-2) nor is filed as the applicant's relative (SOD-4)."""
    drawn = require_batch(state, event.stream_id)
    application_id = event.payload["application_id"]
    require(
        application_id in drawn.sampled_ids,
        "APP-10",
        f"application {application_id} was not sampled in batch {drawn.batch_id}",
        application_id=application_id,
        batch_id=drawn.batch_id,
    )
    require(
        drawn.result_of(application_id) is None,
        "ENV-7",
        f"application {application_id} was already checked in batch {drawn.batch_id}",
        application_id=application_id,
        batch_id=drawn.batch_id,
    )
    found = applications.require_application(state, application_id)
    require(
        found.status == Status.FORWARDED,
        "ENV-7",
        f"application {application_id} is {found.status}, no longer awaiting the county",
        application_id=application_id,
        status=str(found.status),
    )
    require_scope(directory, event, found.township_org_id)
    _require_county_checker(directory, event, found.township_org_id)
    checker = directory.actor_person(event.actor_id)
    require(
        checker not in applications.investigator_persons(directory, found),
        "SOD-2",
        f"{event.actor_id} investigated application {application_id} and may not spot-check it",
        actor_id=event.actor_id,
        application_id=application_id,
    )
    applications.require_not_related(directory, found, event.actor_id, "spot checker")


def apply_check_completed(state: DomainState, event: DomainEvent) -> None:
    drawn = _batches(state)[event.stream_id]
    result = (event.payload["application_id"], event.payload["result"])
    _batches(state).put(drawn.batch_id, replace(drawn, results=(*drawn.results, result)))


# --- the county's decision (APP-10) -------------------------------------------------------------


def decide_approval_spot_check(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """APP-10: the case was in the cited batch for its current forwarding and, if sampled,
    its check is complete and CONSISTENT."""
    found = applications.require_application(state, event.stream_id)
    drawn = require_batch(state, event.payload["spot_check_batch_id"])
    require(
        found.forwarded_event_id is not None
        and drawn.forwarding_of(found.application_id) == found.forwarded_event_id,
        "APP-10",
        f"application {found.application_id} (as last forwarded) is not in spot-check batch "
        f"{drawn.batch_id}",
        application_id=found.application_id,
        batch_id=drawn.batch_id,
    )
    if found.application_id not in drawn.sampled_ids:
        return
    result = drawn.result_of(found.application_id)
    require(
        result == CONSISTENT,
        "APP-10",
        f"application {found.application_id} was sampled in batch {drawn.batch_id}; its spot "
        f"check must be complete and CONSISTENT (it is {result or 'not done'})",
        application_id=found.application_id,
        batch_id=drawn.batch_id,
        result=result,
    )


def decide_rejection_spot_check(
    state: DomainState, _directory: Directory, event: DomainEvent
) -> None:
    """A rejection that cites a batch cites one its case is in."""
    batch_id = event.payload["spot_check_batch_id"]
    if batch_id is None:
        return
    drawn = require_batch(state, batch_id)
    require(
        event.stream_id in drawn.population_ids,
        "ENV-8",
        f"application {event.stream_id} is not in spot-check batch {batch_id}",
        application_id=event.stream_id,
        batch_id=batch_id,
    )


def register(rules: Rules) -> None:
    """Add this module's decide and apply functions to ``rules``."""
    rules.register(
        "CountySpotCheckSampleDrawn", apply=apply_sample_drawn, decide=decide_sample_drawn
    )
    rules.register(
        "CountySpotCheckCompleted", apply=apply_check_completed, decide=decide_check_completed
    )
    rules.register("ApplicationApproved", decide=decide_approval_spot_check)
    rules.register("ApplicationRejected", decide=decide_rejection_spot_check)
