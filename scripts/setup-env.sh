#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it, with extras given as "$1".
# Shared by scripts/demo.sh and scripts/test.sh; needs only python3 >= 3.11 and network
# access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# Strict editable mode: the top-level api/, projections/ and tools/ folders are mapped into
# the ledger package; strict mode makes that mapping visible to mypy (see setup.py).
.venv/bin/python -m pip install -q --disable-pip-version-check \
  -e ".${extras:+[$extras]}" --config-settings editable_mode=strict
