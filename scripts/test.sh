#!/usr/bin/env bash
# Set up (scripts/setup.sh --test), then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "==> ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "==> mypy"
.venv/bin/mypy
.venv/bin/mypy tests --exclude tests/plugins
echo "==> pytest"
.venv/bin/python -m pytest "$@"
