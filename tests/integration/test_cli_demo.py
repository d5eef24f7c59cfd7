"""The README's main job: ``ledger demo`` twice on a fresh SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ledger.settings import Settings
from ledger.verification import verify
from ledger.verification.sources import SQLiteSource


def _demo(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.tools.cli",
            "--db",
            f"sqlite:///{tmp_path / 'l.db'}",
            "--home",
            str(tmp_path / "keys"),
            "demo",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_demo_runs_twice_without_duplicating_and_verifies(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    second = _demo(tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "verification: OK" in first.stdout
    assert "OrganisationRegistered" in first.stdout
    assert "OrganisationRegistered" not in second.stdout  # the registry is set up once
    assert second.stdout.count("IntegrityVerificationRun recorded") == 1
    report = verify(
        SQLiteSource(Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}").sqlite_path)
    )
    assert report.ok
    assert report.size == 12  # genesis + 9 registry events + one verification run per demo
