#!/usr/bin/env bash
# The whole test suite: lint, format, types, then pytest on SQLite (and PostgreSQL when
# PROBLEMBILD_TEST_POSTGRES=1). Browser tests drive Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
scripts/system-deps.sh
echo "== ruff"; $BIN/ruff check src tests benchmarks; $BIN/ruff format --check src tests benchmarks
echo "== mypy problembild.analysis"; $BIN/mypy src/problembild/analysis
echo "== import-linter (architecture contracts in pyproject.toml)"; $BIN/lint-imports --no-cache
echo "== Django checks"; DJANGO_SETTINGS_MODULE=problembild.settings.test $BIN/python -m django check
echo "== pytest (SQLite)"
$BIN/pytest -n 2 --dist loadfile -m "not browser" "$@"
# Playwright's sync API runs an event loop in its process; Django then refuses database
# calls there, so the browser tests run in their own pytest process.
echo "== browser tests (Debian's Chromium)"
$BIN/pytest -m browser tests/browser "$@"
if [ "${PROBLEMBILD_TEST_POSTGRES:-0}" = "1" ]; then
  URL=$(scripts/pg-test-cluster.sh start)
  echo "== pytest (PostgreSQL at $URL)"
  DATABASE_URL="$URL" $BIN/pytest -n 2 --dist loadfile -m "not browser" "$@"
fi
