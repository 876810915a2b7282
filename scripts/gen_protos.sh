#!/usr/bin/env bash
# Generate the Python gRPC code and mypy stubs for every proto into $1 (normally gen/).
set -euo pipefail
out=${1:-gen}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON_BIN:-.venv/bin/python}
export PATH="$(dirname "$py"):$PATH"
rm -rf "$out/suoops"
mkdir -p "$out"
mapfile -t protos < <(find protos -name '*.proto' | sort)
"$py" -m grpc_tools.protoc -I protos \
  --python_out="$out" --grpc_python_out="$out" \
  --mypy_out="$out" --mypy_grpc_out="$out" \
  "${protos[@]}"
# Make every generated folder a regular package so setuptools and mypy find it.
find "$out/suoops" -type d -exec touch {}/__init__.py \;
