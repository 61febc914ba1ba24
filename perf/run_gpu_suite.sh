#!/usr/bin/env bash
# The GPU suite runner: builds krope on a GPU machine and runs its CUDA tests, examples and
# benchmark suites there. Written for machines (like this project's H200) that have nvcc, CMake
# and ninja but no Kokkos, GoogleTest or Google Benchmark, so they travel:
#
#   perf/run_gpu_suite.sh --stage              here: packs the Kokkos installs of cmake/bootstrap.sh
#                                              (cuda for 4.6.01 and 3.4.01, host for 4.6.01) and
#                                              Debian's GoogleTest / Google Benchmark / nlohmann-json
#                                              into .carry/deps.tgz (absolute paths kept)
#   perf/run_gpu_suite.sh --stage-tests DIR    here: packs a CUDA build's test binary into
#                                              .carry/tests.txz (building all of it there takes
#                                              longer than one 10-minute device call)
#   perf/run_gpu_suite.sh --stage-bench DIR    here: packs a CUDA build's perf/krope_bench into
#                                              .carry/bench.txz
#   perf/run_gpu_suite.sh STEP...              there (device tool, carry .carry), repository root
#
# Steps: tests (CUDA build there, then ctest), carried-tests (the staged test binary: every test,
# then compute-sanitizer memcheck over KROPE_SANITIZE_FILTER), examples (built there and run,
# CTest sizes then full size), suite (krope_bench, the whole device suite), host
# (krope_bench_host on every core), "bench=REGEX" for a part of the device suite
# (KROPE_BENCH_ARGS: more Google Benchmark flags), "carried-bench=REGEX" the same with the staged
# binary.
# The CUDA builds there use Kokkos 4.6.01 unless KROPE_KOKKOS_VERSION=3.4.01 (build/gpu-<version>).
# "report" (last) turns the JSON written so far into results.md and charts (perf/plot.py).
# Logs and JSON go to $OUT (the device tool's folder), else perf/results/<GPU> (h200, h100, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--stage" ]]; then
  mkdir -p .carry
  cuda_4=$(KROPE_KOKKOS_VERSION=4.6.01 bash cmake/bootstrap.sh cuda | tail -n 1)
  cuda_3=$(KROPE_KOKKOS_VERSION=3.4.01 bash cmake/bootstrap.sh cuda | tail -n 1)
  host=$(KROPE_KOKKOS_VERSION=4.6.01 bash cmake/bootstrap.sh host | tail -n 1)
  mapfile -t system < <(dpkg -L libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian \
    nlohmann-json3-dev |
    grep -E '^/usr/(include|lib|share/cmake)/' | while read -r f; do [[ -f $f || -L $f ]] && echo "$f"; done)
  tar -czPf .carry/deps.tgz "$cuda_4" "$cuda_3" "$host" "${system[@]}"
  printf 'cuda-4.6.01 %s\ncuda-3.4.01 %s\nhost %s\n' "$cuda_4" "$cuda_3" "$host" >.carry/prefixes
  ls -l .carry
  exit 0
fi

if [[ "${1:-}" == "--stage-bench" ]]; then
  mkdir -p .carry
  tar -cJf .carry/bench.txz "$2/perf/krope_bench"
  ls -l .carry
  exit 0
fi

if [[ "${1:-}" == "--stage-tests" ]]; then
  mkdir -p .carry
  # The binary names its test data by absolute path: recorded so the other side can link it.
  sed -n 's/.*KROPE_TEST_DATA_DIR=\\"\([^\\]*\)\\".*/\1/p' "$2/build.ninja" | head -n 1 >.carry/test_data_dir
  tar -cJf .carry/tests.txz "$2/tests/krope_tests"
  ls -l .carry
  exit 0
fi

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)
slug=$(echo "${gpu:-gpu}" | tr '[:upper:]' '[:lower:]' | sed -E 's/^nvidia //; s/ .*//')
out=${OUT:-perf/results/$slug}
mkdir -p "$out"
tar -xzPf .carry/deps.tgz
ldconfig
version=${KROPE_KOKKOS_VERSION:-4.6.01}
cuda=$(awk -v k="cuda-$version" '$1 == k {print $2}' .carry/prefixes)
host=$(awk '$1 == "host" {print $2}' .carry/prefixes)
[[ -n "$cuda" ]] || { echo "no staged Kokkos $version (perf/run_gpu_suite.sh --stage)" >&2; exit 2; }
export PATH=/usr/local/cuda/bin:$PATH
# The Kokkos install names the CUDA libraries where they are here (/usr/local/cuda/lib/...).
for lib in libcudart.so stubs/libcuda.so libcublas.so libcusparse.so libcusolver.so; do
  if [[ ! -e /usr/local/cuda/lib/$lib ]]; then
    mkdir -p "$(dirname "/usr/local/cuda/lib/$lib")"
    ln -sf "$(find /usr/local/cuda/ -path "*/$lib" -not -path '/usr/local/cuda/lib/*' | head -n 1)" \
      "/usr/local/cuda/lib/$lib"
  fi
done
jobs=$(nproc)
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  lscpu | grep -E 'Model name|^CPU\(s\)|Flags' | cut -c1-400
} >"$out/machine.txt" 2>&1 || true

configure() {  # build dir, Kokkos prefix, compiler[, examples ON/OFF]
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$2" \
    -DCMAKE_CXX_COMPILER="$3" -DKROPE_ENABLE_TESTS=ON -DKROPE_ENABLE_PERF=ON \
    -DKROPE_ENABLE_EXAMPLES="${4:-OFF}" >"$out/configure_$(basename "$1").log" 2>&1
}

for step in "$@"; do
  case "$step" in
    tests)
      configure "build/gpu-$version" "$cuda" "$cuda/bin/nvcc_wrapper"
      cmake --build "build/gpu-$version" -j "$jobs" 2>&1 | tail -n 20
      ctest --test-dir "build/gpu-$version" -j 4 --output-on-failure 2>&1 |
        tee "$out/ctest-$version.log" | tail -n 25
      ;;
    carried-tests)
      tar -xJf .carry/tests.txz
      binary=$(tar -tJf .carry/tests.txz | awk '/krope_tests$/')  # awk reads it all: no SIGPIPE
      data=$(cat .carry/test_data_dir)
      [[ -d "$data" ]] || { mkdir -p "$(dirname "$data")" && ln -s "$PWD/tests/data" "$data"; }
      "$binary" --gtest_brief=1 2>&1 | tee "$out/tests.log" | tail -n 15
      if [[ -n "${KROPE_SANITIZE_FILTER:-}" ]]; then
        compute-sanitizer --tool memcheck --error-exitcode 3 "$binary" --gtest_brief=1 \
          --gtest_filter="$KROPE_SANITIZE_FILTER" 2>&1 | tee "$out/memcheck.log" | tail -n 8
      fi
      ;;
    suite | bench=* | carried-bench=*)
      bench="build/gpu-$version/perf/krope_bench"
      if [[ "$step" == carried-bench=* ]]; then
        tar -xJf .carry/bench.txz
        bench=$(tar -tJf .carry/bench.txz | awk '/krope_bench$/')
      else
        configure "build/gpu-$version" "$cuda" "$cuda/bin/nvcc_wrapper"
        cmake --build "build/gpu-$version" --target krope_bench -j "$jobs" 2>&1 | tail -n 5
      fi
      filter=.
      [[ "$step" == *bench=* ]] && filter=${step#*bench=}
      # shellcheck disable=SC2086 # KROPE_BENCH_ARGS: extra Google Benchmark flags, word-split
      "$bench" --benchmark_filter="$filter" ${KROPE_BENCH_ARGS:-} \
        --benchmark_out="$out/krope_bench.json" --benchmark_out_format=json 2>&1 |
        tee "$out/krope_bench.log" | grep -E 'median' | sed -E 's/ +[0-9]+ us +[0-9]+ us//' | cut -c1-230
      ;;
    examples)
      # The examples (those this machine has the dependencies of: no MPI here), built and run
      # through CTest at their CTest sizes, then each at full size.
      configure "build/gpu-$version" "$cuda" "$cuda/bin/nvcc_wrapper" ON
      examples=(krope_example_quickstart krope_example_decode krope_example_attention
        krope_example_multimodal)
      cmake --build "build/gpu-$version" --target "${examples[@]}" -j "$jobs" 2>&1 | tail -n 3
      ctest --test-dir "build/gpu-$version" -R '^example[.](quickstart|decode|attention|multimodal)$' \
        --output-on-failure 2>&1 |
        tee "$out/examples-$version.log" | tail -n 8
      for e in quickstart decode attention multimodal; do
        "build/gpu-$version/examples/$e/$e" 2>&1 | tee -a "$out/examples-$version.log" | tail -n 4
      done
      ;;
    report)
      jsons=()
      for j in "$out/krope_bench.json" "$out/krope_bench_host.json"; do [[ -f $j ]] && jsons+=("$j"); done
      python3 perf/plot.py "${jsons[@]}" --out "$out" --title "krope RoPE on ${gpu:-GPU}"
      ;;
    host)
      configure build/gpu-host "$host" g++
      cmake --build build/gpu-host --target krope_bench_host -j "$jobs" 2>&1 | tail -n 5
      OMP_NUM_THREADS=$jobs OMP_PROC_BIND=spread OMP_PLACES=threads \
        build/gpu-host/perf/krope_bench_host --benchmark_filter=openmp \
        --benchmark_out="$out/krope_bench_host.json" --benchmark_out_format=json 2>&1 |
        tee "$out/krope_bench_host.log" | grep -E 'median' | cut -c1-230
      ;;
    *)
      echo "unknown step '$step'" >&2
      exit 2
      ;;
  esac
done
