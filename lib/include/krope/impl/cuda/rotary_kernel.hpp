#pragma once
/// \file rotary_kernel.hpp
/// The vectorised rotary kernel. Each thread owns one "vector pair" of a head row: the 16 bytes
/// at lanes [xV, xV+V) of the first rotary half and the 16 bytes at [R/2 + xV, R/2 + xV + V) of
/// the second (V = 16 / sizeof(T)). It reads the V cos and V sin values those lanes need once,
/// keeps them in registers, and rotates the same lanes of every head it owns (q heads then k
/// heads), issuing the loads of `heads_unroll` heads before the first store.
///
///   half_split:  lane i of the first vector pairs with lane i of the second, pair xV + i.
///   interleaved: lanes (2m, 2m+1) of each vector form a pair: pairs xV/2 + m (first vector)
///                and R/4 + xV/2 + m (second vector).
///
/// Block (threadIdx): x = vector pair in the head row, y = head group, z = token. A head group g
/// rotates heads g, g + G, g + 2G, ... of its token, G = head_groups (spread over blockIdx.y).
/// Table angles are read straight from the table row (read-only path, L2-resident); any other
/// angle source (ComputedAngles) is evaluated once per (token, pair) into shared memory by the
/// block and then read like a table row.

#include <krope/impl/cuda/vector_access.hpp>
#include <krope/impl/rotation.hpp>
#include <krope/impl/token_positions.hpp>

#include <cstdint>

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

/// cos/sin read straight from the table rows (attention factor folded in).
template <class Real>
struct TableRows {
  static constexpr bool staged = false;
  const Real* cos = nullptr;
  const Real* sin = nullptr;
  std::int64_t row_stride = 0;
};

/// Any other angle source: evaluated once per (token, pair) into shared memory.
template <class Source>
struct StagedAngles {
  static constexpr bool staged = true;
  Source source;
};

template <class T, class Angles, class Tokens>
struct RotaryArgs {
  Operand<T> q, k;
  Angles angles;
  Tokens tokens;
  std::int64_t token_count = 0;
  std::int64_t token_tiles = 0;  ///< ceil(token_count / blockDim.z)
  int half = 0;                  ///< R/2: lanes per rotary half, and pairs per head
  int quarter = 0;               ///< R/4: the first pair of the second half (interleaved)
  int items = 0;                 ///< R/2 / V: vector pairs per head row (blockDim.x)
  int tail_vectors = 0;          ///< (D - R) / V when out of place (copied), else 0
  int head_groups = 0;           ///< G: threads that share one token's heads
  bool interleaved = false;
  bool backward = false;
};

template <int Rank>
__device__ __forceinline__ std::int64_t token_offset(const std::int64_t (&stride)[3],
                                                     std::int64_t token, const TokenCoord& c) {
  if constexpr (Rank == 4)
    return c.batch * stride[0] + c.seq * stride[1];
  else
    return token * stride[0];
}

/// Rotates the two vectors of one head row by the thread's cos/sin.
template <class T>
__device__ __forceinline__ void rotate_vectors(uint4& lo, uint4& hi,
                                               const arithmetic_t<T> (&c)[Vector<T>::width],
                                               const arithmetic_t<T> (&s)[Vector<T>::width],
                                               bool interleaved) {
  using Real = arithmetic_t<T>;
  constexpr int V = Vector<T>::width, H = V / 2;
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

/// One tile of tokens (blockDim.z of them) for this block's head groups.
template <class Tuning, int Rank, class T, class Angles, class Tokens>
__device__ __forceinline__ void rotate_tile(const RotaryArgs<T, Angles, Tokens>& a,
                                            std::int64_t tile) {
  using Real = arithmetic_t<T>;
  constexpr int V = Vector<T>::width, H = V / 2, U = Tuning::heads_unroll;
  constexpr bool streaming = Tuning::streaming;
  constexpr bool streaming_stores = Tuning::streaming_stores;

  const int x = threadIdx.x;
  const int g = blockIdx.y * blockDim.y + threadIdx.y;
  const std::int64_t token = tile * blockDim.z + threadIdx.z;
  const bool live_token = token < a.token_count;
  TokenCoord coord{0, 0, 0};
  if (live_token) coord = a.tokens(token);

  // Where this thread's V cos/sin values sit in a row of R/2: two chunks of V/2.
  const int chunk_a = a.interleaved ? x * H : x * V;
  const int chunk_b = a.interleaved ? a.quarter + x * H : x * V + H;
  Real c[V], s[V];
  if constexpr (Angles::staged) {
    extern __shared__ uint4 staged_rows[];
    Real* row_cos = reinterpret_cast<Real*>(staged_rows) + std::size_t(threadIdx.z) * 2 * a.half;
    Real* row_sin = row_cos + a.half;
    if (live_token) {
      const int team = blockDim.x * blockDim.y;
      for (int p = threadIdx.y * blockDim.x + x; p < a.half; p += team)
        a.angles.source(coord.position, p, row_cos[p], row_sin[p]);
    }
    __syncthreads();
    if (!live_token || g >= a.head_groups) return;
    load_reals<H>(row_cos + chunk_a, c);
    load_reals<H>(row_cos + chunk_b, c + H);
    load_reals<H>(row_sin + chunk_a, s);
    load_reals<H>(row_sin + chunk_b, s + H);
  } else {
    if (!live_token || g >= a.head_groups) return;
    const std::int64_t row = coord.position * a.angles.row_stride;
    load_reals_ro<H>(a.angles.cos + row + chunk_a, c);
    load_reals_ro<H>(a.angles.cos + row + chunk_b, c + H);
    load_reals_ro<H>(a.angles.sin + row + chunk_a, s);
    load_reals_ro<H>(a.angles.sin + row + chunk_b, s + H);
  }
  if (a.backward) {
#pragma unroll
    for (int i = 0; i < V; ++i) s[i] = -s[i];
  }

  const int q_heads = a.q.heads, heads = q_heads + a.k.heads, groups = a.head_groups;
  const T* q_in = a.q.in + token_offset<Rank>(a.q.in_stride, token, coord);
  const T* k_in = a.k.in + token_offset<Rank>(a.k.in_stride, token, coord);
  T* q_out = a.q.out + token_offset<Rank>(a.q.out_stride, token, coord);
  T* k_out = a.k.out + token_offset<Rank>(a.k.out_stride, token, coord);
  auto in_row = [&](int h) -> const T* {
    return h < q_heads ? q_in + h * a.q.in_stride[2] : k_in + (h - q_heads) * a.k.in_stride[2];
  };
  auto out_row = [&](int h) -> T* {
    return h < q_heads ? q_out + h * a.q.out_stride[2] : k_out + (h - q_heads) * a.k.out_stride[2];
  };
  const int lo_lane = x * V, hi_lane = a.half + x * V;

  for (int h0 = g; h0 < heads; h0 += U * groups) {
    uint4 lo[U], hi[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int h = h0 + u * groups;
      if (h < heads) {
        const T* p = in_row(h);
        lo[u] = load16<streaming>(p + lo_lane);
        hi[u] = load16<streaming>(p + hi_lane);
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int h = h0 + u * groups;
      if (h < heads) {
        rotate_vectors<T>(lo[u], hi[u], c, s, a.interleaved);
        T* p = out_row(h);
        store16<streaming_stores>(p + lo_lane, lo[u]);
        store16<streaming_stores>(p + hi_lane, hi[u]);
      }
    }
  }

  // Out of place with partial rotary: copy the pass-through lanes [R, D).
  if (a.tail_vectors > 0) {
    const int tail = 2 * a.half;
    for (int h = g; h < heads; h += groups) {
      const T* src = in_row(h) + tail;
      T* dst = out_row(h) + tail;
      for (int v = x; v < a.tail_vectors; v += a.items)
        store16<streaming_stores>(dst + v * V, load16<streaming>(src + v * V));
    }
  }
}

/// Token tiles blockIdx.x, blockIdx.x + gridDim.x, ... (one tile per block unless the grid was
/// capped by Tuning::persistent).
template <class Tuning, int Rank, class T, class Angles, class Tokens>
__global__ void __launch_bounds__(Tuning::block_threads, Tuning::min_blocks_per_sm_bound)
    rotary_vec16_kernel(const RotaryArgs<T, Angles, Tokens> a) {
  for (std::int64_t tile = blockIdx.x; tile < a.token_tiles; tile += gridDim.x) {
    if constexpr (Angles::staged) {
      if (tile != blockIdx.x) __syncthreads();  // the previous tile's rows are still being read
    }
    rotate_tile<Tuning, Rank>(a, tile);
  }
}

}  // namespace krope::Impl::cuda
