#!/usr/bin/env bash
# Guard the published API: compare protos/ with main unless main has none yet.
set -euo pipefail
buf=${1:-.tools/node_modules/.bin/buf}
if git rev-parse --verify --quiet main >/dev/null && git ls-tree -r --name-only main -- protos | grep -q '\.proto$'; then
  "$buf" breaking --against '.git#branch=main'
else
  echo "buf breaking: main has no protos yet, nothing to compare"
fi
