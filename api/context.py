"""The per-process state of the API: the ledger service, the projection reader, thread limits.

Each uvicorn worker is its own process with its own :class:`ApiContext` and therefore its own
:class:`LedgerService` on the shared database (the stores support several processes).

The service is opened lazily and re-tried: a server started before ``ledger init``, or while
the database is down, answers 503 until the ledger is usable, instead of refusing to start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import anyio
from fastapi import Depends, Request

from ledger.api.problems import UNAVAILABLE, UNINITIALISED
from ledger.api.readers import ProjectionReader
from ledger.errors import LedgerError, LedgerStateError
from ledger.services.ledger import AppendResult, LedgerService

log = logging.getLogger(__name__)

ServiceFactory = Callable[[], LedgerService]
ReaderFactory = Callable[[LedgerService], ProjectionReader]


@dataclass
class ApiContext:
    """Lazily opened service and reader (see module docstring)."""

    service_factory: ServiceFactory
    reader_factory: ReaderFactory | None = None
    checkpoint_seconds: float | None = None
    append_threads: int = 64
    append_limiter: anyio.CapacityLimiter | None = None
    _service: LedgerService | None = None
    _reader: ProjectionReader | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def service(self) -> LedgerService:
        """The initialised ledger service; blocking on first use (call from a thread).

        Raises:
            LedgerStateError: code ``UNINITIALISED`` or ``UNAVAILABLE`` (HTTP 503).
        """
        service = self._service
        if service is not None and service.registry.origin is not None:
            return service
        return self._open()

    def opened(self) -> LedgerService | None:
        """The service if it is already open (never opens it: for documentation pages)."""
        return self._service

    def _open(self) -> LedgerService:
        with self._lock:
            if self._service is None:
                self._service = self._create()
            service = self._service
        # The ledger may have been initialised (by `ledger init`) since we opened it.
        if service.registry.origin is None and not service.refresh_registry():
            raise LedgerStateError(
                "the ledger is not initialised (run `ledger init`)", code=UNINITIALISED
            )
        return service

    def _create(self) -> LedgerService:
        try:
            service = self.service_factory()
        except FileNotFoundError as e:  # no ledger key in LEDGER_HOME: never initialised
            raise LedgerStateError(
                f"the ledger is not initialised (run `ledger init`): {e}", code=UNINITIALISED
            ) from e
        except LedgerError:
            raise
        except Exception as e:  # e.g. the database is down: 503 and try again next request
            log.exception("could not open the ledger")
            raise LedgerStateError("the ledger store is not reachable", code=UNAVAILABLE) from e
        if self.checkpoint_seconds:
            service.start_checkpoint_timer(self.checkpoint_seconds)
        return service

    def reader(self) -> ProjectionReader:
        """The projection reader, created on first use."""
        if self._reader is not None:
            return self._reader
        if self.reader_factory is None:
            raise LedgerStateError("no projection reader is configured", code=UNAVAILABLE)
        service = self.service()
        with self._lock:
            if self._reader is None:
                self._reader = self.reader_factory(service)
            return self._reader

    def append(self, raw: bytes) -> AppendResult:
        """Append one envelope (runs in a worker thread: it waits for the group commit)."""
        return self.service().append(raw)

    def append_batch(self, raws: list[bytes]) -> list[AppendResult]:
        """Append envelopes of one stream atomically (worker thread)."""
        return self.service().append_batch(raws)

    def close(self) -> None:
        """Stop the projection follower and the checkpoint timer; close the stores."""
        with self._lock:
            close_reader = getattr(self._reader, "close", None)
            if close_reader is not None:
                close_reader()
            self._reader = None
            if self._service is not None:
                self._service.close()
                self._service = None


def get_context(request: Request) -> ApiContext:
    """The :class:`ApiContext` of this app."""
    context: ApiContext = request.app.state.ledger
    return context


def get_service(request: Request) -> LedgerService:
    """Dependency: the ledger service (a sync dependency, so FastAPI opens it in a thread)."""
    return get_context(request).service()


def get_reader(request: Request) -> ProjectionReader:
    """Dependency: the projection reader."""
    return get_context(request).reader()


ContextDep = Annotated[ApiContext, Depends(get_context)]
ServiceDep = Annotated[LedgerService, Depends(get_service)]
ReaderDep = Annotated[ProjectionReader, Depends(get_reader)]
