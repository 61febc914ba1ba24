#!/usr/bin/env bash
# Installs what krope needs on a Debian 12 machine and builds Kokkos + Kokkos Kernels 3.4.01 into a
# cache that later runs reuse.
#
#   cmake/bootstrap.sh host   # Serial + OpenMP, g++
#   cmake/bootstrap.sh cuda   # Serial + Cuda (Hopper, sm_90), nvcc 13 through Kokkos' nvcc_wrapper
#
# Prints the install prefix on its last line (pass it as -DKokkos_ROOT=...). The prefix is
# $KROPE_CACHE/kokkos-3.4.01-<config>-<key>, where <key> hashes the patch and the build options, so
# a change to either builds afresh. Only Kokkos 3.4.01 is reachable here: it lives in Debian's
# `trilinos` source package, and needs cmake/patches/kokkos-3.4.01-cuda13-hopper.patch for CUDA 13
# and Hopper (see README, "Dependencies").
set -euo pipefail

config=${1:-host}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KROPE_CACHE:-$HOME/.cache/krope}
jobs=${KROPE_JOBS:-$(nproc)}
log() { echo "[krope bootstrap] $*" >&2; }

case "$config" in
  host | cuda) ;;
  *) log "unknown configuration '$config' (host or cuda)"; exit 2 ;;
esac

# --- 1. Debian packages ------------------------------------------------------------------------
packages=(cmake ninja-build g++ make patch dpkg-dev libgtest-dev libgmock-dev libbenchmark-dev
          libopenmpi-dev openmpi-bin python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
if [ "$config" = cuda ]; then
  export PATH=/usr/local/cuda/bin:$PATH
  command -v nvcc >/dev/null || { log "nvcc not found (expected in /usr/local/cuda/bin)"; exit 1; }
fi

# --- 2. Kokkos sources from Debian's trilinos source package (downloaded once) -----------------
src=$cache/src/trilinos-13.2.0
if [ ! -f "$src/.complete" ]; then
  log "fetching Debian's trilinos source package for Kokkos 3.4.01"
  if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      $sudo tee /etc/apt/sources.list.d/krope-deb-src.sources >/dev/null
    $sudo apt-get update -qq
  fi
  work=$(mktemp -d)
  (cd "$work" && apt-get source --download-only trilinos >&2 2>/dev/null)
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$work"/trilinos_*.orig.tar.gz -C "$src" --strip-components=2 \
    --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
  rm -rf "$work"
  touch "$src/.complete"
fi

# --- 3. Build and install, keyed by version, configuration, patch and options ------------------
patch_file=$here/patches/kokkos-3.4.01-cuda13-hopper.patch
common=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=OFF
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DKokkos_ENABLE_SERIAL=ON)
if [ "$config" = host ]; then
  opts=(-DCMAKE_CXX_COMPILER=g++ -DKokkos_ENABLE_OPENMP=ON)
else
  opts=(-DKokkos_ENABLE_CUDA=ON -DKokkos_ARCH_HOPPER90=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON
        -DKokkos_ENABLE_CUDA_CONSTEXPR=ON)
fi
kk_opts=(-DKokkosKernels_INST_DOUBLE=OFF -DKokkosKernels_INST_LAYOUTLEFT=OFF
         -DKokkosKernels_INST_OFFSET_INT=OFF -DKokkosKernels_INST_OFFSET_SIZE_T=OFF
         -DKokkosKernels_INST_ORDINAL_INT=OFF -DKokkosKernels_ENABLE_TESTS=OFF)
key=$( (cat "$patch_file"; echo "${common[*]} ${opts[*]} ${kk_opts[*]}") | sha256sum | cut -c1-12)
prefix=$cache/kokkos-3.4.01-$config-$key
if [ -f "$prefix/.complete" ]; then
  log "reusing $prefix"
  echo "$prefix"
  exit 0
fi

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp -r "$src/kokkos" "$build/kokkos-src"
patch -s -p1 -d "$build/kokkos-src" <"$patch_file"
[ "$config" = cuda ] && opts+=(-DCMAKE_CXX_COMPILER="$build/kokkos-src/bin/nvcc_wrapper")

log "building Kokkos 3.4.01 ($config) into $prefix"
rm -rf "$prefix"
cmake -S "$build/kokkos-src" -B "$build/kokkos" "${common[@]}" "${opts[@]}" \
  -DCMAKE_INSTALL_PREFIX="$prefix" >"$build/kokkos.log" 2>&1 || { cat "$build/kokkos.log" >&2; exit 1; }
cmake --build "$build/kokkos" -j "$jobs" >>"$build/kokkos.log" 2>&1 || { tail -50 "$build/kokkos.log" >&2; exit 1; }
cmake --install "$build/kokkos" >/dev/null

log "building Kokkos Kernels 3.4.01 ($config)"
kk_compiler=g++
[ "$config" = cuda ] && kk_compiler=$prefix/bin/nvcc_wrapper
cmake -S "$src/kokkos-kernels" -B "$build/kokkos-kernels" "${common[@]}" "${kk_opts[@]}" \
  -DCMAKE_CXX_COMPILER="$kk_compiler" -DKokkos_ROOT="$prefix" -DCMAKE_INSTALL_PREFIX="$prefix" \
  >"$build/kk.log" 2>&1 || { cat "$build/kk.log" >&2; exit 1; }
cmake --build "$build/kokkos-kernels" -j "$jobs" >>"$build/kk.log" 2>&1 || { tail -50 "$build/kk.log" >&2; exit 1; }
cmake --install "$build/kokkos-kernels" >/dev/null

touch "$prefix/.complete"
log "done"
echo "$prefix"
