#!/usr/bin/env bash
# Races the C++ SimCLR step (bench/simclr_step_bench) against the PyTorch
# eager reference (bench/reference/simclr_step_pytorch.py, run by Debian's
# /usr/bin/python3) on the CPU: ResNet-18 width 0.25, 28x28x1, batch 256,
# fp32 and bf16, NCHW and channels_last (NHWC, the trainer's layout on CPU),
# 2 threads. The two alternate, ROUNDS times per precision, so
# that drifting load on a shared machine hits both alike; the summary gives
# each side's median images/s and the ratio C++/PyTorch. Both sides start
# from the C++ bench's initial weights and views (--state_out, --state_in),
# and the summary says whether their first losses agree: the same step.
#
#   bench/run_cpu.sh                 # uses bazel-bin/, builds it if missing
#   SIMCLR_BENCH_BIN=build/cmake/bench/simclr_step_bench bench/run_cpu.sh
#
# Environment: ROUNDS (3), STEPS (10), WARMUP (3), THREADS (2), BATCH (256),
# PRECISIONS ("fp32 bf16"), LAYOUTS ("nchw nhwc"), OUT (a folder for results.jsonl, summary.json;
# default a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-3}
steps=${STEPS:-10}
warmup=${WARMUP:-3}
threads=${THREADS:-2}
batch=${BATCH:-256}
precisions=${PRECISIONS:-fp32 bf16}
layouts=${LAYOUTS:-nchw nhwc}
python=${PYTHON:-/usr/bin/python3}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

bin=${SIMCLR_BENCH_BIN:-bazel-bin/bench/simclr_step_bench}
if [[ ! -x $bin ]]; then
  if [[ -z ${SIMCLR_BENCH_BIN:-} ]]; then
    bazel build //bench:simclr_step_bench
  else
    echo "run_cpu: $bin is not an executable" >&2
    exit 1
  fi
fi

config=(--depth=18 --width=0.25 --image_size=28 --channels=1
        --batch="$batch" --threads="$threads" --steps="$steps"
        --warmup="$warmup" --device=cpu)
results=$out/results.jsonl
: >"$results"
# One starting point for both sides: the C++ bench's initial weights and
# views, which the PyTorch reference loads (--state_in), so that both take the
# same step and summarize.py can check that they did (their first losses).
"$bin" "${config[@]}" --steps=1 --warmup=0 --state_out="$out/initial_state.pt" >/dev/null
echo "run_cpu: $(nproc) cores, $rounds rounds, results in $out"
for round in $(seq 1 "$rounds"); do
  for precision in $precisions; do
    for layout in $layouts; do
      layout_flag=()
      if [[ $layout == nhwc ]]; then layout_flag=(--channels_last); fi
      # Alternate which side goes first from round to round.
      if ((round % 2 == 1)); then order="cpp pytorch"; else order="pytorch cpp"; fi
      for impl in $order; do
        if [[ $impl == cpp ]]; then
          line=$("$bin" "${config[@]}" "${layout_flag[@]}" --precision="$precision")
        else
          line=$("$python" bench/reference/simclr_step_pytorch.py "${config[@]}" \
                 "${layout_flag[@]}" --precision="$precision" --state_in="$out/initial_state.pt")
        fi
        echo "round $round: $(grep -v '^RESULT ' <<<"$line")"
        grep '^RESULT ' <<<"$line" >>"$results"
      done
    done
  done
done
"$python" bench/summarize.py "$results" --json "$out/summary.json"
