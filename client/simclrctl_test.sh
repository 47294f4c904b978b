#!/bin/bash
# The built simclrctl: help, exit codes of usage errors, and a coordinator
# that is not there (nothing listens on 127.0.0.1:1).
set -u
BIN=client/simclrctl
fail() { echo "FAIL: $*" >&2; exit 1; }

expect() {  # expect CODE PATTERN ARGS...: exit code and a pattern in output
  local code=$1 pattern=$2
  shift 2
  local out rc
  out=$("$BIN" "$@" 2>&1)
  rc=$?
  [[ $rc == "$code" ]] || fail "simclrctl $*: exit $rc, expected $code: $out"
  grep -qF -- "$pattern" <<<"$out" || fail "simclrctl $*: no '$pattern' in: $out"
}

expect 0 "Usage: simclrctl [--coordinator=HOST:PORT] VERB" --help
expect 0 "Usage: simclrctl get jobs|job ID|NAME|workers" help get
expect 2 "missing verb"
expect 2 'unknown verb "frob"' frob
expect 2 'unknown output format "xml"' get jobs -o xml
expect 2 "spec 1 (x): unknown field \"modle\"" submit -f - <<<"name: x
modle: 1"
expect 2 "-f /nonexistent.yaml: cannot read" submit -f /nonexistent.yaml
expect 3 "cannot reach the coordinator at 127.0.0.1:1" \
  --coordinator=127.0.0.1:1 get jobs
SIMCLR_COORDINATOR=127.0.0.1:1 expect 3 \
  "cannot reach the coordinator at 127.0.0.1:1" \
  submit -f examples/fmnist-pipeline.yaml
echo PASS
