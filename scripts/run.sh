#!/usr/bin/env bash
# Set up, then run attachguard on its embedded defaults: the attachment service with its chat
# test page, files and SQLite metadata under .attachguard/data, and a private clamd.
# Open the URL it prints; extra options go to `attachguard serve` (see docs/service.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/attachguard serve --data .attachguard/data "$@"
