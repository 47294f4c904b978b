#!/usr/bin/env bash
# Runs a Python test script with Debian's python3, which has torch, grpcio and
# PyYAML (the `python3` on PATH may not):  run_python_test.sh SCRIPT ARGS...
# Python puts the script's folder on sys.path, so a script imports its
# neighbours (e.g. tests/cluster.py). Bazel's own Python stub would need
# `python` on PATH, which Debian does not provide.
exec /usr/bin/python3 -u "$@"
