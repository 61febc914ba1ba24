#pragma once
/// \file tuning.hpp
/// Per-backend tuning constants of the vectorised rotary kernel, in one traits struct
/// (Cabana-style): the kernel and the launch-shape logic read nothing else.

#include <Kokkos_Core.hpp>

namespace krope::Impl::cuda {

struct RotaryTuning {
  /// Largest and smallest block of the table kernels; small problems shrink the block to spread
  /// over more SMs. The row kernel measured 256 > 512 > 128 (1024: -15 points); the token
  /// kernel's [b][h][t][d] blocks are the same at 256 and 512.
  static constexpr int block_threads = 256;
  static constexpr int min_block_threads = 64;
  /// Most heads one thread rotates (all loaded before the first store, one shot). 1 measured best
  /// on H100: every extra head costs registers and with them occupancy, while the cos/sin row
  /// a token's threads share is read from L1.
  static constexpr int max_heads_per_thread = 1;
  /// Heads are batched per thread (up to the limit above) only while the grid still covers this
  /// many waves of resident threads; otherwise they are spread over more threads (decode).
  static constexpr int waves = 1;
  /// A small grid is shrunk to smaller blocks until it has this many blocks per SM.
  static constexpr int min_blocks_per_sm = 2;
  /// q/k are touched once: evict-first loads/stores (ld/st.global.cs) leave L2 to the table
  /// (plain accesses measured 1-5% slower).
  static constexpr bool streaming = true;
  static constexpr bool streaming_stores = true;
  /// Second __launch_bounds__ argument (resident blocks per SM the register budget must allow):
  /// 6 blocks of 256 caps the table kernels at 40 registers (no spills), 1536 threads per SM.
  static constexpr int min_blocks_per_sm_bound = 6;
  /// The token kernel for multi-axis tokens (axis_positions), which keeps several positions
  /// live: at 40 registers it spilled (40-72-byte stacks); at 64 (4 blocks of 256, or 2 of 512)
  /// it does not.
  static constexpr int axes_min_blocks_per_sm_bound = 4;
  static constexpr int axes_heads_outer_min_blocks_per_sm_bound = 2;
  /// The row kernel when a token's positions are read from memory (position ids, multi-axis
  /// ids): each thread waits for the id, then for the table row it names. Rows per thread (of
  /// one token, sharing its cos/sin: more bytes in flight per thread) and register bounds,
  /// measured on the H200 (bf16, Llama shape, % of copy):
  ///   position ids: 1 row at 40 registers 83.7%, 2 rows at 48 91.4%;
  ///   interleaved M-RoPE: 1 row at 64 76.8%, 2 rows at 64 92.7%;
  ///   chunked M-RoPE: 1 row at 40 93.0%, 2 rows at 48 90.6% or at 64 92.1%.
  static constexpr int id_rows_per_thread = 2;
  static constexpr int id_min_blocks_per_sm_bound = 5;
  static constexpr int chunked_axes_rows_per_thread = 1;
  static constexpr int chunked_axes_min_blocks_per_sm_bound = 6;
  static constexpr int interleaved_axes_rows_per_thread = 2;
  static constexpr int interleaved_axes_min_blocks_per_sm_bound = 4;
  /// The same three limits for angles evaluated in the kernel (table-free), whose threads also
  /// stage their block's cos/sin rows in shared memory: the fp64 series needs more registers.
  static constexpr int staged_block_threads = 256;
  static constexpr int staged_max_heads_per_thread = 2;
  static constexpr int staged_min_blocks_per_sm_bound = 4;
  /// Computed angles of a token with two head groups (1 x 63488 x 128: q and k of one head) are
  /// evaluated in registers, half by each group, swapped through a shuffle: no shared memory and
  /// no barrier (31.5 -> 29.5 us against staging). false stages them always.
  static constexpr bool register_angles = true;
  /// [batch][heads][seq][dim] data: head groups per block; the rest of the block is consecutive
  /// tokens of those heads (Llama shape: 87.7% of copy with all 40 heads and one token per
  /// block, 91.7% with 8 or 16, 89.6% with 4).
  static constexpr int heads_outer_block_groups = 8;
  /// Its block and register cap (table angles): 512 threads, 8 planes x 8 tokens, 40 registers
  /// (Llama shape: 96.8% of copy against 95.7-96.2% with 256 threads).
  static constexpr int heads_outer_block_threads = 512;
  static constexpr int heads_outer_min_blocks_per_sm_bound = 3;
  /// When a token's heads do not fit one block, q and k get a launch each (whole rows per
  /// block) once the problem covers this many waves of resident threads (fp32 Llama: 96.3% ->
  /// 99.0% of copy; small problems lose the second launch's ramp).
  static constexpr int operands_apart_waves = 4;
  /// Table angles take the row kernel when a token's q and k rows hold at least this many times
  /// the bytes of its table row (Llama-3 bf16: 20; 1 q and 1 k head of 128: 1, token kernel).
  static constexpr int row_kernel_min_token_bytes = 4;
  /// Dynamic shared memory a block may stage its tokens' cos/sin rows in.
  static constexpr int max_shared_bytes = 48 * 1024;
};

}  // namespace krope::Impl::cuda
