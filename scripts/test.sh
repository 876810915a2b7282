#!/usr/bin/env bash
# `make test`: every check, then the whole suite against real PostgreSQL, Redis and S3.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
BUF=.tools/node_modules/.bin/buf

bash scripts/ensure_services.sh

echo "== lint"
$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy
$BUF lint
bash scripts/buf_breaking.sh "$BUF"

echo "== tests"
# Two workers: this machine has two cores. Each worker makes its own database.
set +e
$BIN/pytest -n 2 --dist loadfile -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "no tests were collected" >&2
  exit 1
fi
exit "$status"
