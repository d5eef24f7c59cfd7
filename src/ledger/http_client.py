"""A small HTTP client for the ledger API, standard library only (``http.client``).

For other Python systems that submit signed envelopes (built with
:class:`ledger.client.EnvelopeSigner`) and read the log, proofs and projections::

    api = LedgerHTTPClient("http://127.0.0.1:8000")
    receipt = api.post_event(signer.sign(event_type=..., ...))
    note = api.latest_checkpoint()

Connections are kept alive, one per thread, so a client object may be shared by threads.
A request that fails because the kept-alive connection was closed by the server is sent once
more on a fresh connection; that is safe even for ``POST /v1/events`` because the envelope's
``event_id`` is its idempotency key (a repeat returns the original receipt).
Refusals raise :class:`LedgerHTTPError` with the status and the RFC 9457 problem document.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class LedgerHTTPError(Exception):
    """The API refused a request (or failed): ``status`` and the problem JSON."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem: Mapping[str, Any] = problem
        super().__init__(f"HTTP {status} {self.code}: {problem.get('detail', '')}")

    @property
    def code(self) -> str:
        """The ledger's error code (e.g. ``ENV-3``, ``APP-8``)."""
        return str(self.problem.get("code", ""))

    @property
    def evidence(self) -> Mapping[str, Any]:
        """The values that decided the refusal."""
        evidence: Mapping[str, Any] = self.problem.get("evidence") or {}
        return evidence


class LedgerHTTPClient:
    """Client for the ledger's ``/v1`` API (see module docstring)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"base_url must be http(s)://host[:port][/prefix], got {base_url!r}"
            raise ValueError(msg)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()

    # ------------------------------------------------------------------ appends

    def post_event(self, raw: bytes) -> dict[str, Any]:
        """Submit one signed envelope (its exact bytes); the ledger's receipt.

        An identical retry returns the original receipt (HTTP 200 instead of 201).
        """
        result: dict[str, Any] = self._json("POST", "/v1/events", raw)
        return result

    def post_batch(self, raws: Sequence[bytes]) -> list[dict[str, Any]]:
        """Submit envelopes of one stream atomically; their receipts, in order."""
        # The envelopes are embedded verbatim: no decoding and re-encoding on the way.
        body = b'{"events":[' + b",".join(raws) + b"]}"
        receipts: list[dict[str, Any]] = self._json("POST", "/v1/events", body)["receipts"]
        return receipts

    # ------------------------------------------------------------------ reads

    def event(self, event_id: str) -> dict[str, Any]:
        """One recorded event with its log index, recorded_at and leaf hash."""
        result: dict[str, Any] = self._json("GET", f"/v1/events/{quote(event_id, safe='')}")
        return result

    def events(
        self, stream_type: str, stream_id: str, *, after_version: int = 0, limit: int = 100
    ) -> dict[str, Any]:
        """A page of a stream's events (``next_after_version`` continues it)."""
        path = f"/v1/streams/{quote(stream_type, safe='')}/{quote(stream_id, safe='')}/events"
        return self._get(path, after_version=after_version, limit=limit)

    def log(self, start: int = 0, limit: int = 100) -> dict[str, Any]:
        """A page of the global log from index ``start`` (``next`` continues it)."""
        return self._get("/v1/log", **{"from": start, "limit": limit})

    def roster(self, **filters: Any) -> dict[str, Any]:
        """The roster page for ``filters`` (``programme``, ``org_id``, ``status``,
        ``as_known_at``, ``as_known_at_time``, ``as_effective_at``, ``limit``, ``after``)."""
        return self._get("/v1/roster", **filters)

    def fund_ledger(self, fund_account_id: str | None = None, **filters: Any) -> dict[str, Any]:
        """All fund accounts, or one, as known at / effective at ``filters``."""
        path = "/v1/funds" if fund_account_id is None else f"/v1/funds/{quote(fund_account_id)}"
        return self._get(path, **filters)

    def latest_checkpoint(self) -> str:
        """The latest checkpoint as its C2SP signed note text."""
        return self._request("GET", "/v1/checkpoints/latest", accept="text/plain").decode()

    def checkpoint(self, size: int) -> str:
        """The checkpoint issued at ``size``, as its signed note text."""
        return self._request("GET", f"/v1/checkpoints/{int(size)}", accept="text/plain").decode()

    def inclusion_proof(
        self,
        index: int | None = None,
        tree_size: int | None = None,
        *,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """RFC 9162 inclusion proof (hashes base64) of ``index`` or ``event_id``."""
        return self._get(
            "/v1/proofs/inclusion", index=index, tree_size=tree_size, event_id=event_id
        )

    def consistency_proof(self, old: int, new: int | None = None) -> dict[str, Any]:
        """RFC 9162 consistency proof from tree size ``old`` to ``new`` (default: latest)."""
        return self._get("/v1/proofs/consistency", old=old, new=new)

    def receipt(self, index: int) -> dict[str, Any]:
        """The receipt of the event at log ``index``."""
        result: dict[str, Any] = self._json("GET", f"/v1/receipts/{int(index)}")
        return result

    def health(self) -> dict[str, Any]:
        """``/healthz``: raises :class:`LedgerHTTPError` (503) while the ledger is not ready."""
        result: dict[str, Any] = self._json("GET", "/healthz")
        return result

    def close(self) -> None:
        """Close this thread's connection."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ plumbing

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        query = urlencode({k: _param(v) for k, v in params.items() if v is not None})
        result: dict[str, Any] = self._json("GET", f"{path}?{query}" if query else path)
        return result

    def _json(self, method: str, path: str, body: bytes | None = None) -> Any:
        return json.loads(self._request(method, path, body))

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _request(
        self, method: str, path: str, body: bytes | None = None, accept: str = "application/json"
    ) -> bytes:
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except _RETRYABLE:
                self.close()
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self.close()  # the connection is mid-request: unusable
                raise
            if response.will_close:
                self.close()
            if response.status >= 400:
                raise LedgerHTTPError(response.status, _problem(response.status, data))
            return data
        raise AssertionError("unreachable")  # pragma: no cover


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _problem(status: int, data: bytes) -> Mapping[str, Any]:
    try:
        problem = json.loads(data)
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        return problem
    return {"status": status, "detail": data[:500].decode("utf-8", "replace"), "code": ""}
