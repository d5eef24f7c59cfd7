#!/usr/bin/env bash
# Development helper: make newly created modules importable from .venv.
# The strict editable install links each file that existed at install time, so a new module
# needs a re-install; the flock lets several shells do this at once safely.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>.venv/.relink.lock
flock 9
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
  -e . --config-settings editable_mode=strict 2>/dev/null
