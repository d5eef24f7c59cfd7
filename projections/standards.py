"""The standards table (``domain.md`` §6.5 ``StandardsTable``, W9 §4.9), bitemporal.

One row per published standard (key ``standard_id``): programme, admin unit, support mode,
component, annual amount in fen, the month it takes effect, its publication date and basis,
the STD-1 floor computed from that basis (§5.8), and the months it is *in force*.

In force follows the domain's rule (:func:`ledger.domain.programmes.standard_in_force`): among
the standards of one (programme, admin unit, support mode, component), the one with the
latest ``effective_from`` not after the month wins, and between equal months the later
publication (higher log index) wins. So each standard is in force from its
``effective_from`` up to the month before the next standard of its group takes effect
(``effective_to``, null while open-ended); one replaced in the same month is never in force
(``effective_to`` before ``effective_from``) and names its ``superseded_by``. Publishing a
standard can therefore change the rows of others in its group: each change is a new version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import orjson

from ledger.domain.periods import Period
from ledger.domain.programmes import basic_living_floor_fen
from ledger.errors import SchemaError
from ledger.projections.base import Projection, State
from ledger.projections.events import Event, fen
from ledger.projections.inspections import json_text
from ledger.projections.sql import Tx
from ledger.projections.tables import Rows, Table


@dataclass(slots=True)
class StandardRow:
    """One standard as known at some log position."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("standard_id", "TEXT NOT NULL"),
        ("programme_code", "TEXT"),
        ("admin_unit_id", "TEXT"),
        ("support_mode", "TEXT"),
        ("component", "TEXT"),
        ("amount_fen", "BIGINT NOT NULL"),
        ("basis_period", "TEXT"),
        ("effective_from", "TEXT"),
        ("effective_to", "TEXT"),
        ("superseded_by", "TEXT"),
        ("published_on", "TEXT"),
        ("basis", "TEXT"),
        ("floor_fen", "BIGINT"),
        ("published_at_index", "BIGINT NOT NULL"),
    )

    standard_id: str
    programme_code: str | None
    admin_unit_id: str | None
    support_mode: str | None
    component: str | None
    amount_fen: int
    basis_period: str | None
    effective_from: str | None
    effective_to: str | None
    superseded_by: str | None
    published_on: str | None
    basis: str | None
    floor_fen: int | None
    published_at_index: int
    known_from: int = -1
    known_to: int | None = None

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)

    @property
    def group(self) -> str:
        """The key of the standards that replace one another."""
        return json_text(
            [self.programme_code, self.admin_unit_id, self.support_mode, self.component]
        )


@dataclass(slots=True)
class GroupRow:
    """The members of one group: ``[[effective_from, log index, standard_id], …]``."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("group_key", "TEXT NOT NULL"),
        ("members", "TEXT NOT NULL"),
    )
    group_key: str
    members: str = "[]"

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> Self:
        return cls(*values)


STANDARDS = Table(
    "proj_standards",
    StandardRow,
    versioned=True,
    indexes=("(programme_code, standard_id) WHERE known_to IS NULL",),
)
GROUPS = Table("proj_standard_groups", GroupRow, versioned=False)


class StandardsState(State):
    """Working copies of the standards and their groups."""

    def __init__(self, standards: Rows[StandardRow], groups: Rows[GroupRow]) -> None:
        self.standards = standards
        self.groups = groups

    @property
    def tables(self) -> Sequence[Rows[Any]]:
        return (self.standards, self.groups)


def _floor(amount_component: str | None, basis: Any) -> int | None:
    """The STD-1 floor of a basic living standard with a basis (§5.8), else ``None``."""
    if amount_component != "BASIC_LIVING" or not isinstance(basis, dict):
        return None
    consumption = basis.get("prior_year_consumption_per_capita_fen")
    dibao = basis.get("dibao_monthly_standard_fen")
    if not isinstance(consumption, int) or not isinstance(dibao, int):
        return None
    return basic_living_floor_fen(consumption, dibao)


def _month_before(period: str) -> str:
    return str(Period.parse(period).plus(-1))


def in_force_ranges(members: list[list[Any]]) -> dict[str, tuple[str | None, str | None]]:
    """``standard_id → (effective_to, superseded_by)`` for the members of one group.

    ``members`` are ``[effective_from, log index, standard_id]``. Sorted by (month, index),
    each member is replaced by the next one: in force until the month before the next
    *later* month, or never when the next one starts in the same month.
    """
    ordered = sorted(members, key=lambda m: (m[0], m[1]))
    out: dict[str, tuple[str | None, str | None]] = {}
    for n, (_, _, standard_id) in enumerate(ordered):
        if n + 1 == len(ordered):
            out[standard_id] = (None, None)
            continue
        next_month, _, next_id = ordered[n + 1]
        # A same-month successor ends it before it starts (effective_to < effective_from).
        out[standard_id] = (_month_before(next_month), next_id)
    return out


def _published(state: StandardsState, ev: Event) -> None:
    p = ev.payload
    standard_id = str(p.get("standard_id") or ev.stream_id)
    effective_from = p.get("effective_from")
    try:
        effective_from = str(Period.parse(str(effective_from)))
    except SchemaError:
        effective_from = None  # never in force: not a month (validated upstream)
    basis = p.get("basis")
    row = StandardRow(
        standard_id=standard_id,
        programme_code=p.get("programme_code"),
        admin_unit_id=p.get("admin_unit_id"),
        support_mode=p.get("support_mode"),
        component=p.get("component"),
        amount_fen=fen(p),
        basis_period=p.get("period"),
        effective_from=effective_from,
        effective_to=None,
        superseded_by=None,
        published_on=p.get("published_on"),
        basis=None if basis is None else json_text(basis),
        floor_fen=_floor(p.get("component"), basis),
        published_at_index=ev.index,
    )
    state.standards.add(standard_id, row, ev.index)
    if effective_from is None:
        return
    _regroup(state, row, ev.index)


def _regroup(state: StandardsState, row: StandardRow, index: int) -> None:
    """Add ``row`` to its group (replacing an earlier publication of the same id there) and
    re-derive every member's in-force range; changed members get a new version."""
    group = state.groups.get(row.group) or GroupRow(row.group)
    members = [m for m in orjson.loads(group.members) if m[2] != row.standard_id]
    members.append([row.effective_from, index, row.standard_id])
    group.members = json_text(members)
    state.groups.add(row.group, group, index)
    for standard_id, (effective_to, superseded_by) in in_force_ranges(members).items():
        member = state.standards.get(standard_id)
        if member is None:
            continue
        if (member.effective_to, member.superseded_by) != (effective_to, superseded_by):
            member.effective_to, member.superseded_by = effective_to, superseded_by
            state.standards.touch(standard_id, index)


class StandardsTableProjection(Projection[StandardsState]):
    """The ``StandardsTable`` projection."""

    name = "standards"
    version = 1
    types = frozenset({"BenefitStandardPublished"})
    tables = (STANDARDS, GROUPS)

    def empty(self) -> StandardsState:
        return StandardsState(Rows(STANDARDS), Rows(GROUPS))

    def load(self, tx: Tx, events: Sequence[Event]) -> StandardsState:
        """The groups the page publishes into, and every member of them."""
        keys = {
            json_text(
                [
                    p.get("programme_code"),
                    p.get("admin_unit_id"),
                    p.get("support_mode"),
                    p.get("component"),
                ]
            )
            for p in (ev.payload for ev in events)
        }
        groups = GROUPS.load(tx, keys)
        ids = {str(ev.payload.get("standard_id") or ev.stream_id) for ev in events}
        for group in groups.values():
            ids.update(m[2] for m in orjson.loads(group.members))
        return StandardsState(Rows(STANDARDS, STANDARDS.load(tx, ids)), Rows(GROUPS, groups))

    def fold(self, state: StandardsState, event: Event) -> None:
        if event.event_type == "BenefitStandardPublished":
            _published(state, event)
