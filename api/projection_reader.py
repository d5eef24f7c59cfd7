"""The real :class:`~ledger.api.readers.ProjectionReader`: the projection store, kept current
by a follower thread in the API process.

Each API process (uvicorn worker) runs one follower. The store's positions are advanced with
compare-and-set, so several followers on one store never fold an entry twice: whichever gets
there first does the page, the others see the new position (projections/follower.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from ledger.domain.periods import Period
from ledger.projections.follower import Follower
from ledger.projections.queries import RosterPage
from ledger.projections.store import FundPage, ProjectionStore
from ledger.services.ledger import LedgerService
from ledger.settings import Settings

FOLLOW_INTERVAL = 0.2
"""Seconds between polls of the log when the projections are up to date."""


class StoreReader:
    """Answers roster and fund questions from a :class:`ProjectionStore`."""

    def __init__(self, store: ProjectionStore, follower: Follower) -> None:
        self.store = store
        self.follower = follower
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_service(cls, settings: Settings, service: LedgerService) -> StoreReader:
        """Open the projections of ``settings``' ledger, catch up, and keep following."""
        store = ProjectionStore.open(settings)
        reader = cls(store, Follower(store, service.store.log))
        reader.follower.catch_up()
        reader._thread = reader.follower.start(reader._stop, FOLLOW_INTERVAL)
        return reader

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
        """The roster page (``as_effective_at``: the benefit month containing that date)."""
        return self.store.roster(
            programme_code,
            org_id,
            status,
            as_known_at_position=as_known_at_position,
            as_known_at_time=_instant(as_known_at_time),
            as_effective_at=None if as_effective_at is None else str(Period.of(as_effective_at)),
            limit=limit,
            after=after,
        )

    def fund_ledger(
        self,
        *,
        fund_account_id: str | None = None,
        as_known_at_position: int | None = None,
        as_known_at_time: datetime | None = None,
        as_effective_at: date | None = None,
    ) -> FundPage:
        """Fund accounts; ``as_effective_at`` keeps the accounts of that date's fiscal year."""
        page = self.store.fund_ledger_page(
            fund_account_id,
            as_known_at_position=as_known_at_position,
            as_known_at_time=_instant(as_known_at_time),
        )
        if as_effective_at is None:
            return page
        rows = [r for r in page.rows if r.fiscal_year == as_effective_at.year]
        return FundPage(rows, page.position, page.state_hash)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()


def _instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
