"""HTTP part of the benchmark: signed appends over uvicorn vs the raw FastAPI POST baseline.

Both servers run as real uvicorn processes with the same options (:mod:`ledger.api.server`),
1 and 2 workers, and are loaded by ``wrk`` (one thread, 32 connections, keep-alive) on the
same machine. The raw baseline parses a ~1 KB JSON body and answers 201. The ledger gets
pre-signed, distinct envelopes (each a new event: a retried one would only be a cheap
duplicate) and the rate counted is the number of events the log actually grew by, divided by
the measured time; wrk's own request count is reported beside it.

Without ``wrk`` on PATH (Debian package ``wrk``) the HTTP rows are skipped with a note:
a Python load generator on the same two cores would measure itself, not the server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson

from ledger.bootstrap import open_store
from ledger.settings import Settings

WRK_CONNECTIONS = 32

_BODIES_LUA = """
local bodies = {}
local next_index = 1
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
function request()
  local body = bodies[next_index]
  next_index = next_index % #bodies + 1
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
end
"""


@dataclass(frozen=True)
class HttpResult:
    """One measured run."""

    requests_per_second: float
    non_2xx: int
    events_per_second: float | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"server exited with {process.returncode}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    msg = f"server on port {port} not healthy after {timeout}s"
    raise RuntimeError(msg)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_wrk(port: int, bodies_file: Path, seconds: float, workdir: Path) -> HttpResult:
    """``wrk -t1 -c32`` posting the lines of ``bodies_file`` round-robin."""
    script = workdir / "bodies.lua"
    script.write_text(_BODIES_LUA)
    wrk = shutil.which("wrk")
    assert wrk is not None
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [
            wrk,
            "-t1",
            f"-c{WRK_CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            str(bodies_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if rate is None:
        msg = f"unexpected wrk output:\n{out}"
        raise RuntimeError(msg)
    return HttpResult(float(rate.group(1)), int(bad.group(1)) if bad else 0)


def _python() -> str:
    return sys.executable


def bench_raw_baseline(workers: int, seconds: float, workdir: Path) -> HttpResult:
    """Requests/s of the raw FastAPI POST (1 KB JSON parsed, 201)."""
    body = orjson.dumps({"padding": "x" * 960, "n": 1, "ok": True}).decode()
    bodies = workdir / "raw-bodies.txt"
    bodies.write_text(body + "\n")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own module
        [
            _python(),
            "-m",
            "ledger.api.raw_baseline",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, process)
        run_wrk(port, bodies, min(2.0, seconds), workdir)  # warm-up
        return run_wrk(port, bodies, seconds, workdir)
    finally:
        stop(process)


def _write_envelopes(key: bytes, path: Path, count: int, prefix: str) -> None:
    """``count`` distinct signed events (the core benchmark's), one per line."""
    from ledger.tools.bench import _signed  # the bench imports this module lazily too

    path.write_bytes(b"".join(raw + b"\n" for raw in _signed(key, count, prefix)))


def bench_ledger_http(
    settings: Settings,
    key: bytes,
    *,
    workers: int,
    seconds: float,
    workdir: Path,
    expected_rate: float,
) -> HttpResult:
    """Signed, durably committed appends/s through ``ledger serve`` (see module docstring)."""
    tag = f"h{workers}-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    warm, measured = workdir / f"warm-{tag}.txt", workdir / f"run-{tag}.txt"
    _write_envelopes(key, warm, int(expected_rate * 2.5) + 500, f"{tag}-w")
    _write_envelopes(key, measured, int(expected_rate * seconds * 1.5) + 2000, f"{tag}-m")
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": settings.database_url,
        "LEDGER_HOME": str(settings.home.resolve()),
        "LEDGER_CHECKPOINT_EVERY": "10000",
    }
    process = subprocess.Popen(  # noqa: S603 - our own console entry point
        [
            _python(),
            "-m",
            "ledger.tools.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = open_store(settings, create_tables=False)
    try:
        wait_healthy(port, process)
        run_wrk(port, warm, 2.0, workdir)
        before = store.log.head().size
        started = time.perf_counter()
        result = run_wrk(port, measured, seconds, workdir)
        elapsed = time.perf_counter() - started
        appended = store.log.head().size - before
    finally:
        stop(process)
        store.close()
    # wrk's clock covers exactly its run; ours adds process start-up of wrk (a few ms).
    return HttpResult(result.requests_per_second, result.non_2xx, appended / elapsed)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None
