#!/usr/bin/env bash
# Starts Debian's Prometheus (/usr/bin/prometheus) scraping a local SimCLR
# coordinator and its workers, with the alert rules loaded, then prints its URL.
#
#   deploy/prometheus/run-local.sh --coordinator 127.0.0.1:9090 \
#       --worker 127.0.0.1:9101 --worker 127.0.0.1:9102 [--listen 127.0.0.1:9099] \
#       [--dir DIR] [--scrape-interval 5s] [--retention 2d] [--foreground]
#
# --coordinator and --worker are the daemons' --metrics_listen addresses.
# DIR (default: a new temporary directory) receives prometheus.yml, the rules,
# targets/*.json (file_sd: rewrite workers.json to add workers while it runs),
# the TSDB in data/, prometheus.log and prometheus.pid.
#
# Without --foreground it returns once Prometheus answers /-/ready (at most
# 60 s), printing "prometheus: URL" and "pid: N" on stdout; stop it with
# `kill N`. With --foreground it runs Prometheus in place of the script.
# Exit codes: 0 ready, 1 Prometheus failed to start, 2 bad arguments.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prometheus_bin=${PROMETHEUS:-/usr/bin/prometheus}

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "run-local.sh: $*" >&2; exit 2; }

coordinator=""
workers=()
listen=127.0.0.1:9099
dir=""
interval=5s
retention=2d
foreground=0
while (($#)); do
  case "$1" in
    --coordinator) coordinator=${2:?}; shift 2 ;;
    --worker) workers+=("${2:?}"); shift 2 ;;
    --listen) listen=${2:?}; shift 2 ;;
    --dir) dir=${2:?}; shift 2 ;;
    --scrape-interval) interval=${2:?}; shift 2 ;;
    --retention) retention=${2:?}; shift 2 ;;
    --foreground) foreground=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
done
[[ -n $coordinator ]] || die "--coordinator HOST:PORT is required"
[[ $interval =~ ^[0-9]+(ms|s|m)$ ]] || die "--scrape-interval: got \"$interval\", expected e.g. 5s"
[[ -x $prometheus_bin ]] || die "$prometheus_bin not found (scripts/setup installs Debian's prometheus)"
for t in "$coordinator" ${workers[@]+"${workers[@]}"}; do
  [[ $t =~ ^[^:/[:space:]]+:[0-9]+$ ]] || die "target \"$t\": expected HOST:PORT"
done

if [[ -z $dir ]]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/simclr-prometheus.XXXXXX"); fi
mkdir -p "$dir/rules" "$dir/targets" "$dir/data"

# The checked-in config with the chosen interval; rules and targets beside it.
sed -E "s/^(  (scrape|evaluation)_interval:) .*/\1 $interval/" \
  "$here/prometheus-local.yml" > "$dir/prometheus.yml"
cp "$here/rules/simclr-alerts.yml" "$dir/rules/"

json_list() {  # json_list A B ... -> ["A", "B", ...]
  local out="" t
  for t in "$@"; do out+="${out:+, }\"$t\""; done
  printf '[%s]' "$out"
}
# Written to a temporary name and renamed, so Prometheus never reads half a file.
printf '[{"targets": %s}]\n' "$(json_list "$coordinator")" > "$dir/targets/.coordinator.json"
mv "$dir/targets/.coordinator.json" "$dir/targets/coordinator.json"
printf '[{"targets": %s}]\n' "$(json_list ${workers[@]+"${workers[@]}"})" > "$dir/targets/.workers.json"
mv "$dir/targets/.workers.json" "$dir/targets/workers.json"

args=(--config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data"
      --storage.tsdb.retention.time="$retention" --web.listen-address="$listen"
      --web.enable-lifecycle)
if ((foreground)); then
  echo "prometheus: http://$listen"
  exec "$prometheus_bin" "${args[@]}"
fi

"$prometheus_bin" "${args[@]}" > "$dir/prometheus.log" 2>&1 &
pid=$!
echo "$pid" > "$dir/prometheus.pid"
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null "http://$listen/-/ready" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run-local.sh: prometheus exited; last lines of $dir/prometheus.log:" >&2
    tail -n 20 "$dir/prometheus.log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "run-local.sh: prometheus not ready after 60 s; see $dir/prometheus.log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  sleep 0.2
done
echo "prometheus: http://$listen"
echo "pid: $pid"
echo "dir: $dir"
