#pragma once
/// \file row_kernel.hpp
/// The vectorised rotary kernel over head rows, for table angles, token-major data
/// ([batch][seq][heads][dim] or packed [tokens][heads][dim]) and tokens of several heads (few
/// heads: see launch_vec16). The rows of q, then those of k, are numbered token by token, head
/// by head; a block takes a run of consecutive rows of one operand, so it reads one stretch of
/// memory whatever the head counts (the token kernel's blocks read a token's q rows and its k
/// rows, or slices of them when its heads do not fit one block). q's blocks all come first: the
/// grid walks each operand in one pass (tiles of tokens, q then k blocks per tile, measured
/// 0.2-1.0 point slower). A thread owns one vector pair of one row (lanes as in
/// rotary_kernel.hpp), or of Rows consecutive rows of one token when the positions are read from
/// memory: it issues its loads, then finds the token's position(s), reads its lanes' cos/sin
/// from the table row (shared through L1 by the token's other heads in the block), rotates,
/// stores and exits. Against the token kernel: +0.5 to +2.3% of bandwidth at the suite's large
/// shapes on an H100.

#include <krope/impl/arithmetic.hpp>
#include <krope/impl/cuda/rotary_kernel.hpp>
#include <krope/impl/cuda/vector_access.hpp>
#include <krope/impl/div_mod.hpp>

#include <cstdint>
#include <type_traits>

namespace krope::Impl::cuda {

/// The row kernel's arguments: the rotation's, and the launch's row splits.
template <class T, class Angles, class Tokens>
struct RowArgs : RotationArgs<T, Angles, Tokens> {
  DivMod q_by_heads, k_by_heads;  ///< row -> (token, head) of each operand
  std::int64_t q_rows = 0, k_rows = 0;
  std::int64_t q_blocks = 0;  ///< blocks [0, q_blocks) rotate q rows, the rest k rows
};

/// Whether a token's positions are read from memory (position ids, multi-axis ids): its threads
/// wait for the id, then for the table row it names, before they can rotate.
template <class Tokens>
struct positions_in_memory : is_axis_tokens<Tokens> {};
template <class M>
struct positions_in_memory<IdTokens<M>> : std::true_type {};

/// How the multi-axis pairs of a launch map onto axes, fixed at compile time so that each
/// layout's kernel holds only its own registers: one axis (any one-position mode), chunked
/// sections, interleaved sections.
enum class AxesKernel { one, chunked, interleaved };
template <AxesKernel L>
using axes_kernel = std::integral_constant<AxesKernel, L>;

/// The layout of a launch's pairs on axes (L) chooses rows per thread and register bound.
template <class Tuning, class Tokens, AxesKernel L>
constexpr int rows_per_thread() {
  if (L == AxesKernel::interleaved) return Tuning::interleaved_axes_rows_per_thread;
  if (L == AxesKernel::chunked) return Tuning::chunked_axes_rows_per_thread;
  return positions_in_memory<Tokens>::value ? Tuning::id_rows_per_thread : 1;
}
template <class Tuning, class Tokens, AxesKernel L>
constexpr int row_min_blocks_per_sm_bound() {
  if (L == AxesKernel::interleaved) return Tuning::interleaved_axes_min_blocks_per_sm_bound;
  if (L == AxesKernel::chunked) return Tuning::chunked_axes_min_blocks_per_sm_bound;
  return positions_in_memory<Tokens>::value ? Tuning::id_min_blocks_per_sm_bound
                                            : Tuning::min_blocks_per_sm_bound;
}

/// Block (items, units): threadIdx.x = vector pair in the row, threadIdx.y = unit in the block;
/// a unit is Rows consecutive rows of one token (heads h, h + 1, ...), which share the token's
/// position and its cos/sin.
template <class Tuning, int Rank, int Rows, AxesKernel L, class T, class Angles, class Tokens>
__global__ void __launch_bounds__(Tuning::block_threads,
                                  row_min_blocks_per_sm_bound<Tuning, Tokens, L>())
    rotary_rows_kernel(const RowArgs<T, Angles, Tokens> a) {
  static_assert(!Angles::staged, "the row kernel reads table rows");
  using Real = arithmetic_t<T>;
  constexpr int V = Vector<T>::width, H = V / 2;
  constexpr bool streaming = Tuning::streaming;
  constexpr bool streaming_stores = Tuning::streaming_stores;

  // The operand is uniform over the block: every field below is a select, not an indexed read
  // of the parameter space.
  const bool is_q = blockIdx.x < a.q_blocks;
  const std::int64_t block = is_q ? blockIdx.x : blockIdx.x - a.q_blocks;
  const std::int64_t row = (block * blockDim.y + threadIdx.y) * Rows;
  if (row >= (is_q ? a.q_rows : a.k_rows)) return;
  const DivMod by_heads = is_q ? a.q_by_heads : a.k_by_heads;

  std::int64_t token = 0, h = 0, b = 0, t = 0;
  by_heads(row, token, h);
  if constexpr (Rank == 4) a.tokens.split(token, b, t);
  // The operand's strides, picked field by field.
  std::int64_t in_stride[3], out_stride[3];
#pragma unroll
  for (int i = 0; i < 3; ++i) {
    in_stride[i] = is_q ? a.q.in_stride[i] : a.k.in_stride[i];
    out_stride[i] = is_q ? a.q.out_stride[i] : a.k.out_stride[i];
  }
  const T* in =
      (is_q ? a.q.in : a.k.in) + token_offset<Rank>(in_stride, token, b, t) + h * in_stride[2];
  const int x = threadIdx.x;
  const int lo_lane = x * V, hi_lane = a.half + x * V;
  uint4 lo[Rows], hi[Rows];
#pragma unroll
  for (int r = 0; r < Rows; ++r) {
    lo[r] = load16<streaming>(in + r * in_stride[2] + lo_lane);
    hi[r] = load16<streaming>(in + r * in_stride[2] + hi_lane);
  }

  T* out =
      (is_q ? a.q.out : a.k.out) + token_offset<Rank>(out_stride, token, b, t) + h * out_stride[2];
  if (a.tail_vectors > 0) {  // out of place, partial rotary: copy lanes [R, D) meanwhile
    const int tail = 2 * a.half;
    for (int r = 0; r < Rows; ++r)
      for (int v = x; v < a.tail_vectors; v += a.items)
        store16<streaming_stores>(out + r * out_stride[2] + tail + v * V,
                                  load16<streaming>(in + r * in_stride[2] + tail + v * V));
  }

  const auto coord = kernel_coord<Rank>(a.tokens, token, b, t);
  AxisMap axes = a.axes;
  if constexpr (L != AxesKernel::one) axes.interleaved = L == AxesKernel::interleaved;
  const int chunk_a = a.interleaved ? x * H : x * V;
  const int chunk_b = a.interleaved ? a.quarter + x * H : x * V + H;
  Real c[V], s[V];
  a.angles.template load<H>(coord, axes, chunk_a, chunk_b, c, s);
  if (a.backward) {
#pragma unroll
    for (int i = 0; i < V; ++i) s[i] = -s[i];
  }
#pragma unroll
  for (int r = 0; r < Rows; ++r) {
    rotate_vectors<T>(lo[r], hi[r], c, s, a.interleaved);
    store16<streaming_stores>(out + r * out_stride[2] + lo_lane, lo[r]);
    store16<streaming_stores>(out + r * out_stride[2] + hi_lane, hi[r]);
  }
}

}  // namespace krope::Impl::cuda
