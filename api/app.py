"""The FastAPI application: ``create_app`` (for tests and embedding) and ``app_from_env``.

``app_from_env`` is the import string uvicorn runs (``ledger serve``, or
``uvicorn ledger.api.app:app_from_env --factory``): each worker process calls it and opens
its own :class:`LedgerService` from ``LEDGER_*`` settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from ledger.api.context import ApiContext, ReaderFactory, ServiceFactory
from ledger.api.openapi import install_openapi
from ledger.api.problems import install_problem_handlers
from ledger.api.projection_reader import StoreReader
from ledger.api.render import JSONBytes
from ledger.api.routes import assessment as assessment_routes
from ledger.api.routes import events, findings, health, integrity, log, projections, read_models
from ledger.api.routes import replay as replay_routes
from ledger.api.routes.read_models_examples import install_read_examples
from ledger.bootstrap import open_ledger
from ledger.errors import LedgerError
from ledger.settings import Settings

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Signed, tamper-evident record ledger for livelihood programmes (民生工程).

Clients sign each event envelope with their Ed25519 key (`ledger.client.EnvelopeSigner`,
docs/PROTOCOL.md §2) and `POST /v1/events` the exact signed bytes. The ledger answers with a
receipt it signs; checkpoints (C2SP signed notes) and RFC 9162 proofs let anyone check that
the event stays in the log. Errors are RFC 9457 `application/problem+json` with the
ledger's `code` (e.g. `ENV-1`, `APP-8`) and `evidence`.
"""

DEFAULT_APPEND_THREADS = 64
"""Appends wait in worker threads for their group commit; each waiting request holds one.
Twice the 32 concurrent clients of the benchmark, and independent of anyio's default pool of
40, which the read routes use."""


def create_app(
    service_factory: ServiceFactory,
    *,
    reader_factory: ReaderFactory | None = None,
    checkpoint_seconds: float | None = None,
    append_threads: int = DEFAULT_APPEND_THREADS,
) -> FastAPI:
    """Build the API over the service ``service_factory()`` returns (opened at startup).

    Args:
        service_factory: opens this process's ledger service (called once, lazily retried
            while the ledger is uninitialised or unreachable: those requests get 503).
        reader_factory: builds the projection reader from the service; without one the
            roster and fund routes answer 503.
        checkpoint_seconds: issue a checkpoint every so many seconds while events arrive.
        append_threads: appends that may wait for their commit at once.
    """
    context = ApiContext(
        service_factory,
        reader_factory=reader_factory,
        checkpoint_seconds=checkpoint_seconds,
        append_threads=append_threads,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Limiters belong to the running event loop, so they are made here, not at import.
        context.append_limiter = anyio.CapacityLimiter(context.append_threads)
        try:
            await anyio.to_thread.run_sync(context.service)
        except LedgerError as e:  # keep serving: requests get 503 until the ledger is usable
            logger.warning("ledger not ready at startup: %s", e)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(context.close)

    app = FastAPI(
        title="民生工程 record ledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONBytes,
    )
    app.state.ledger = context
    install_problem_handlers(app)
    for module in (events, log, projections, integrity, health, replay_routes, findings):
        app.include_router(module.router)
    app.include_router(read_models.router)
    app.include_router(assessment_routes.router)
    install_openapi(app, lambda: context._service)
    install_read_examples(app, lambda: context._service)
    return app


def app_from_env() -> FastAPI:
    """The app for uvicorn's ``--factory``: settings from ``LEDGER_*`` (see README)."""
    settings = Settings.from_env()
    return create_app(
        lambda: open_ledger(settings),
        reader_factory=lambda service: StoreReader.for_service(settings, service),
        checkpoint_seconds=settings.checkpoint_seconds,
    )
