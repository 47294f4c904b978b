# Helpers for the observability tests that start real daemons on loopback.
# Source it; it installs an EXIT trap that stops every process started with
# `start`. Every wait is a bounded poll with a deadline.

OBS_PIDS=()
OBS_LOGS=()

obs_cleanup() {
  local pid
  for pid in "${OBS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  local deadline=$((SECONDS + 10))
  for pid in "${OBS_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
}
trap obs_cleanup EXIT
# A signal from outside (a timeout, someone's cleanup) says so in the log.
OBS_STAGE="start-up"
trap 'echo "FAIL: terminated by SIGTERM from outside the test during: $OBS_STAGE" >&2; exit 143' TERM
trap 'echo "FAIL: interrupted during: $OBS_STAGE" >&2; exit 130' INT

fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "${OBS_LOGS[@]}"; do
    echo "---- $log (last 40 lines)" >&2
    tail -n 40 "$log" >&2
  done
  exit 1
}

# A free TCP port on 127.0.0.1 (the kernel's choice; the race until the
# daemon binds it is harmless on a test machine).
pick_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME CMD...: runs CMD in the background, logging to $TEST_TMPDIR/NAME.log.
start() {
  local name=$1
  shift
  "$@" > "$TEST_TMPDIR/$name.log" 2>&1 &
  OBS_PIDS+=($!)
  OBS_LOGS+=("$TEST_TMPDIR/$name.log")
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.2 s until it succeeds.
wait_until() {
  local timeout=$1 what=$2
  shift 2
  OBS_STAGE="waiting for $what"
  local deadline=$((SECONDS + timeout))
  until "$@" > /dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.2
  done
}

# scrape HOST:PORT: the /metrics text.
scrape() { curl -fsS --max-time 5 "http://$1/metrics"; }

# job_state CTL COORDINATOR JOB: the job's state.
job_state() {
  "$1" --coordinator="$2" get job "$3" -o json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])'
}

# wait_job_final CTL COORDINATOR JOB SECONDS: waits for a final state, prints it.
wait_job_final() {
  local ctl=$1 coordinator=$2 job=$3 timeout=$4 state=""
  local deadline=$((SECONDS + timeout))
  OBS_STAGE="waiting for job $job"
  while ((SECONDS < deadline)); do
    state=$(job_state "$ctl" "$coordinator" "$job" 2>/dev/null) || state=""
    case $state in
      SUCCEEDED|FAILED|CANCELLED) echo "$state"; return 0 ;;
    esac
    sleep 0.5
  done
  echo "TIMEOUT($state)"
}
