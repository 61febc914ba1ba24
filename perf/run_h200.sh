#!/usr/bin/env bash
# Builds krope on the H200 machine and runs its CUDA tests and benchmark suites there. That
# machine has nvcc, CMake and ninja but no Kokkos, GoogleTest or Google Benchmark, so they travel:
#
#   perf/run_h200.sh --stage        # here: packs the Kokkos installs of cmake/bootstrap.sh (cuda
#                                   # for 4.6.01 and 3.4.01, host for 4.6.01) and Debian's
#                                   # GoogleTest / Google Benchmark / nlohmann-json files into .carry/deps.tgz
#                                   # (absolute paths kept)
#   perf/run_h200.sh --stage-tests build/cuda   # here: packs a CUDA build's test binary (built
#                                   # here: the GPU machine takes longer than one 10-minute call to
#                                   # build all of it) into .carry/tests.txz
#   perf/run_h200.sh --stage-bench build/cuda   # here: packs a CUDA build's perf/krope_bench into
#                                   # .carry/bench.txz (nvcc there builds far slower than ninja here
#                                   # suggests: the whole CUDA build did not finish in 10 minutes)
#   perf/run_h200.sh STEP...        # there (device tool, carry .carry), from the repository root
#
# Steps: tests (CUDA build there, then ctest: longer than one 10-minute call), carried-tests (the staged test binary:
# every test, then compute-sanitizer memcheck over KROPE_SANITIZE_FILTER), suite (krope_bench,
# the whole device suite), host (krope_bench_host on every core), a Google Benchmark filter
# "bench=REGEX" for a part of the device suite (KROPE_BENCH_ARGS: more Google Benchmark flags),
# or "carried-bench=REGEX", the same with the staged benchmark binary.
# The CUDA builds there use Kokkos 4.6.01 unless KROPE_KOKKOS_VERSION=3.4.01 (build/h200-<version>).
# Logs and JSON go to $OUT (the device tool's folder) or out/.
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

out=${OUT:-out}
mkdir -p "$out"
tar -xzPf .carry/deps.tgz
ldconfig
version=${KROPE_KOKKOS_VERSION:-4.6.01}
cuda=$(awk -v k="cuda-$version" '$1 == k {print $2}' .carry/prefixes)
host=$(awk '$1 == "host" {print $2}' .carry/prefixes)
[[ -n "$cuda" ]] || { echo "no staged Kokkos $version (perf/run_h200.sh --stage)" >&2; exit 2; }
export PATH=/usr/local/cuda/bin:$PATH
# The Kokkos install names the CUDA libraries where they are here (/usr/local/cuda/lib/...).
for lib in libcudart.so stubs/libcuda.so; do
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

configure() {  # build dir, Kokkos prefix, compiler
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKokkos_ROOT="$2" \
    -DCMAKE_CXX_COMPILER="$3" -DKROPE_ENABLE_TESTS=ON -DKROPE_ENABLE_PERF=ON \
    -DKROPE_ENABLE_EXAMPLES=OFF >"$out/configure_$(basename "$1").log" 2>&1
}

for step in "$@"; do
  case "$step" in
    tests)
      configure "build/h200-$version" "$cuda" "$cuda/bin/nvcc_wrapper"
      cmake --build "build/h200-$version" -j "$jobs" 2>&1 | tail -n 20
      ctest --test-dir "build/h200-$version" -j 4 --output-on-failure 2>&1 |
        tee "$out/ctest-$version.log" | tail -n 25
      ;;
    carried-tests)
      tar -xJf .carry/tests.txz
      binary=$(tar -tJf .carry/tests.txz | head -n 1)
      data=$(cat .carry/test_data_dir)
      [[ -d "$data" ]] || { mkdir -p "$(dirname "$data")" && ln -s "$PWD/tests/data" "$data"; }
      "$binary" --gtest_brief=1 2>&1 | tee "$out/tests.log" | tail -n 15
      if [[ -n "${KROPE_SANITIZE_FILTER:-}" ]]; then
        compute-sanitizer --tool memcheck --error-exitcode 3 "$binary" --gtest_brief=1 \
          --gtest_filter="$KROPE_SANITIZE_FILTER" 2>&1 | tee "$out/memcheck.log" | tail -n 8
      fi
      ;;
    suite | bench=* | carried-bench=*)
      bench="build/h200-$version/perf/krope_bench"
      if [[ "$step" == carried-bench=* ]]; then
        tar -xJf .carry/bench.txz
        bench=$(tar -tJf .carry/bench.txz | head -n 1)
      else
        configure "build/h200-$version" "$cuda" "$cuda/bin/nvcc_wrapper"
        cmake --build "build/h200-$version" --target krope_bench -j "$jobs" 2>&1 | tail -n 5
      fi
      filter=.
      [[ "$step" == *bench=* ]] && filter=${step#*bench=}
      # shellcheck disable=SC2086 # KROPE_BENCH_ARGS: extra Google Benchmark flags, word-split
      "$bench" --benchmark_filter="$filter" ${KROPE_BENCH_ARGS:-} \
        --benchmark_out="$out/krope_bench.json" --benchmark_out_format=json 2>&1 |
        tee "$out/krope_bench.log" | grep -E 'median' | sed -E 's/ +[0-9]+ us +[0-9]+ us//' | cut -c1-230
      ;;
    host)
      configure build/h200-host "$host" g++
      cmake --build build/h200-host --target krope_bench_host -j "$jobs" 2>&1 | tail -n 5
      OMP_NUM_THREADS=$jobs OMP_PROC_BIND=spread OMP_PLACES=threads \
        build/h200-host/perf/krope_bench_host --benchmark_filter=openmp \
        --benchmark_out="$out/krope_bench_host.json" --benchmark_out_format=json 2>&1 |
        tee "$out/krope_bench_host.log" | grep -E 'median' | cut -c1-230
      ;;
    *)
      echo "unknown step '$step'" >&2
      exit 2
      ;;
  esac
done
