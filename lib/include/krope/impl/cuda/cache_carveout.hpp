#pragma once
/// \file cache_carveout.hpp
/// Each vectorised kernel launch states its own split of the SM's unified L1 / shared memory.
///
/// Kokkos 3.4 calls cudaDeviceSetCacheConfig(cudaFuncCachePreferShared) when it initialises, so
/// a kernel that states nothing runs with the smallest L1. These kernels keep their 16-byte loads
/// in flight in L1 and share a token's cos/sin row among its heads there: on an H100 the
/// [b][h][t][d] kernel ran at 92.9% of a copy with Kokkos initialised and 97.6% without (same
/// kernel, same buffers). The carveout asked for is the shared memory the kernel's resident
/// blocks need (none for table angles), the rest L1.
///
/// It is a launch attribute, not a function attribute: a kernel template instantiated in several
/// translation units has a copy in each one's module, and a function attribute set through one
/// host pointer need not reach the copy that a launch runs.

#include <algorithm>
#include <cstddef>
#include <utility>

#include <cuda_runtime.h>

namespace krope::Impl::cuda {

/// Percent of the SM's shared memory capacity that a full SM of `block`-sized blocks (as many as
/// its thread limit holds) with `shared_per_block` dynamic bytes each needs (the runtime reserves
/// some beside each block), rounded up.
inline int shared_carveout_percent(std::size_t shared_per_block, dim3 block,
                                   const cudaDeviceProp& prop) {
  if (shared_per_block == 0 || prop.sharedMemPerMultiprocessor == 0) return 0;
  const int block_threads = std::max(1, int(block.x * block.y * block.z));
  const int blocks_per_sm = std::max(1, prop.maxThreadsPerMultiProcessor / block_threads);
  const std::size_t need =
      (shared_per_block + prop.reservedSharedMemPerBlock) * std::size_t(blocks_per_sm);
  const std::size_t percent =
      (100 * need + prop.sharedMemPerMultiprocessor - 1) / prop.sharedMemPerMultiprocessor;
  return static_cast<int>(std::min<std::size_t>(percent, 100));
}

// The carveout launch attribute is newer than cudaLaunchKernelEx: CUDA 12.8.
#if CUDART_VERSION < 12080
#error "krope's CUDA kernels need CUDA 12.8 or later (the carveout launch attribute)"
#endif

/// Launches `kernel` on `stream` with `carveout_percent` as its preferred shared memory carveout;
/// returns the launch error.
template <class... Params, class... Args>
cudaError_t launch_with_carveout(void (*kernel)(Params...), dim3 grid, dim3 block,
                                 std::size_t shared_bytes, cudaStream_t stream,
                                 int carveout_percent, Args&&... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  cudaLaunchAttribute attribute[1] = {};
  attribute[0].id = cudaLaunchAttributePreferredSharedMemoryCarveout;
  attribute[0].val.sharedMemCarveout = static_cast<unsigned>(carveout_percent);
  config.attrs = attribute;
  config.numAttrs = 1;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace krope::Impl::cuda
