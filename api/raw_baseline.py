"""The benchmark's denominator: a bare FastAPI POST that parses a ~1 KB JSON body, returns 201.

It runs under exactly the server options of ``ledger serve`` (:func:`server_options`), so the
ratio "signed appends/s over HTTP ÷ raw POSTs/s" isolates the cost of the ledger itself::

    python -m ledger.api.raw_baseline --port 8001 --workers 2
    uvicorn ledger.api.raw_baseline:create_baseline_app --factory --port 8001 --http httptools
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import orjson
import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import Response

from ledger.api.server import server_options

_CREATED = b'{"status":"created"}'


def create_baseline_app() -> FastAPI:
    """The raw app: ``POST /v1/events`` parses the JSON body and answers 201."""
    app = FastAPI(title="raw POST baseline", openapi_url=None)

    @app.post("/v1/events", status_code=201)
    async def receive(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(_CREATED, 201, media_type="application/json")

    @app.get("/healthz")
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Run the baseline app with the same uvicorn options as ``ledger serve``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        "ledger.api.raw_baseline:create_baseline_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **server_options(),
    )


if __name__ == "__main__":
    main()
