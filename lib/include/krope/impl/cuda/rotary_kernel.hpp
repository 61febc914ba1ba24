#pragma once
/// \file rotary_kernel.hpp
/// The vectorised rotary kernel over tokens: a block holds whole tokens' q and k heads (computed
/// angles, [b][h][t][d] data, tokens of few heads; row_kernel.hpp takes the rest). Each thread
/// owns one "vector pair" of a head row: the 16 bytes at lanes [xV, xV+V) of the first rotary
/// half and the 16 bytes at [R/2 + xV, R/2 + xV + V) of the second (V = 16 / sizeof(T)). It
/// reads the V cos and V sin values those lanes need once, keeps them in registers, and rotates
/// the same lanes of every head it owns (q heads then k heads; as many as the tuning allows: one
/// for table rows, two for staged rows).
///
///   half_split:  lane i of the first vector pairs with lane i of the second, pair xV + i.
///   interleaved: lanes (2m, 2m+1) of each vector form a pair: pairs xV/2 + m (first vector)
///                and R/4 + xV/2 + m (second vector).
///
/// Block (threadIdx): x = vector pair in the head row, y = head group, z = token (y = token,
/// z = head group when TokensInner: [b][h][t][d] data, where a warp then covers consecutive
/// tokens of one head, contiguous in memory, instead of rows a sequence apart). A head group g
/// rotates heads g, g + G, g + 2G, ... of its token, G = head_groups (spread over blockIdx.y).
/// Each thread issues the loads of all its heads first, then reads its lanes' cos/sin (table rows
/// straight from the table; any other angle source is evaluated once per (token, pair) by the
/// block into shared memory, or with two head groups by the thread pair in registers), then
/// rotates, stores and exits: one shot per thread.

#include <krope/impl/arithmetic.hpp>
#include <krope/impl/cuda/vector_access.hpp>
#include <krope/impl/div_mod.hpp>
#include <krope/impl/rotation.hpp>
#include <krope/impl/token_positions.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace krope::Impl::cuda {

/// One of q / k: raw pointers and element strides. stride[0] is the batch stride (rank 4) or
/// the token stride (rank 3, varlen), stride[1] the seq stride (rank 4), stride[2] the head
/// stride; the innermost stride is 1.
template <class T>
struct Operand {
  const T* in = nullptr;
  T* out = nullptr;
  std::int64_t in_stride[3] = {0, 0, 0};
  std::int64_t out_stride[3] = {0, 0, 0};
  int heads = 0;
};

/// Table rows: each thread reads the cos/sin of its lanes straight from the row (read-only path;
/// the row is shared by the token's heads through L1).
template <class Real>
struct TableRows {
  static constexpr bool staged = false;
  const Real* cos = nullptr;
  const Real* sin = nullptr;
  std::int64_t row_stride = 0;

  /// The two chunks of H = V/2 values at pairs chunk_a and chunk_b of the token's rows: one
  /// row (its position), or with several axes each chunk from the row of its axis's position.
  template <int H, class Coord>
  __device__ __forceinline__ void load(const Coord& coord, const AxisMap& axes, int chunk_a,
                                       int chunk_b, Real* c, Real* s) const {
    if constexpr (std::is_same<Coord, TokenCoord>::value) {
      const std::int64_t row = coord.position * row_stride;
      load_rows<H>(row, row, chunk_a, chunk_b, c, s);
    } else if (axes.interleaved) {
      // Interleaved sections: a chunk's pairs follow all three axes (pair j: axis j % 3 below
      // 3 n_a). A token whose three positions agree (text) reads one row, as plain RoPE does;
      // any other reads each chunk from the three rows and picks lane by lane: six vector
      // reads a chunk instead of eight scalar ones.
      const std::int64_t p0 = coord.on_axis(0), p1 = coord.on_axis(1), p2 = coord.on_axis(2);
      if (p0 == p1 && p1 == p2) {
        load_rows<H>(p0 * row_stride, p0 * row_stride, chunk_a, chunk_b, c, s);
      } else {
        const std::int64_t rows[3] = {p0 * row_stride, p1 * row_stride, p2 * row_stride};
        pick_lanes<H>(rows, axes, chunk_a, c, s);
        pick_lanes<H>(rows, axes, chunk_b, c + H, s + H);
      }
    } else if (axes.one_axis(chunk_a, H) && axes.one_axis(chunk_b, H)) {
      // Chunked sections, both chunks inside one: both ids are read before either chunk's row,
      // so the two id-then-row waits overlap (in turn, they were the 2-D vision kernel's
      // critical path: Nsight Compute, perf/NOTES.md).
      load_rows<H>(position_of(coord, axes, chunk_a) * row_stride,
                   position_of(coord, axes, chunk_b) * row_stride, chunk_a, chunk_b, c, s);
    } else {
      load_chunk<H>(coord, axes, chunk_a, c, s);
      load_chunk<H>(coord, axes, chunk_b, c + H, s + H);
    }
  }
  /// Chunk a from the row at offset row_a, chunk b from row_b (one row: both the same).
  template <int H>
  __device__ __forceinline__ void load_rows(std::int64_t row_a, std::int64_t row_b, int chunk_a,
                                            int chunk_b, Real* c, Real* s) const {
    load_reals<H, true>(cos + row_a + chunk_a, c);
    load_reals<H, true>(cos + row_b + chunk_b, c + H);
    load_reals<H, true>(sin + row_a + chunk_a, s);
    load_reals<H, true>(sin + row_b + chunk_b, s + H);
  }
  /// Chunked sections: a chunk inside one section reads its axis's row (the token's id of that
  /// axis alone); one that spans sections goes pair by pair.
  template <int H, class Coord>
  __device__ __forceinline__ void load_chunk(const Coord& coord, const AxisMap& axes, int first,
                                             Real* c, Real* s) const {
    if (axes.one_axis(first, H)) {
      const std::int64_t row = position_of(coord, axes, first) * row_stride;
      load_reals<H, true>(cos + row + first, c);
      load_reals<H, true>(sin + row + first, s);
    } else {
#pragma unroll
      for (int m = 0; m < H; ++m) {
        const std::int64_t row = position_of(coord, axes, first + m) * row_stride;
        c[m] = fetch<true>(cos + row + first + m);
        s[m] = fetch<true>(sin + row + first + m);
      }
    }
  }
  /// The H pairs from `first`, each from the row of its axis (rows[a]: axis a's row offset).
  template <int H>
  __device__ __forceinline__ void pick_lanes(const std::int64_t (&rows)[3], const AxisMap& axes,
                                             int first, Real* c, Real* s) const {
    Real from_c[3][H], from_s[3][H];
#pragma unroll
    for (int a = 0; a < 3; ++a) {
      load_reals<H, true>(cos + rows[a] + first, from_c[a]);
      load_reals<H, true>(sin + rows[a] + first, from_s[a]);
    }
#pragma unroll
    for (int m = 0; m < H; ++m) {
      const int a = axes.axis_of(first + m);
      c[m] = a == 0 ? from_c[0][m] : a == 1 ? from_c[1][m] : from_c[2][m];
      s[m] = a == 0 ? from_s[0][m] : a == 1 ? from_s[1][m] : from_s[2][m];
    }
  }
};

/// Any other angle source, evaluated in the kernel: by the block into shared memory, once per
/// (token, pair) (many heads), or in registers by the two threads that share a token's lanes
/// when it has two head groups (q and k of one head each), half each, swapped by a shuffle.
template <class Source>
struct ComputedRows {
  static constexpr bool staged = true;
  Source source;

  template <class Real, class Coord>
  __device__ __forceinline__ void stage(const Coord& coord, const AxisMap& axes, int half,
                                        Real* row_cos, Real* row_sin, int me, int team) const {
    for (int p = me; p < half; p += team) {
      Real c, s;
      source(position_of(coord, axes, p), p, c, s);
      row_cos[p] = c;
      row_sin[p] = s;
    }
  }

  /// cos/sin of the N pairs first, first + 1, ... of the token (each at its axis's position).
  template <int N, class Real, class Coord>
  __device__ __forceinline__ void evaluate(const Coord& coord, const AxisMap& axes, int first,
                                           Real* c, Real* s) const {
#pragma unroll
    for (int m = 0; m < N; ++m) source(position_of(coord, axes, first + m), first + m, c[m], s[m]);
  }
};

/// What both kernels take from the rotation (launch_vec16 fills it alike for both).
template <class T, class Angles, class Tokens>
struct RotationArgs {
  Operand<T> q, k;
  Angles angles;
  Tokens tokens;
  int half = 0;          ///< R/2: lanes per rotary half, and pairs per head
  int quarter = 0;       ///< R/4: the first pair of the second half (interleaved)
  int items = 0;         ///< R/2 / V: vector pairs per head row (blockDim.x)
  int tail_vectors = 0;  ///< (D - R) / V when out of place (copied), else 0
  bool interleaved = false;
  bool backward = false;
  AxisMap axes;  ///< the axis of each pair (multi-axis tokens)
};

/// The token kernel's arguments: the rotation's, and how its heads are spread over threads.
template <class T, class Angles, class Tokens>
struct RotaryArgs : RotationArgs<T, Angles, Tokens> {
  std::int64_t token_count = 0;
  int head_groups = 0;           ///< G: threads that share one token's heads
  bool register_angles = false;  ///< computed angles, two head groups: in registers, not staged
};

/// Element offset of a token's row: (b, t) for [batch][seq] data, the token for packed data.
template <int Rank>
__device__ __forceinline__ std::int64_t token_offset(const std::int64_t (&stride)[3],
                                                     std::int64_t token, std::int64_t b,
                                                     std::int64_t t) {
  if constexpr (Rank == 4)
    return b * stride[0] + t * stride[1];
  else
    return token * stride[0];
}

/// The token's position(s) as the kernels read them: one-position maps look it up; multi-axis
/// maps hand back the token's ids, read axis by axis as its chunks of pairs ask.
template <int Rank, class Tokens>
__device__ __forceinline__ auto kernel_coord(const Tokens& tokens, std::int64_t token,
                                             std::int64_t b, std::int64_t t) {
  if constexpr (is_axis_tokens<Tokens>::value) {
    if constexpr (Rank == 4)
      return tokens.deferred(b, t);
    else
      return tokens.deferred(token);
  } else {
    if constexpr (Rank == 4)
      return tokens(b, t);
    else
      return tokens(token);
  }
}
template <int Rank, class Tokens>
using kernel_coord_t = decltype(kernel_coord<Rank>(std::declval<const Tokens&>(), 0, 0, 0));

/// Rotates the two vectors of one head row by the thread's cos/sin (c[i], s[i] for i < V):
///   half_split:  lane i of lo pairs with lane i of hi, by c[i].
///   interleaved: lanes (2m, 2m+1) of lo pair by c[m], those of hi by c[V/2 + m].
/// 16-bit lanes are widened and narrowed one 32-bit word at a time, so that few values are live.
template <class T>
__device__ __forceinline__ void rotate_vectors(uint4& lo, uint4& hi,
                                               const arithmetic_t<T> (&c)[Vector<T>::width],
                                               const arithmetic_t<T> (&s)[Vector<T>::width],
                                               bool interleaved) {
  using Real = arithmetic_t<T>;
  constexpr int V = Vector<T>::width, H = V / 2;
  if constexpr (sizeof(T) == 2) {
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      const std::uint32_t lw = word(lo, w), hw = word(hi, w);
      float a0 = widen<T>(lw & 0xffffu), a1 = widen<T>(lw >> 16);
      float b0 = widen<T>(hw & 0xffffu), b1 = widen<T>(hw >> 16);
      if (interleaved) {
        rotate_pair(a0, a1, c[w], s[w]);
        rotate_pair(b0, b1, c[H + w], s[H + w]);
      } else {
        rotate_pair(a0, b0, c[2 * w], s[2 * w]);
        rotate_pair(a1, b1, c[2 * w + 1], s[2 * w + 1]);
      }
      set_word(lo, w, narrow<T>(a0, a1));
      set_word(hi, w, narrow<T>(b0, b1));
    }
  } else {
    Real a[V], b[V];
    unpack<T>(lo, a);
    unpack<T>(hi, b);
    if (interleaved) {
#pragma unroll
      for (int m = 0; m < H; ++m) {
        rotate_pair(a[2 * m], a[2 * m + 1], c[m], s[m]);
        rotate_pair(b[2 * m], b[2 * m + 1], c[H + m], s[H + m]);
      }
    } else {
#pragma unroll
      for (int i = 0; i < V; ++i) rotate_pair(a[i], b[i], c[i], s[i]);
    }
    lo = pack<T>(a);
    hi = pack<T>(b);
  }
}

/// The block's tile of tokens: one shot, no loop over tiles or heads (a thread that
/// loops back to memory after its stores leaves the DRAM queues idle).
template <class Tuning, int Rank, bool TokensInner, class T, class Angles, class Tokens>
__global__ void __launch_bounds__(Angles::staged ? Tuning::staged_block_threads
                                  : TokensInner  ? Tuning::heads_outer_block_threads
                                                 : Tuning::block_threads,
                                  Angles::staged ? Tuning::staged_min_blocks_per_sm_bound
                                  : TokensInner
                                      ? (is_axis_tokens<Tokens>::value
                                             ? Tuning::axes_heads_outer_min_blocks_per_sm_bound
                                             : Tuning::heads_outer_min_blocks_per_sm_bound)
                                  : is_axis_tokens<Tokens>::value
                                      ? Tuning::axes_min_blocks_per_sm_bound
                                      : Tuning::min_blocks_per_sm_bound)
    rotary_vec16_kernel(const RotaryArgs<T, Angles, Tokens> a) {
  using Real = arithmetic_t<T>;
  constexpr int V = Vector<T>::width;
  constexpr int U =
      Angles::staged ? Tuning::staged_max_heads_per_thread : Tuning::max_heads_per_thread;
  constexpr bool streaming = Tuning::streaming;
  constexpr bool streaming_stores = Tuning::streaming_stores;

  const int x = threadIdx.x;
  const int group_in_block = TokensInner ? threadIdx.z : threadIdx.y;
  const int groups_per_block = TokensInner ? blockDim.z : blockDim.y;
  const int token_in_block = TokensInner ? threadIdx.y : threadIdx.z;
  const int tokens_per_block = TokensInner ? blockDim.y : blockDim.z;
  const int g = blockIdx.y * groups_per_block + group_in_block;
  const std::int64_t token = std::int64_t(blockIdx.x) * tokens_per_block + token_in_block;
  const bool live_token = token < a.token_count;
  const bool live = live_token && g < a.head_groups;
  // The row addresses need (b, t) only: a multiply-high, not the 64-bit division, so that the
  // loads leave within a few instructions of the thread's start. The position (which may load
  // an id or an offset, or search cu_seqlens) is looked up once they are in flight.
  std::int64_t b = 0, t = 0;
  if constexpr (Rank == 4) a.tokens.split(token, b, t);

  const int q_heads = a.q.heads, heads = q_heads + a.k.heads, groups = a.head_groups;
  const T* q_in = a.q.in + token_offset<Rank>(a.q.in_stride, token, b, t);
  const T* k_in = a.k.in + token_offset<Rank>(a.k.in_stride, token, b, t);
  auto in_row = [&](int h) -> const T* {
    return h < q_heads ? q_in + h * a.q.in_stride[2] : k_in + (h - q_heads) * a.k.in_stride[2];
  };
  const int lo_lane = x * V, hi_lane = a.half + x * V;

  // 1. Every q/k vector this thread rotates, before anything else: their DRAM latency overlaps
  //    the cos/sin reads (or evaluation) below.
  uint4 lo[U], hi[U];
#pragma unroll
  for (int u = 0; u < U; ++u) {
    const int h = g + u * groups;
    if (live && h < heads) {
      const T* p = in_row(h);
      lo[u] = load16<streaming>(p + lo_lane);
      hi[u] = load16<streaming>(p + hi_lane);
    }
  }

  T* q_out = a.q.out + token_offset<Rank>(a.q.out_stride, token, b, t);
  T* k_out = a.k.out + token_offset<Rank>(a.k.out_stride, token, b, t);
  auto out_row = [&](int h) -> T* {
    return h < q_heads ? q_out + h * a.q.out_stride[2] : k_out + (h - q_heads) * a.k.out_stride[2];
  };
  // Out of place with partial rotary: copy the pass-through lanes [R, D) now, while the loads
  // above are in flight (done at the end, its pointers would stay live through the rotation).
  if (a.tail_vectors > 0) {
    const int tail = 2 * a.half;
    for (int u = 0; u < U; ++u) {
      const int h = g + u * groups;
      if (!live || h >= heads) break;
      const T* src = in_row(h) + tail;
      T* dst = out_row(h) + tail;
      for (int v = x; v < a.tail_vectors; v += a.items)
        store16<streaming_stores>(dst + v * V, load16<streaming>(src + v * V));
    }
  }

  // 2. The token's position, and the cos/sin of this thread's lanes: two chunks of V/2 per row.
  kernel_coord_t<Rank, Tokens> coord{};
  if (live_token) coord = kernel_coord<Rank>(a.tokens, token, b, t);
  constexpr int H = V / 2;
  const int chunk_a = a.interleaved ? x * H : x * V;
  const int chunk_b = a.interleaved ? a.quarter + x * H : x * V + H;
  Real c[V], s[V];
  if constexpr (Angles::staged) {
    if (a.register_angles) {
      // Two head groups: group y evaluates chunk y of the thread's lanes, and the pair (lanes
      // blockDim.x apart: the launch uses this only with head groups in y) swaps halves.
      if (!live) return;  // both threads of a pair (same x and token) return together
      const bool second = threadIdx.y != 0;
      Real own_c[H], own_s[H];
      a.angles.template evaluate<H>(coord, a.axes, second ? chunk_b : chunk_a, own_c, own_s);
      const unsigned lane =
          (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) % 32;
      const unsigned other = second ? lane - blockDim.x : lane + blockDim.x;
      const unsigned pair = (1u << lane) | (1u << other);
#pragma unroll
      for (int m = 0; m < H; ++m) {
        const Real their_c = __shfl_sync(pair, own_c[m], other);
        const Real their_s = __shfl_sync(pair, own_s[m], other);
        c[m] = second ? their_c : own_c[m];
        s[m] = second ? their_s : own_s[m];
        c[H + m] = second ? own_c[m] : their_c;
        s[H + m] = second ? own_s[m] : their_s;
      }
    } else {
      // Evaluated once per (token, pair) by the block into shared memory, read by all its heads.
      extern __shared__ uint4 staged_rows[];
      Real* row_cos =
          reinterpret_cast<Real*>(staged_rows) + std::size_t(token_in_block) * 2 * a.half;
      Real* row_sin = row_cos + a.half;
      if (live_token)
        a.angles.stage(coord, a.axes, a.half, row_cos, row_sin, group_in_block * blockDim.x + x,
                       blockDim.x * groups_per_block);
      __syncthreads();
      if (!live) return;
      load_reals<H>(row_cos + chunk_a, c);
      load_reals<H>(row_cos + chunk_b, c + H);
      load_reals<H>(row_sin + chunk_a, s);
      load_reals<H>(row_sin + chunk_b, s + H);
    }
  } else {
    if (!live) return;
    a.angles.template load<H>(coord, a.axes, chunk_a, chunk_b, c, s);
  }
  if (a.backward) {
#pragma unroll
    for (int i = 0; i < V; ++i) s[i] = -s[i];
  }

  // 3. Rotate, store, exit.
#pragma unroll
  for (int u = 0; u < U; ++u) {
    const int h = g + u * groups;
    if (h < heads) {
      rotate_vectors<T>(lo[u], hi[u], c, s, a.interleaved);
      T* p = out_row(h);
      store16<streaming_stores>(p + lo_lane, lo[u]);
      store16<streaming_stores>(p + hi_lane, hi[u]);
    }
  }
}

}  // namespace krope::Impl::cuda
