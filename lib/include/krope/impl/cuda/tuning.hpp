#pragma once
/// \file tuning.hpp
/// Per-backend tuning constants of the vectorised rotary kernel, in one traits struct
/// (Cabana-style): the kernel and the launch-shape logic read nothing else.

#include <Kokkos_Core.hpp>

namespace krope::Impl::cuda {

struct RotaryTuning {
  /// Bytes per vector access: one LDG.E.128 / STG.E.128.
  static constexpr int vector_bytes = 16;
  /// Largest and smallest block; small problems shrink the block to spread over more SMs.
  static constexpr int block_threads = 256;
  static constexpr int min_block_threads = 64;
  /// Heads whose loads a thread issues before the first store (independent loads in flight).
  /// 2 measured best on H100 (perf/NOTES_kernel.md): 4 needs 92 registers and runs 2-3% slower,
  /// 8 needs 128 and is slower still.
  static constexpr int heads_unroll = 2;
  /// Most heads one thread rotates with the same cos/sin registers.
  static constexpr int max_heads_per_thread = 8;
  /// Heads are batched per thread only while the grid still covers this many waves of
  /// resident threads; otherwise the heads are spread over more threads (decode, small batches).
  /// 1 measured best: at 63488 x 128 with one q and one k head it puts both heads of a token on
  /// one thread (cos/sin loaded once per token), 42-53 us -> 39 us.
  static constexpr int waves = 1;
  /// A small grid is shrunk to smaller blocks until it has this many blocks per SM.
  static constexpr int min_blocks_per_sm = 2;
  /// q/k are touched once: evict-first loads/stores (ld/st.global.cs) leave L2 to the table.
  static constexpr bool streaming = true;
  static constexpr bool streaming_stores = true;
  /// Second __launch_bounds__ argument (resident blocks per SM the register budget must allow).
  /// 4 (64 registers) spills with heads_unroll 4 and gains nothing with 2: left at 1.
  static constexpr int min_blocks_per_sm_bound = 1;
  /// 0: one token tile per block. n > 0: the grid is capped at n times the blocks that fit on the
  /// device at once and each block loops over tiles (grid-stride). Measured no gain (2, 4).
  static constexpr int persistent = 0;
  /// Dynamic shared memory the table-free path may stage cos/sin in, per block.
  static constexpr int max_shared_bytes = 48 * 1024;
};

}  // namespace krope::Impl::cuda
