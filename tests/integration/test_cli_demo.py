"""The README's main job: ``ledger demo`` on a fresh SQLite file, twice, then serving."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from ledger.settings import Settings
from ledger.tools.bench_http import free_port, stop, wait_healthy
from ledger.verification import verify
from ledger.verification.sources import SQLiteSource


def _command(tmp_path: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ledger.tools.cli",
        "--db",
        f"sqlite:///{tmp_path / 'l.db'}",
        "--home",
        str(tmp_path / "keys"),
        "demo",
        *args,
    ]


def _demo(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(tmp_path, "--no-serve"), capture_output=True, text=True, check=False
    )


def _size(tmp_path: Path) -> int:
    report = verify(
        SQLiteSource(Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}").sqlite_path)
    )
    assert report.ok, report.findings[:3]
    return report.size


def test_demo_runs_twice_without_duplicating_and_verifies(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stderr
    size_after_first = _size(tmp_path)
    second = _demo(tmp_path)
    assert second.returncode == 0, second.stderr

    assert "county-hx: 36 applicants, 30 enrolled, 6 rejected" in first.stdout
    assert "county-dz S=96.125 (vetoed)" in first.stdout
    assert "audit-finding detectors: 0 finding(s)" in first.stdout
    assert "verification (V1-V11): OK" in first.stdout
    assert "53 active beneficiaries" in first.stdout
    assert "demo data already present" in second.stdout
    assert "36 applicants" not in second.stdout
    # The second run adds exactly one event: its own verification run.
    assert _size(tmp_path) == size_after_first + 1
    # Personal data stays out of the log: the identity registry is a separate file.
    assert (tmp_path / "l.identity.db").exists()
    assert b"340000" not in (tmp_path / "l.db").read_bytes()


def _ledger(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [*_command(tmp_path)[:-1], *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_project_rebuild_gives_the_same_state_hashes_and_a_fresh_case_index(
    tmp_path: Path,
) -> None:
    assert _demo(tmp_path).returncode == 0
    incremental = _ledger(tmp_path, "project")
    rebuilt = _ledger(tmp_path, "project", "--rebuild")
    hashes = [line for line in incremental.splitlines() if "state hash" in line]
    assert len(hashes) >= 9
    assert hashes == [line for line in rebuilt.splitlines() if "state hash" in line]
    size = _size(tmp_path)
    assert f"case index: {size} log entries indexed, at position {size}" in rebuilt


def _get(port: int, path: str) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def test_demo_serves_the_roster_and_the_fund_ledger(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        _command(tmp_path, "--port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(port, process, timeout=120)
        roster = _get(port, "/v1/roster?status=ACTIVE&limit=1000")
        rows = roster["rows"]
        assert isinstance(rows, list)
        assert len(rows) == 53
        funds = _get(port, "/v1/funds")
        (fund,) = [
            row
            for row in funds["rows"]  # type: ignore[attr-defined]
            if row["fund_account_id"] == "fund-county-hx-tekun-2024"
        ]
        assert fund["received_fen"] == 6_000_000
        assert fund["committed_unsettled_fen"] == 0
        early = _get(port, "/v1/roster?status=ACTIVE&limit=1000&as_known_at=300")
        assert early["position"] == 300
        assert len(early["rows"]) < 53  # type: ignore[arg-type]
    finally:
        stop(process)
        output = process.stdout.read() if process.stdout else ""
    assert "ledger API on http://127.0.0.1:" in output
    assert "ledger --db" in output and "verify" in output
