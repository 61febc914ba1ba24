#pragma once
/// \file tuning.hpp
/// The portable kernel's constants for one execution space, in one traits struct: the kernel
/// and its launch read nothing else. GPUs (spaces whose memory the host cannot reach) and CPUs
/// differ in how much of a head row a thread owns and how work is spread.

#include <Kokkos_Core.hpp>

namespace krope::Impl::portable {

template <class ExecSpace>
struct Tuning {
  static constexpr bool device =
      !Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecSpace::memory_space>::accessible;
  /// Bytes of each rotary half (half_split) or of adjacent pairs (interleaved) one thread rotates
  /// at a time: one 128-bit access on GPUs; two SSE / one AVX register of data on CPUs.
  static constexpr int chunk_bytes = device ? 16 : 32;
  /// Pairs per chunk ("unit") for element type T.
  template <class T>
  static constexpr int chunk_pairs = chunk_bytes / static_cast<int>(sizeof(T));
  /// Heads whose chunks a GPU thread loads before its first store: independent loads in flight
  /// (4 x 32 bytes). A CPU core keeps its loads in flight by itself. 16-bit lanes are held two
  /// to a register (lane_words.hpp), so four heads fit in the launch bounds' 128 registers: two
  /// heads held as floats ran bf16 at 60% of copy, four held as words at 73%.
  template <class T>
  static constexpr int head_batch = device ? 4 : 1;
  /// Most heads one GPU thread rotates, sharing one read (or evaluation) of the chunk's cos/sin:
  /// one batch, so that each thread loads, rotates, stores and exits, as the CUDA specialization
  /// measured best (not yet A/B-tested for this kernel: perf/NOTES.md). Smaller problems give
  /// each thread fewer, until the grid covers `waves` x the device's resident threads.
  template <class T>
  static constexpr int heads_per_thread = head_batch<T>;
  static constexpr int waves = 2;
  /// Chunks whose cos/sin an item holds at once. GPUs: one (registers). CPUs: 16, a whole row of
  /// up to 256 (16-bit) or 128 (fp32) pairs, so that each head row is rotated front to back: with
  /// one chunk of every head at a time the loads jump between the token's rows and stall.
  static constexpr int staged_units = device ? 1 : 16;
  /// GPU blocks of 256 threads, at least 2 resident per SM: up to 128 registers a thread for the
  /// batch of head chunks (ptxas: 96-116 used, no stack; under Kokkos' default bounds the 16-bit
  /// kernels were capped at 80 to 96).
  using launch_bounds = Kokkos::LaunchBounds<256, 2>;
  /// Data the aligned access needs (16-byte packs); CPUs gain nothing from it.
  static constexpr bool packed_access = device;
};

}  // namespace krope::Impl::portable
