#pragma once
/// \file launch_shape.hpp
/// The grid and block of the vectorised kernel, chosen on the host from the problem alone (no
/// device query beyond the cached device properties, no allocation).
///
/// Threads per head row: items = R/2 / V (blockDim.x). Heads per thread start at 1 and double (up
/// to the tuning's limit: 1 for table angles, 2 for staged angles) while the grid still covers
/// `waves` waves of resident threads. The heads of a token are split over head groups (blockDim.y,
/// and blockIdx.y when they do not fit one block), the block is filled with tokens (blockDim.z, at
/// most 64; the two swap for [b][h][t][d] data) and shrunk while the grid has fewer than
/// min_blocks_per_sm blocks per SM, so decode (B = 64, T = 1) still spreads over the SMs.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace krope::Impl::cuda {

struct LaunchShape {
  dim3 grid, block;
  int head_groups = 0;           ///< G: threads sharing one token's heads (over blockIdx.y too)
  std::size_t shared_bytes = 0;  ///< dynamic shared memory (staged angles only)
  bool tokens_inner = false;     ///< block (items, tokens, groups), not (items, groups, tokens)
};

/// `staged_bytes_per_token`: shared memory one token's cos/sin rows need (0 for table angles,
/// which also selects the table limits of Tuning). `heads_outer`: [batch][heads][seq][dim] data,
/// whose head rows of one token lie a whole sequence apart: a block then takes at most
/// Tuning::heads_outer_block_groups head groups and fills up with consecutive tokens, placed
/// inner (blockDim.y) so that a warp reads consecutive rows of one head.
/// Returns false when no shape fits (the caller falls back to the generic kernel).
template <class Tuning>
bool choose_launch_shape(int sm_count, int threads_per_sm, std::int64_t tokens, int items,
                         int heads, std::size_t staged_bytes_per_token, LaunchShape& shape,
                         bool heads_outer = false) {
  const bool staged = staged_bytes_per_token > 0;
  const int block_threads = staged        ? Tuning::staged_block_threads
                            : heads_outer ? Tuning::heads_outer_block_threads
                                          : Tuning::block_threads;
  const int max_per_thread =
      staged ? Tuning::staged_max_heads_per_thread : Tuning::max_heads_per_thread;
  if (items < 1 || items > block_threads || heads < 1 || heads > 65535 || tokens < 1) return false;
  if (staged_bytes_per_token > static_cast<std::size_t>(Tuning::max_shared_bytes)) return false;
  const std::int64_t resident = std::int64_t(sm_count) * threads_per_sm;
  int per_thread = 1;
  // Staged angles: a token's R/2 angles are shared out among its head groups, V / groups per
  // thread, evaluated serially; batching heads with fewer than 4 groups left makes that the
  // critical path (1 x 63488 x 128, two heads: 44 us with 1 group, 36 us with 2).
  while (per_thread * 2 <= max_per_thread && per_thread < heads &&
         (!staged || (heads + 2 * per_thread - 1) / (2 * per_thread) >= 4) &&
         tokens * items * ((heads + 2 * per_thread - 1) / (2 * per_thread)) >=
             Tuning::waves * resident)
    per_thread *= 2;
  const int groups = (heads + per_thread - 1) / per_thread;

  for (int threads = block_threads;; threads /= 2) {
    int max_groups = std::max(1, std::min(groups, threads / items));
    if (heads_outer)  // groups go in blockDim.z (at most 64)
      max_groups = std::min({max_groups, Tuning::heads_outer_block_groups, 64});
    const int y_blocks = (groups + max_groups - 1) / max_groups;
    const int block_groups = (groups + y_blocks - 1) / y_blocks;  // split the heads evenly
    std::int64_t block_tokens = std::max(1, threads / (items * block_groups));
    block_tokens = std::min<std::int64_t>(block_tokens, tokens);
    if (!heads_outer) block_tokens = std::min<std::int64_t>(block_tokens, 64);  // blockDim.z limit
    if (staged_bytes_per_token > 0)
      block_tokens = std::min<std::int64_t>(
          block_tokens,
          Tuning::max_shared_bytes / static_cast<std::int64_t>(staged_bytes_per_token));
    const std::int64_t x_blocks = (tokens + block_tokens - 1) / block_tokens;
    if (x_blocks > 0x7fffffff) return false;
    shape.grid = dim3(static_cast<unsigned>(x_blocks), static_cast<unsigned>(y_blocks), 1);
    shape.tokens_inner = heads_outer;
    shape.block = heads_outer
                      ? dim3(static_cast<unsigned>(items), static_cast<unsigned>(block_tokens),
                             static_cast<unsigned>(block_groups))
                      : dim3(static_cast<unsigned>(items), static_cast<unsigned>(block_groups),
                             static_cast<unsigned>(block_tokens));
    shape.head_groups = groups;
    shape.shared_bytes = static_cast<std::size_t>(block_tokens) * staged_bytes_per_token;
    if (threads / 2 < Tuning::min_block_threads ||
        x_blocks * y_blocks >= std::int64_t(Tuning::min_blocks_per_sm) * sm_count)
      return true;
  }
}

/// The row kernel's grid: q's rows then k's, `rows` per block (block (items, rows)), the block
/// halved while the grid has fewer than min_blocks_per_sm blocks per SM (decode).
struct RowShape {
  dim3 grid, block;
  std::int64_t q_blocks = 0;
};

template <class Tuning>
bool choose_row_shape(int sm_count, std::int64_t q_rows, std::int64_t k_rows, int items,
                      RowShape& shape) {
  if (items < 1 || items > Tuning::block_threads || q_rows + k_rows < 1) return false;
  for (int threads = Tuning::block_threads;; threads /= 2) {
    const int rows = std::max(1, threads / items);
    const std::int64_t q_blocks = (q_rows + rows - 1) / rows, k_blocks = (k_rows + rows - 1) / rows;
    if (q_blocks + k_blocks > 0x7fffffff) return false;
    shape.grid = dim3(static_cast<unsigned>(q_blocks + k_blocks), 1, 1);
    shape.block = dim3(static_cast<unsigned>(items), static_cast<unsigned>(rows), 1);
    shape.q_blocks = q_blocks;
    if (threads / 2 < Tuning::min_block_threads ||
        q_blocks + k_blocks >= std::int64_t(Tuning::min_blocks_per_sm) * sm_count)
      return true;
  }
}

}  // namespace krope::Impl::cuda
