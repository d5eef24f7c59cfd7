"""uvicorn options shared by ``ledger serve`` and the raw baseline (same server, fair test).

``uvicorn[standard]`` brings httptools (HTTP parsing in C) and uvloop; together they are 2 to
3.4x faster than the pure-Python defaults on this kind of machine (shared/perf-baseline.md).
They are chosen explicitly when installed, so a missing one is visible in the banner, not a
silent slowdown.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def has_module(name: str) -> bool:
    """Whether ``name`` can be imported (without importing it)."""
    return importlib.util.find_spec(name) is not None


def server_options(*, access_log: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``.

    The access log is off by default: every append is recorded, signed and timestamped in the
    ledger itself, and a log line per request costs a measurable share of the request budget.
    """
    return {
        "http": "httptools" if has_module("httptools") else "h11",
        "loop": "uvloop" if has_module("uvloop") else "asyncio",
        "access_log": access_log,
        # More than the 32+ concurrent clients we expect, so bursts queue in the kernel, not
        # as refused connections.
        "backlog": 2048,
        "timeout_keep_alive": 30,
    }
