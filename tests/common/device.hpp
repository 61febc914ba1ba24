#pragma once
/// \file device.hpp
/// Whether the build's device is there. A CUDA build cannot initialise Kokkos on a machine with
/// no visible GPU (CI compiles the CUDA build but has none): its programs then exit with
/// `skipped_exit_code`, which CTest reports as skipped (SKIP_RETURN_CODE), never as passed.

#include <Kokkos_Macros.hpp>

#if defined(KOKKOS_ENABLE_CUDA)
#include <cuda_runtime.h>
#endif

namespace krope::support {

constexpr int skipped_exit_code = 77;

/// False in a CUDA build on a machine without a visible GPU; true in host builds.
inline bool device_visible() {
#if defined(KOKKOS_ENABLE_CUDA)
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
#else
  return true;
#endif
}

}  // namespace krope::support
