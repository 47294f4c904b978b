#!/bin/bash
# `promtool check metrics` on live scrapes of a real coordinator and a real
# worker: the coordinator after a job ran, the worker both mid-task (when the
# per-task gauges and step-phase histograms exist) and after it (last
# evaluation, checkpoint histogram). Also checks that each scrape carries the
# metric families it should, so a lint pass on an empty page cannot pass.
#   metrics_lint_test.sh COORDINATOR_BIN WORKER_BIN SIMCTL_BIN
set -u
COORDINATOR=$1 WORKER=$2 CTL=$3
source tests/observability/lib.sh

grpc_port=$(pick_port) coord_metrics=127.0.0.1:$(pick_port) worker_metrics=127.0.0.1:$(pick_port)
coord=127.0.0.1:$grpc_port
start coordinator "$COORDINATOR" --listen="$coord" --metrics_listen="$coord_metrics" \
  --state_dir="$TEST_TMPDIR/state" --heartbeat_interval=1s
wait_until 30 "coordinator metrics" scrape "$coord_metrics"
start worker "$WORKER" --coordinator="$coord" --metrics_listen="$worker_metrics" \
  --work_dir="$TEST_TMPDIR/worker" --device=cpu --threads=1
wait_until 30 "worker registration" \
  bash -c "curl -fsS http://$coord_metrics/metrics | grep -q 'simclr_coordinator_workers{device=\"cpu\",state=\"IDLE\"} 1'"

# An idle worker already says what it is and how its tasks and heartbeats
# fare (counters present at zero), with the standard process metrics.
wait_until 30 "an answered heartbeat" bash -c \
  "curl -fsS http://$worker_metrics/metrics | grep -q '^simclr_worker_last_heartbeat_success_timestamp_seconds [1-9]'"
idle=$TEST_TMPDIR/worker-idle.txt
scrape "$worker_metrics" > "$idle" || fail "idle worker scrape"
for line in 'simclr_worker_tasks_finished_total{result="succeeded"} 0' \
    'simclr_worker_tasks_finished_total{result="failed"} 0' \
    'simclr_worker_tasks_finished_total{result="cancelled"} 0' \
    'simclr_worker_heartbeat_failures_total 0' \
    'simclr_worker_trainer_resident_memory_bytes 0'; do
  grep -qF "$line" "$idle" || fail "idle worker scrape lacks: $line"
done
grep -q '^simclr_worker_info{.*device="cpu".*version="[0-9][^"]*"} 1$' "$idle" ||
  fail "idle worker scrape lacks simclr_worker_info with device and version: $(grep info "$idle")"

cat > "$TEST_TMPDIR/job.yaml" <<SPEC
name: lint
kind: pretrain
world_size: 1
model: {depth: 18, width_multiplier: 0.125}
data: {dataset: fashion-mnist, path: /usr/share/datasets/fashion-mnist, max_train_examples: 1024, max_test_examples: 256}
train: {batch_size: 32, max_steps: 40, seed: 1, checkpoint_every_steps: 20}
SPEC
"$CTL" --coordinator="$coord" submit -f "$TEST_TMPDIR/job.yaml" > /dev/null || fail "submit"

# Mid-task: poll until a scrape holds the per-task series (bounded).
mid=$TEST_TMPDIR/worker-mid.txt
deadline=$((SECONDS + 120))
until scrape "$worker_metrics" > "$mid" 2>/dev/null && grep -q '^simclr_worker_step_phase_seconds_bucket{' "$mid"; do
  ((SECONDS < deadline)) || fail "no scrape with per-task series within 120 s"
  sleep 0.1
done
state=$(wait_job_final "$CTL" "$coord" lint 150)
[[ $state == SUCCEEDED ]] || fail "job ended $state"
scrape "$worker_metrics" > "$TEST_TMPDIR/worker-end.txt" || fail "worker scrape"
scrape "$coord_metrics" > "$TEST_TMPDIR/coordinator.txt" || fail "coordinator scrape"

expect_families() {  # expect_families FILE NAME...: each NAME has a TYPE line
  local file=$1
  shift
  for name in "$@"; do
    grep -q "^# TYPE $name " "$file" || fail "$(basename "$file") lacks $name"
  done
}
expect_families "$TEST_TMPDIR/coordinator.txt" simclr_coordinator_jobs \
  simclr_coordinator_jobs_submitted_total simclr_coordinator_jobs_finished_total \
  simclr_coordinator_attempt_failures_total simclr_coordinator_job_restarts_total \
  simclr_coordinator_queue_wait_seconds simclr_coordinator_workers \
  simclr_coordinator_worker_heartbeat_age_seconds simclr_coordinator_worker_heartbeat_age_max_seconds \
  simclr_coordinator_rpcs_total \
  simclr_coordinator_rpc_duration_seconds simclr_coordinator_unauthenticated_requests_total \
  simclr_coordinator_stale_reports_total simclr_coordinator_unhealthy_workers \
  simclr_coordinator_info simclr_coordinator_oldest_queued_job_age_seconds \
  process_cpu_seconds_total process_start_time_seconds process_open_fds process_max_fds \
  process_resident_memory_bytes process_virtual_memory_bytes
expect_families "$mid" simclr_worker_step simclr_worker_total_steps simclr_worker_epoch \
  simclr_worker_loss simclr_worker_learning_rate simclr_worker_images_per_second \
  simclr_worker_step_phase_seconds simclr_worker_steps_total simclr_worker_tasks_running \
  simclr_worker_trainer_resident_memory_bytes process_resident_memory_bytes
# The SimCLR job id is job_id: a `job` label would clash with the scrape job's.
grep -q '^simclr_worker_step{.*job_id="' "$mid" || fail "simclr_worker_step lacks job_id"
! grep -q '[{,]job="' "$mid" || fail "a worker series carries a job label: $(grep '[{,]job="' "$mid" | head -1)"
expect_families "$TEST_TMPDIR/worker-end.txt" simclr_worker_top1 simclr_worker_top5 \
  simclr_worker_checkpoint_write_seconds
grep -qF 'simclr_worker_tasks_finished_total{result="succeeded"} 1' "$TEST_TMPDIR/worker-end.txt" ||
  fail "the finished task is not counted as succeeded"

for file in coordinator.txt worker-idle.txt worker-mid.txt worker-end.txt; do
  out=$(promtool check metrics < "$TEST_TMPDIR/$file" 2>&1)
  rc=$?
  [[ $rc == 0 && -z $out ]] || fail "promtool check metrics on $file (rc $rc): $out"
  echo "$file: $(grep -vc '^#' "$TEST_TMPDIR/$file") samples, promtool check metrics clean"
done
echo PASS
