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

expect 0 "Usage: simclrctl [OPTIONS] [SUBCOMMAND]" --help
expect 0 "--selector" get jobs --help
expect 0 "--follow" help logs
expect 0 "simclrctl 0." version
expect 0 "complete -F _simclrctl simclrctl" completion bash
expect 2 "missing verb"
expect 2 'unknown verb "frob"' frob
expect 2 'unknown output format "xml"' get jobs -o xml
# The completion script loads in bash and offers the verbs.
words=$(bash -c 'source <("$0" completion bash); COMP_WORDS=(simclrctl ge); COMP_CWORD=1;
  _simclrctl; echo "${COMPREPLY[*]}"' "$BIN") || fail "completion script: $words"
[[ $words == get ]] || fail "completion of 'ge': '$words', expected get"
words=$(bash -c 'source <("$0" completion bash); COMP_WORDS=(simclrctl get jobs --st); COMP_CWORD=3;
  _simclrctl; echo "${COMPREPLY[*]}"' "$BIN") || fail "completion script: $words"
[[ $words == --state ]] || fail "completion of 'get jobs --st': '$words', expected --state"
expect 2 "spec 1 (x): unknown field \"modle\"" submit -f - <<<"name: x
modle: 1"
expect 2 "-f /nonexistent.yaml: cannot read" submit -f /nonexistent.yaml
expect 3 "cannot reach the coordinator at 127.0.0.1:1" \
  --coordinator=127.0.0.1:1 get jobs
SIMCLR_COORDINATOR=127.0.0.1:1 expect 3 \
  "cannot reach the coordinator at 127.0.0.1:1" \
  submit -f examples/fmnist-pipeline.yaml
echo PASS
