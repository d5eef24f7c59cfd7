"""The built wheel contains every module (including the mapped api/, projections/, tools/
folders) and each imports from a clean location, not from the source tree."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        cwd=out,
    )
    (found,) = out.glob("minsheng_ledger-*.whl")
    return found


def _source_modules() -> set[str]:
    modules = set()
    for base, package in (
        (ROOT / "src" / "ledger", "ledger"),
        (ROOT / "api", "ledger.api"),
        (ROOT / "projections", "ledger.projections"),
        (ROOT / "tools", "ledger.tools"),
    ):
        for path in base.rglob("*.py"):
            rel = path.relative_to(base).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            modules.add(".".join([package, *parts]))
    return modules


def test_wheel_contains_every_source_module(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {
        n[:-3].replace("/", ".").removesuffix(".__init__") for n in names if n.endswith(".py")
    }

    assert _source_modules() <= in_wheel
    assert "ledger/py.typed" in names


def test_every_module_imports_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    deps = sysconfig.get_paths()["purelib"]  # third-party packages only; the editable
    # install's import hook lives in a .pth file, which is not processed for this path.
    code = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(target)!r}, {deps!r}]\n"
        "import ledger\n"
        f"assert ledger.__file__.startswith({str(target)!r}), ledger.__file__\n"
        f"for name in {sorted(_source_modules())!r}:\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_unmapped_top_level_folders_are_not_importable() -> None:
    code = (
        "import importlib.util as u; "
        "print([u.find_spec(n) is None for n in ('api', 'tools', 'projections')])"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd="/", check=True
    )

    assert result.stdout.strip() == "[True, True, True]"
