#!/usr/bin/env bash
# Set up and run the product's main job on the embedded default (one SQLite file):
# initialise a ledger (keys in var/demo/keys, 0600), append signed registry events,
# print a C2SP checkpoint and verify the whole ledger. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
mkdir -p var/demo
exec .venv/bin/ledger --db sqlite:///var/demo/ledger.db --home var/demo/keys demo
