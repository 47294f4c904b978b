#!/usr/bin/env bash
# One prepared run for a GPU machine (CUDA, cmake, ninja and a pip PyTorch; no
# Bazel, no apt, no network): configures the CMake mirror against the pip
# LibTorch, builds the model libraries and bench/, and races the C++ SimCLR
# pretraining step against the PyTorch eager reference on the same device:
# ResNet-50 1x, 224x224x3, batch 128 (256 views), bf16 autocast,
# channels_last, alternating C++ and PyTorch for ROUNDS rounds.
#
#   bench/gpu/run.sh                      # results under $OUT, else build/gpu-results
#
# The libraries a pip PyTorch lacks (Abseil, gRPC, protobuf, ...): carry
# build/gpu-deps made on a Debian machine by scripts/make-deps-prefix (or set
# SIMCLR_DEPS_PREFIX), or have them installed. scripts/gpu-check, the whole
# prepared GPU run, calls this script for its race.
#
# Environment (defaults in brackets): PYTHON [python3], TORCH_PREFIX [from
# torch.utils.cmake_prefix_path], SIMCLR_DEPS_PREFIX [build/gpu-deps],
# BUILD_DIR [build/gpu], JOBS [nproc], DEVICE [cuda], DEPTH [50], WIDTH [1],
# IMAGE_SIZE [224], CHANNELS [3], BATCH [128], PRECISION [bf16],
# CHANNELS_LAST [1], CUDNN_BENCHMARK [1 on cuda: both sides let cuDNN time
# its algorithms], ROUNDS [3], STEPS [20], WARMUP [5], THREADS [nproc],
# COMPILE [0: 1 adds torch.compile as a third implementation, each run cut
# off after COMPILE_TIMEOUT seconds [150] and dropped for the later rounds
# once it is].
# DEVICE=cpu with a small configuration exercises the script without a GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

out=${OUT:-$repo/build/gpu-results}
mkdir -p "$out"
exec > >(tee "$out/run.log") 2>&1

python=${PYTHON:-python3}
build_dir=${BUILD_DIR:-build/gpu}
jobs=${JOBS:-$(nproc)}
device=${DEVICE:-cuda}
rounds=${ROUNDS:-3}
compile=${COMPILE:-0}
compile_timeout=${COMPILE_TIMEOUT:-150}
config=(--depth="${DEPTH:-50}" --width="${WIDTH:-1}"
        --image_size="${IMAGE_SIZE:-224}" --channels="${CHANNELS:-3}"
        --batch="${BATCH:-128}" --precision="${PRECISION:-bf16}"
        --device="$device" --threads="${THREADS:-$(nproc)}"
        --steps="${STEPS:-20}" --warmup="${WARMUP:-5}")
if [[ ${CHANNELS_LAST:-1} == 1 ]]; then config+=(--channels_last); fi
if [[ $device == cuda && ${CUDNN_BENCHMARK:-1} == 1 ]]; then config+=(--cudnn_benchmark); fi

echo "== machine"
date -u
uname -a
nproc
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
fi
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
      "cuda available", torch.cuda.is_available())'
cmake --version | head -1

# --- LibTorch and the other dependencies ------------------------------------
torch_prefix=${TORCH_PREFIX:-$("$python" -c 'import torch;print(torch.utils.cmake_prefix_path)')}
prefix_path=""
if [[ -d $torch_prefix ]]; then prefix_path=$torch_prefix; fi
deps=${SIMCLR_DEPS_PREFIX:-$repo/build/gpu-deps}
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [[ -d $deps/usr ]]; then
  deps=$(cd "$deps" && pwd)
  prefix_path="$prefix_path;$deps/usr"
  if [[ -d $deps/usr/lib/x86_64-linux-gnu/cmake/absl ]]; then
    cmake_args+=(-Dabsl_DIR="$deps/usr/lib/x86_64-linux-gnu/cmake/absl")
  fi
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_LIBDIR="$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$deps"
  echo "dependencies prefix: $deps"
else
  echo "no dependencies prefix at $deps: relying on installed Abseil"
fi
[[ -n $prefix_path ]] && cmake_args+=(-DCMAKE_PREFIX_PATH="${prefix_path#;}")
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
  cmake_args+=(-DCUDAToolkit_ROOT=/usr/local/cuda)
fi
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

# --- configure and build -----------------------------------------------------
echo "== configure: cmake ${cmake_args[*]}"
t0=$(date +%s)
cmake -S . -B "$build_dir" "${generator[@]}" "${cmake_args[@]}" \
  2>&1 | tee "$out/configure.log"
t1=$(date +%s)
echo "== build ($jobs jobs)"
# A target that fails (a daemon) does not stop the race if the benchmark built.
cmake --build "$build_dir" --parallel "$jobs" 2>&1 | tee "$out/build.log" | tail -20 ||
  echo "run: the build reported errors (see build.log)"
t2=$(date +%s)
echo "configure $((t1 - t0)) s, build $((t2 - t1)) s" | tee "$out/build_time.txt"

bin=$build_dir/bench/simclr_step_bench
if [[ ! -x $bin ]]; then
  echo "run: $bin was not built; see $out/configure.log and $out/build.log" >&2
  exit 1
fi

# --- race ----------------------------------------------------------------------
echo "== benchmark: ${config[*]}"
results=$out/results.jsonl
: >"$results"
for round in $(seq 1 "$rounds"); do
  if ((round % 2 == 1)); then order="cpp pytorch"; else order="pytorch cpp"; fi
  [[ $compile == 1 ]] && order="$order pytorch_compile"
  for impl in $order; do
    if [[ $impl == cpp ]]; then
      line=$("$bin" "${config[@]}")
    elif [[ $impl == pytorch ]]; then
      line=$("$python" bench/reference/simclr_step_pytorch.py "${config[@]}")
    elif ! line=$(timeout "$compile_timeout" "$python" bench/reference/simclr_step_pytorch.py \
                    "${config[@]}" --compile 2>"$out/compile-round-$round.log"); then
      echo "round $round: torch.compile failed or ran past $compile_timeout s" \
           "(see compile-round-$round.log); dropped for later rounds"
      compile=0
      continue
    fi
    echo "round $round: $(grep -v '^RESULT ' <<<"$line")"
    grep '^RESULT ' <<<"$line" >>"$results"
  done
done
"$python" bench/summarize.py "$results" --json "$out/summary.json"
echo "results in $out"
