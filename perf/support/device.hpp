#pragma once
/// \file device.hpp
/// What the suite needs to know about the execution space it times: how to time one call (CUDA
/// events on the instance's stream, or fences around a host clock), how large the last-level
/// cache is (buffers rotate over more than that), and what the device is called.

#include <unistd.h>
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#ifdef KOKKOS_ENABLE_CUDA
#include <cuda_runtime.h>
#endif

namespace krope::perf {

#ifdef KOKKOS_ENABLE_CUDA
inline void cuda_check(cudaError_t error, const char* what) {
  if (error != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(error));
}
#endif

template <class ExecSpace>
constexpr bool is_cuda() {
#ifdef KOKKOS_ENABLE_CUDA
  return std::is_same<ExecSpace, Kokkos::Cuda>::value;
#else
  return false;
#endif
}

/// Times single calls on a host execution space: fence, clock, call, fence, clock.
template <class ExecSpace>
class CallTimer {
 public:
  explicit CallTimer(const ExecSpace& space) : space_(space) {}
  void start() {
    space_.fence();
    start_ = std::chrono::steady_clock::now();
  }
  /// Seconds since start(), after the space has finished everything launched since.
  double stop() {
    space_.fence();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  /// Host seconds the last call took to return (on a host space: the whole call).
  double host_seconds() const { return 0; }

 private:
  ExecSpace space_;
  std::chrono::steady_clock::time_point start_;
};

#ifdef KOKKOS_ENABLE_CUDA
/// Keeps the stream busy for `ns` nanoseconds of the GPU's global timer.
template <int = 0>
__global__ void hold_stream(unsigned long long ns) {
  unsigned long long t0, t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  } while (t - t0 < ns);
}

/// Times single calls on a Cuda instance with events recorded on its stream. A short hold
/// kernel goes first, so that the start event, the call and the stop event reach the GPU back to
/// back: the time is the GPU's, from the call's first kernel to its last, with no host-side
/// argument checking or launch overhead in it (what a benchmark that clears L2 before each call
/// on the same stream measures). The host side is reported separately (host_seconds).
template <>
class CallTimer<Kokkos::Cuda> {
 public:
  explicit CallTimer(const Kokkos::Cuda& space) : stream_(space.cuda_stream()) {
    cuda_check(cudaEventCreate(&start_), "cudaEventCreate");
    cuda_check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~CallTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  CallTimer(const CallTimer&) = delete;
  CallTimer& operator=(const CallTimer&) = delete;

  void start() {
    hold_stream<<<1, 1, 0, stream_>>>(hold_ns_);
    cuda_check(cudaEventRecord(start_, stream_), "cudaEventRecord(start)");
    host_start_ = std::chrono::steady_clock::now();
  }
  double stop() {
    host_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start_).count();
    // The next hold outlasts twice this call's host time, so the call never waits for the host.
    hold_ns_ =
        static_cast<unsigned long long>(std::min(2e-3, std::max(20e-6, 2 * host_ + 10e-6)) * 1e9);
    cuda_check(cudaEventRecord(stop_, stream_), "cudaEventRecord(stop)");
    cuda_check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    cuda_check(cudaGetLastError(), "kernel launch");
    float ms = 0;
    cuda_check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    return 1e-3 * ms;
  }
  /// Host seconds the last call took to return (argument checks, launch).
  double host_seconds() const { return host_; }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_, stop_;
  std::chrono::steady_clock::time_point host_start_;
  double host_ = 0;
  unsigned long long hold_ns_ = 20000;
};
#endif

/// Bytes of the last-level cache that a working set must exceed (L2 on GPUs, L3 on hosts).
template <class ExecSpace>
std::size_t last_level_cache_bytes() {
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (is_cuda<ExecSpace>())  // Kokkos' cached properties of the instance's device
    return static_cast<std::size_t>(ExecSpace().cuda_device_prop().l2CacheSize);
#endif
  // VMs may report the whole socket's L3 (hundreds of MB): take it, the ring must exceed it.
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  const std::size_t floor = std::size_t(64) << 20;
  return l3 > 0 ? std::max(static_cast<std::size_t>(l3), floor) : floor;
}

template <class ExecSpace>
std::string device_name() {
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (is_cuda<ExecSpace>()) return ExecSpace().cuda_device_prop().name;
#endif
  return std::string("host (") + ExecSpace::name() + ", " +
         std::to_string(ExecSpace::concurrency()) + " threads)";
}

/// Bytes of device memory in use right now (cudaMemGetInfo), or 0 on host spaces.
template <class ExecSpace>
std::size_t device_memory_used() {
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (is_cuda<ExecSpace>()) {
    std::size_t free_bytes = 0, total_bytes = 0;
    cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    return total_bytes - free_bytes;
  }
#endif
  return 0;
}

}  // namespace krope::perf
