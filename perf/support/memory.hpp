#pragma once
/// \file memory.hpp
/// Extra memory a call allocates: the peak of live Kokkos allocations during the call (Kokkos
/// Tools allocate/deallocate callbacks) above what was live before it, and the growth of device
/// memory in use across it (cudaMemGetInfo, which also sees allocations made outside Kokkos and
/// any scratch that Kokkos grows and keeps). A path that rotates in place should report 0.

#include "device.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace krope::perf {

/// Counts live bytes of Kokkos allocations in one memory space through the Kokkos Tools
/// allocate/deallocate callbacks. Installed only around a measurement: while any callback is
/// set Kokkos considers a tool loaded and does extra host work on every launch (kernel name
/// strings), which would show in per-call times of small shapes.
class AllocationTracker {
 public:
  /// Starts counting allocations in the memory space named `space_name` (MemorySpace::name():
  /// "Cuda", "Host"); call after Kokkos::initialize.
  static void install(const char* space_name) {
    std::strncpy(space_, space_name, sizeof space_ - 1);
    live_ = peak_ = 0;
    Kokkos::Tools::Experimental::set_allocate_data_callback(&on_allocate);
    Kokkos::Tools::Experimental::set_deallocate_data_callback(&on_deallocate);
  }
  static void uninstall() {
    Kokkos::Tools::Experimental::set_allocate_data_callback(nullptr);
    Kokkos::Tools::Experimental::set_deallocate_data_callback(nullptr);
  }
  static std::int64_t peak() { return peak_; }

 private:
  static void on_allocate(const Kokkos_Profiling_SpaceHandle handle, const char*, const void*,
                          const std::uint64_t size) {
    if (std::strcmp(handle.name, space_) != 0) return;
    live_ += static_cast<std::int64_t>(size);
    peak_ = std::max(peak_, live_);
  }
  static void on_deallocate(const Kokkos_Profiling_SpaceHandle handle, const char*, const void*,
                            const std::uint64_t size) {
    if (std::strcmp(handle.name, space_) != 0) return;
    live_ -= static_cast<std::int64_t>(size);
  }
  static inline std::int64_t live_ = 0, peak_ = 0;
  static inline char space_[64] = {};
};

/// Extra bytes `call` allocates, measured around one (warm) call.
template <class ExecSpace, class Call>
std::int64_t extra_bytes_of(const ExecSpace& space, const Call& call) {
  space.fence();
  const std::size_t used_before = device_memory_used<ExecSpace>();
  AllocationTracker::install(ExecSpace::memory_space::name());
  call();
  space.fence();
  AllocationTracker::uninstall();
  const std::size_t used_after = device_memory_used<ExecSpace>();
  const std::int64_t device_growth =
      used_after > used_before ? static_cast<std::int64_t>(used_after - used_before) : 0;
  return std::max(AllocationTracker::peak(), device_growth);
}

}  // namespace krope::perf
