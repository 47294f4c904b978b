#!/bin/bash
# End to end: Debian's Prometheus (started by deploy/prometheus/run-local.sh,
# scraping every second) watches a real coordinator and two real workers run
# a small world-size-2 pretraining job; then every PromQL expression of every
# dashboard panel and alert rule is asked of Prometheus's HTTP API
# (e2e_queries.py says what must hold for each).
#   prometheus_e2e_test.sh COORDINATOR_BIN WORKER_BIN SIMCTL_BIN
set -u
COORDINATOR=$1 WORKER=$2 CTL=$3
source tests/observability/lib.sh

coord=127.0.0.1:$(pick_port)
coord_metrics=127.0.0.1:$(pick_port)
worker1_metrics=127.0.0.1:$(pick_port)
worker2_metrics=127.0.0.1:$(pick_port)
prom_listen=127.0.0.1:$(pick_port)

start coordinator "$COORDINATOR" --listen="$coord" --metrics_listen="$coord_metrics" \
  --state_dir="$TEST_TMPDIR/state" --heartbeat_interval=1s --missed_heartbeats=6
wait_until 30 "coordinator metrics" scrape "$coord_metrics"
start worker1 "$WORKER" --coordinator="$coord" --metrics_listen="$worker1_metrics" \
  --work_dir="$TEST_TMPDIR/worker1" --device=cpu --threads=1
start worker2 "$WORKER" --coordinator="$coord" --metrics_listen="$worker2_metrics" \
  --work_dir="$TEST_TMPDIR/worker2" --device=cpu --threads=1
worker2_pid=${OBS_PIDS[-1]}
wait_until 30 "two idle workers" \
  bash -c "curl -fsS http://$coord_metrics/metrics | grep -q 'simclr_coordinator_workers{device=\"cpu\",state=\"IDLE\"} 2'"

OBS_LOGS+=("$TEST_TMPDIR/prometheus/prometheus.log")
out=$(deploy/prometheus/run-local.sh --coordinator "$coord_metrics" \
  --worker "$worker1_metrics" --worker "$worker2_metrics" --listen "$prom_listen" \
  --dir "$TEST_TMPDIR/prometheus" --scrape-interval 1s) || fail "run-local.sh: $out"
OBS_PIDS+=("$(cat "$TEST_TMPDIR/prometheus/prometheus.pid")")
prom=http://$prom_listen
grep -qF "prometheus: $prom" <<<"$out" || fail "run-local.sh printed: $out"

query() { curl -fsS --max-time 5 "$prom/api/v1/query" --data-urlencode "query=$1"; }
# All three targets scraped successfully.
wait_until 60 "Prometheus to scrape all three targets" \
  bash -c "curl -fsS '$prom/api/v1/query' --data-urlencode 'query=count(up == 1) == 3' | grep -q '\"result\":\[{'"

start_time=$(date +%s)
# Two jobs: the second queues behind the first, so the queue-wait histogram
# (created at its first observation) also records an increase.
cat > "$TEST_TMPDIR/jobs.yaml" <<SPEC
name: observed
kind: pretrain
world_size: 2
model: {depth: 18, width_multiplier: 0.125}
data: {dataset: fashion-mnist, path: /usr/share/datasets/fashion-mnist, max_train_examples: 2048, max_test_examples: 512}
train: {batch_size: 32, max_steps: 40, seed: 1, checkpoint_every_steps: 10}
---
name: queued-behind
kind: pretrain
world_size: 2
model: {depth: 18, width_multiplier: 0.125}
data: {dataset: fashion-mnist, path: /usr/share/datasets/fashion-mnist, max_train_examples: 1024, max_test_examples: 256}
train: {batch_size: 32, max_steps: 10, seed: 2}
SPEC
ids=$("$CTL" --coordinator="$coord" submit -f "$TEST_TMPDIR/jobs.yaml") || fail "submit: $ids"
read -r -d '' job job2 <<<"$ids"
[[ -n $job && -n $job2 ]] || fail "submit printed: $ids"
# A request that fails (NOT_FOUND), so the RPC error panels have a series.
"$CTL" --coordinator="$coord" get job no-such-job > /dev/null 2>&1 && fail "get job no-such-job succeeded"

for j in "$job" "$job2"; do
  state=$(wait_job_final "$CTL" "$coord" "$j" 150)
  [[ $state == SUCCEEDED ]] || fail "job $j ended $state: $("$CTL" --coordinator="$coord" get job "$j" -o json)"
done
# Prometheus has scraped the end of the run: both jobs counted as finished
# and the last evaluation present.
wait_until 30 "Prometheus to see the jobs finish" bash -c \
  "curl -fsS '$prom/api/v1/query' --data-urlencode 'query=sum(simclr_coordinator_jobs_finished_total{state=\"SUCCEEDED\"}) == 2 and on() count(simclr_worker_top1) > 0' | grep -q '\"result\":\[{'"
# A late worker: the heartbeat age is exported by worker only for those
# (NOTE [fleet-level series]). worker2 stopped is late after 1.5 intervals and
# lost after six (--missed_heartbeats); Prometheus must record its series in
# two scrapes, so that the range queries below, a second apart, meet it.
kill -STOP "$worker2_pid"
wait_until 10 "Prometheus to see a late worker in two scrapes" bash -c \
  "curl -fsS '$prom/api/v1/query' --data-urlencode 'query=count_over_time(simclr_coordinator_worker_heartbeat_age_seconds[10s]) >= 2' | grep -q '\"result\":\[{'"
kill -CONT "$worker2_pid"
end_time=$(date +%s.%N)

OBS_STAGE="querying Prometheus"
/usr/bin/python3 tests/observability/e2e_queries.py --prometheus "$prom" \
  --start "$((start_time - 5))" --end "$end_time" --expect-job "$job" \
  --rules deploy/prometheus/rules/simclr-alerts.yml \
  deploy/grafana/dashboards/simclr-cluster.json deploy/grafana/dashboards/simclr-training.json \
  || fail "dashboard or alert expressions failed against the live Prometheus"
echo PASS
