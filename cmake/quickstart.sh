#!/usr/bin/env bash
# The README's Quick start: set everything up on a Debian 12 machine, build, and run.
#
#   bash cmake/quickstart.sh demo    # build and run examples/quickstart
#   bash cmake/quickstart.sh test    # build everything and run the test suite (ctest)
#
# KROPE_CONFIG=cuda selects the CUDA build (Serial + Cuda, Hopper); the default is host
# (Serial + OpenMP). Kokkos is built once into ~/.cache/krope (see cmake/bootstrap.sh).
set -euo pipefail

what=${1:-demo}
config=${KROPE_CONFIG:-host}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${KROPE_JOBS:-$(nproc)}

prefix=$(bash "$root/cmake/bootstrap.sh" "$config" | tail -n 1)
compiler=g++
[ "$config" = cuda ] && compiler=$prefix/bin/nvcc_wrapper && export PATH=/usr/local/cuda/bin:$PATH

cd "$root"
cmake --preset "$config" -DKokkos_ROOT="$prefix" -DCMAKE_CXX_COMPILER="$compiler" >/dev/null
case "$what" in
  demo)
    cmake --build "build/$config" --target quickstart -j "$jobs"
    "build/$config/examples/quickstart/quickstart"
    ;;
  test)
    cmake --build "build/$config" -j "$jobs"
    ctest --test-dir "build/$config" --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
