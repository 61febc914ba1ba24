#!/usr/bin/env bash
# Runs the krope benchmark suite on a GPU machine and writes perf/results/h100/:
#   krope_bench.json        device suite (shapes, decode, reports, sweep, variants), Google Benchmark JSON
#   krope_bench_host.json   host suite (Serial, OpenMP), when the host binary is there
#   results.md, *.png       perf/plot.py's report and charts
#   run.log                 nvidia-smi, console output of both runs
#
# The GPU machine has no Kokkos, no compiler setup for krope and only the shared Google
# Benchmark library, so the binaries are built here and carried in a folder:
#
#   # here: build, then stage binaries + libbenchmark.so.1* (+ libgomp) into .carry-perf/
#   cmake --build build/cuda-perf --target krope_bench -j2
#   cmake --build build/host-perf --target krope_bench_host -j2
#   perf/run_h100.sh --stage .carry-perf build/cuda-perf build/host-perf
#
#   # on the GPU machine, from the repository root (the documented command):
#   perf/run_h100.sh .carry-perf [extra Google Benchmark flags for krope_bench]
#
# KROPE_RESULTS_DIR overrides the output folder; KROPE_SKIP_HOST=1 skips the host suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--stage" ]]; then
  dir=${2:-.carry-perf}
  cuda_build=${3:-build/cuda-perf}
  host_build=${4:-build/host-perf}
  mkdir -p "$dir/bin" "$dir/lib"
  cp "$cuda_build/perf/krope_bench" "$dir/bin/"
  if [[ -x "$host_build/perf/krope_bench_host" ]]; then
    cp "$host_build/perf/krope_bench_host" "$dir/bin/"
  fi
  # The shared libraries the binaries need beyond libc, libstdc++ and the CUDA driver:
  # Google Benchmark (libbenchmark.so.1*), the CUDA runtime, OpenMP.
  for exe in "$dir"/bin/*; do
    ldd "$exe" | awk '$1 ~ /^lib(benchmark|cudart|gomp)/ && $3 ~ /^\// {print $1, $3}'
  done | sort -u | while read -r name path; do cp -L "$path" "$dir/lib/$name"; done
  ls -l "$dir/bin" "$dir/lib"
  exit 0
fi

bin=${1:-.carry-perf}
shift || true
results=${KROPE_RESULTS_DIR:-perf/results/h100}
mkdir -p "$results"
export LD_LIBRARY_PATH="$PWD/$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log="$results/run.log"
{
  echo "== $(date -u +%FT%TZ) krope perf on $(hostname)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
    --format=csv 2>&1 || true
} >"$log"

echo "== krope_bench" | tee -a "$log"
"$bin/bin/krope_bench" --benchmark_out="$results/krope_bench.json" --benchmark_out_format=json \
  "$@" 2>&1 | tee -a "$log"

jsons=("$results/krope_bench.json")
if [[ -x "$bin/bin/krope_bench_host" && "${KROPE_SKIP_HOST:-0}" != 1 ]]; then
  echo "== krope_bench_host (OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)})" | tee -a "$log"
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} OMP_PROC_BIND=spread OMP_PLACES=threads \
    "$bin/bin/krope_bench_host" --benchmark_out="$results/krope_bench_host.json" \
    --benchmark_out_format=json 2>&1 | tee -a "$log"
  jsons+=("$results/krope_bench_host.json")
fi

device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo GPU)
python3 perf/plot.py "${jsons[@]}" --out "$results" --title "krope RoPE on ${device}" | tee -a "$log"
