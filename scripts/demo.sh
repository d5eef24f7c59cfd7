#!/usr/bin/env bash
# Set up and run the product's main job on the embedded default (one SQLite file):
# initialise a ledger (keys in var/demo/keys, 0600) with a county's year of 特困/五保 support
# (written once: running this again adds nothing but a verification run), verify it, print a
# C2SP checkpoint, then serve the HTTP API on 127.0.0.1:8000 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
mkdir -p var/demo
exec .venv/bin/ledger --db sqlite:///var/demo/ledger.db --home var/demo/keys demo "$@"
