"""Projections: followers with exactly-once tracking, and the read models they maintain.

* :class:`ProjectionStore` — ``ProjectionStore.open(settings)``; queries ``roster(...)``,
  ``fund_ledger(...)``, ``state_hash(name)``.
* :class:`Follower` — ``catch_up()``, ``rebuild()``, ``run_forever(stop_event)``.
* :class:`RosterProjection`, :class:`FundLedgerProjection` — the pure folds.
"""

from ledger.projections.follower import Follower
from ledger.projections.funds import FundLedgerProjection, FundRow
from ledger.projections.queries import RosterPage
from ledger.projections.roster import RosterProjection, RosterRow
from ledger.projections.store import ProjectionStore

__all__ = [
    "Follower",
    "FundLedgerProjection",
    "FundRow",
    "ProjectionStore",
    "RosterPage",
    "RosterProjection",
    "RosterRow",
]
