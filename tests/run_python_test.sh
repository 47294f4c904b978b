#!/usr/bin/env bash
# Runs a Python multi-process test with Debian's python3 (which has torch and
# grpcio), from the directory that holds it so it can import cluster.py.
set -euo pipefail
test_py="$1"
shift
cd "$(dirname "$test_py")"
exec /usr/bin/python3 -u "$(basename "$test_py")" "$@"
