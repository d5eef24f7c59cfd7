#!/usr/bin/env bash
# Set up and run the whole test suite: ruff, mypy (strict), pytest.
# PostgreSQL at 127.0.0.1:5432 is used when reachable and is mandatory when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy --strict"
.venv/bin/mypy
echo "== pytest"
# 'pytest' rather than 'python -m pytest': the latter would put the repository root on
# sys.path and make the unmapped top-level folders importable (see style.md §7).
.venv/bin/pytest "$@"
