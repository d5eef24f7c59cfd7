"""Typed errors of the projections package (all are :class:`ledger.errors.LedgerError`)."""

from __future__ import annotations

from ledger.errors import LedgerError


class ProjectionError(LedgerError):
    """A projection could not be built or queried."""

    code = "PROJ"


class LogGapError(ProjectionError):
    """The log returned entries that do not continue the follower's position."""

    code = "PROJ-GAP"


class ConcurrentFollowerError(ProjectionError):
    """Another follower advanced the same projection first; this page was rolled back."""

    code = "PROJ-CAS"


class ProjectionBehindError(ProjectionError):
    """A query asked for a log position the projection has not reached yet."""

    code = "PROJ-LAG"


class QueryError(ProjectionError):
    """A query argument is malformed (a period, a time, a limit)."""

    code = "PROJ-QUERY"
