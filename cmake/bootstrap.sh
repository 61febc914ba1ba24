#!/usr/bin/env bash
# Installs what krope needs on a Debian 12 machine and builds Kokkos + Kokkos Kernels into a cache
# that later runs reuse.
#
#   cmake/bootstrap.sh host   # Serial + OpenMP, g++
#   cmake/bootstrap.sh cuda   # Serial + Cuda (Hopper, sm_90), nvcc 13 through Kokkos' nvcc_wrapper
#
# Prints the install prefix on its last line (pass it as -DKokkos_ROOT=...). The prefix is
# $KROPE_CACHE/kokkos-<version>-<config>-<key>, where <key> hashes the patch and the build options,
# so a change to either builds afresh.
#
# Versions (KROPE_KOKKOS_VERSION):
#   4.6.01  the default: from the upstream release archives kokkos-4.6.01.tar.gz and
#           kokkos-kernels-4.6.01.tar.gz, taken from $KROPE_DEPS_DIR when that folder holds them
#           (checked against its SHA256SUMS when present), else downloaded from GitHub. Where
#           neither works and no version was asked for, it falls back to 3.4.01 and says so;
#   3.4.01  from Debian's `trilinos` source package (apt-get source).
# Each version has its CUDA 13 / Hopper patch, cmake/patches/kokkos-<version>-cuda13-hopper.patch
# (README, "Dependencies").
set -euo pipefail

config=${1:-host}
requested=${KROPE_KOKKOS_VERSION:-}
version=${requested:-4.6.01}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KROPE_CACHE:-$HOME/.cache/krope}
jobs=${KROPE_JOBS:-$(nproc)}
log() { echo "[krope bootstrap] $*" >&2; }

case "$config" in
  host | cuda) ;;
  *) log "unknown configuration '$config' (host or cuda)"; exit 2 ;;
esac
case "$version" in
  3.4.01 | 4.6.01) ;;
  *) log "unknown KROPE_KOKKOS_VERSION '$version' (3.4.01 or 4.6.01)"; exit 2 ;;
esac

# --- 1. Debian packages ------------------------------------------------------------------------
packages=(cmake ninja-build g++ make patch dpkg-dev libgtest-dev libgmock-dev libbenchmark-dev
          libopenmpi-dev openmpi-bin nlohmann-json3-dev python3)
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

# --- 2. Where the sources come from ------------------------------------------------------------
# Each leaves the Kokkos tree in $src/kokkos and the Kokkos Kernels tree in $src/kokkos-kernels.
fetch_trilinos() {  # Kokkos 3.4.01 lives in Debian 12's trilinos 13.2.0 sources
  if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      $sudo tee /etc/apt/sources.list.d/krope-deb-src.sources >/dev/null
    $sudo apt-get update -qq
  fi
  local work
  work=$(mktemp -d)
  (cd "$work" && apt-get source --download-only trilinos >&2 2>/dev/null)
  tar -xzf "$work"/trilinos_*.orig.tar.gz -C "$src" --strip-components=2 \
    --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
  rm -rf "$work"
}
fetch_upstream() {  # release archives: from $KROPE_DEPS_DIR, else GitHub
  local name url archive
  for name in kokkos kokkos-kernels; do
    archive=${KROPE_DEPS_DIR:-/nonexistent}/$name-$version.tar.gz
    if [ -f "$archive" ]; then
      if [ -f "$KROPE_DEPS_DIR/SHA256SUMS" ]; then
        (cd "$KROPE_DEPS_DIR" && grep " $name-$version.tar.gz\$" SHA256SUMS | sha256sum -c --quiet -) >&2 ||
          { log "$archive does not match $KROPE_DEPS_DIR/SHA256SUMS"; return 1; }
      fi
      log "using $archive"
    else
      url=https://github.com/kokkos/$name/archive/refs/tags/$version.tar.gz
      log "downloading $url"
      archive=$src/$name.tar.gz
      command -v curl >/dev/null || { log "curl not found"; return 1; }
      curl -fsSL --connect-timeout 15 --retry 2 -o "$archive" "$url" || { log "download failed: $url"; return 1; }
    fi
    mkdir -p "$src/$name"
    tar -xzf "$archive" -C "$src/$name" --strip-components=1
  done
}
sources_of() {  # the source folder of a version (fetched once per version)
  if [ "$1" = 3.4.01 ]; then echo "$cache/src/trilinos-13.2.0"; else echo "$cache/src/kokkos-$1"; fi
}
fetch_sources() {  # into $src; fails if the version cannot be had
  rm -rf "$src" && mkdir -p "$src"
  if [ "$version" = 3.4.01 ]; then
    log "fetching Debian's trilinos source package for Kokkos 3.4.01"
    fetch_trilinos
  elif ! fetch_upstream; then
    rm -rf "$src"
    return 1
  fi
  touch "$src/.complete"
}
src=$(sources_of "$version")
if [ ! -f "$src/.complete" ] && ! fetch_sources; then
  if [ -n "$requested" ]; then
    log "Kokkos $version could not be had (KROPE_DEPS_DIR: a folder of its release archives)"
    exit 1
  fi
  log "Kokkos $version could not be had (no archives in KROPE_DEPS_DIR, no download from GitHub):" \
    "falling back to Debian's Kokkos 3.4.01"
  version=3.4.01
  src=$(sources_of "$version")
  [ -f "$src/.complete" ] || fetch_sources
fi

# --- 3. The install, keyed by version, configuration, patch and options ----------------------
patch_file=$here/patches/kokkos-$version-cuda13-hopper.patch
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
prefix=$cache/kokkos-$version-$config-$key
if [ -f "$prefix/.complete" ]; then
  log "reusing $prefix"
  echo "$prefix"
  exit 0
fi

# --- 4. Build ----------------------------------------------------------------------------------
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cp -r "$src/kokkos" "$build/kokkos-src"
patch -s -p1 -d "$build/kokkos-src" <"$patch_file"
[ "$config" = cuda ] && opts+=(-DCMAKE_CXX_COMPILER="$build/kokkos-src/bin/nvcc_wrapper")

log "building Kokkos $version ($config) into $prefix"
rm -rf "$prefix"
cmake -S "$build/kokkos-src" -B "$build/kokkos" "${common[@]}" "${opts[@]}" \
  -DCMAKE_INSTALL_PREFIX="$prefix" >"$build/kokkos.log" 2>&1 || { cat "$build/kokkos.log" >&2; exit 1; }
cmake --build "$build/kokkos" -j "$jobs" >>"$build/kokkos.log" 2>&1 || { tail -50 "$build/kokkos.log" >&2; exit 1; }
cmake --install "$build/kokkos" >/dev/null

log "building Kokkos Kernels $version ($config)"
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
