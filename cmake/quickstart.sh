#!/usr/bin/env bash
# The README's Quick start: set everything up on a Debian 12 machine, build, and run.
#
#   bash cmake/quickstart.sh demo    # build and run examples/quickstart
#   bash cmake/quickstart.sh test    # build everything and run the test suite (ctest)
#
# KROPE_CONFIG=cuda selects the CUDA build (Serial + Cuda, Hopper); the default is host
# (Serial + OpenMP). Kokkos is built once into ~/.cache/krope (see cmake/bootstrap.sh);
# Kokkos 4.6.01 is the default (KROPE_DEPS_DIR: a folder holding its release archives, else
# downloaded), Debian's 3.4.01 the fallback; KROPE_KOKKOS_VERSION=3.4.01 asks for it.
set -euo pipefail

what=${1:-demo}
config=${KROPE_CONFIG:-host}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${KROPE_JOBS:-$(nproc)}

prefix=$(bash "$root/cmake/bootstrap.sh" "$config" | tail -n 1)
compiler=g++
[ "$config" = cuda ] && compiler=$prefix/bin/nvcc_wrapper && export PATH=/usr/local/cuda/bin:$PATH

# One build folder per Kokkos version: build/<config> for 4.6.01, else build/<config>-kokkos-<version>
# (the version as the prefix kokkos-<version>-<config>-<key> names it, so a fallback shows).
build=build/$config
version=$(basename "$prefix" | cut -d- -f2)
[ "$version" = 4.6.01 ] || build=build/$config-kokkos-$version

cd "$root"
cmake --preset "$config" -B "$build" -DKokkos_ROOT="$prefix" -DCMAKE_CXX_COMPILER="$compiler" >/dev/null
case "$what" in
  demo)
    cmake --build "$build" --target quickstart -j "$jobs"
    "$build/examples/quickstart/quickstart"
    ;;
  test)
    cmake --build "$build" -j "$jobs"
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
