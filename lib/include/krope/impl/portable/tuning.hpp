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
  /// Heads whose chunks a GPU thread loads before its first store (independent loads in
  /// flight), and the most heads it rotates in all, batch after batch, sharing one read (or
  /// evaluation) of the chunk's cos/sin and one token lookup. A CPU core keeps its loads in
  /// flight by itself. H200, Llama bf16 (perf/NOTES.md): batches of 4 held to the end 73% of
  /// copy, 2 x 4 batches 80%, with 3 blocks resident per SM (launch_bounds) 85%; fp32 keeps
  /// batches of 4 (96%; at 2 it ran at 90-94%). Smaller problems give each thread fewer heads,
  /// until the grid covers `waves` x the device's resident threads.
  template <class T>
  static constexpr int head_batch = device ? (sizeof(T) == 2 ? 2 : 4) : 1;
  template <class T>
  static constexpr int heads_per_thread = device ? 8 : 1;
  static constexpr int waves = 2;
  /// Chunks whose cos/sin an item holds at once. GPUs: one (registers). CPUs: 16, a whole row of
  /// up to 256 (16-bit) or 128 (fp32) pairs, so that each head row is rotated front to back: with
  /// one chunk of every head at a time the loads jump between the token's rows and stall.
  static constexpr int staged_units = device ? 1 : 16;
  /// GPU blocks of at most 256 threads and a residency that caps the registers: 16-bit kernels
  /// 3 blocks per SM (85 registers, a 24-byte stack, and the occupancy the loads need: 85% of
  /// copy against 80% at 2 blocks, 77% at 4 with 100-byte stacks), wider types 2 (128
  /// registers: their batches of 4 heads hold twice the bytes).
  template <class T>
  using launch_bounds = Kokkos::LaunchBounds<256, sizeof(T) == 2 ? 3 : 2>;
  /// Data the aligned access needs (16-byte packs); CPUs gain nothing from it.
  static constexpr bool packed_access = device;
};

}  // namespace krope::Impl::portable
