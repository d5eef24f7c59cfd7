"""What the API needs from the projections: a small reader protocol, injected at app creation.

The projections (``ledger.projections``) are built elsewhere; the API only asks questions on
the two time axes of DESIGN.md §7 and renders the answer. Any object with these methods can be
plugged in (``create_app(reader_factory=...)``); tests use a fake.

Results are rendered with orjson: dataclasses, dicts, dates, UUIDs and enums as they are;
``Decimal``/``Fraction`` as strings; ``bytes`` as base64.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol


class ProjectionView(Protocol):
    """Rows of a projection at one log position, with the projection's state hash."""

    @property
    def rows(self) -> Sequence[Any]: ...

    @property
    def position(self) -> int:
        """The last log index folded into these rows (``-1`` for none)."""

    @property
    def state_hash(self) -> Any:
        """The projection's state hash at ``position`` (bytes or text)."""


class RosterPage(ProjectionView, Protocol):
    """One page of the beneficiary roster."""

    @property
    def next_after(self) -> Any:
        """Cursor for the next page (``None`` on the last page)."""


class ProjectionReader(Protocol):
    """The read models the API serves (DESIGN.md §7; domain.md §6.5)."""

    def roster(
        self,
        *,
        programme_code: str | None = None,
        org_id: str | None = None,
        status: str | None = None,
        as_known_at_position: int | None = None,
        as_known_at_time: datetime | None = None,
        as_effective_at: date | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> RosterPage:
        """The roster as known at a log position or time, effective at a date."""
        ...

    def fund_ledger(
        self,
        *,
        fund_account_id: str | None = None,
        as_known_at_position: int | None = None,
        as_known_at_time: datetime | None = None,
        as_effective_at: date | None = None,
    ) -> ProjectionView:
        """Earmarked fund accounts (all, or one) as known at a log position or time."""
        ...
