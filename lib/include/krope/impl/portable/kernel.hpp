#pragma once
/// \file kernel.hpp
/// The portable rotary kernel. A work item is one token, a range of its heads (q heads, then k
/// heads) and a range of its chunks: a chunk ("unit") is C = chunk_bytes / sizeof(T) pairs, the
/// lanes [pC, pC + C) of each rotary half (half_split) or the 2C adjacent lanes of C pairs
/// (interleaved). For each of its chunks the item reads (or evaluates) the C cos/sin once, then
/// rotates that chunk of each of its heads, `head_batch` heads loaded before the first store.
/// GPUs run one chunk and a few heads per thread; CPUs one whole token per iteration, a
/// contiguous range of tokens per thread. Pairing, direction and row access are template
/// arguments: the lane loops have fixed trip counts and no branch, and compile to 128-bit
/// accesses on GPUs and to packed widen / rotate / narrow on CPUs. R/2 not a multiple of C
/// leaves one shorter chunk, rotated lane by lane in the same kernel; so does the pass-through
/// copy of out-of-place partial rotary.

#include <krope/impl/arithmetic.hpp>
#include <krope/impl/div_mod.hpp>
#include <krope/impl/portable/row_access.hpp>
#include <krope/impl/portable/unroll.hpp>
#include <krope/impl/rotation.hpp>
#include <krope/impl/token_positions.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <type_traits>

namespace krope::Impl::portable {

/// How work items map onto tokens, heads and chunks (launch.hpp chooses it).
struct ItemShape {
  DivMod by_token;         ///< item -> (token, slot); slot = group * unit_blocks + unit block
  DivMod by_seq;           ///< token -> (b, t) for [batch][seq] data
  int units = 0;           ///< chunks per rotary half: ceil(R/2 / C)
  int unit_blocks = 1;     ///< items per (token, head group) along the chunks
  int units_per_item = 0;  ///< chunks per item
  int heads_per_item = 0;  ///< heads per item (the last group may have fewer)
  std::int64_t items = 0;
};

template <class R, Pairing P, Direction D, RowAccess A, class Tuning>
struct Kernel {
  using T = typename R::value_type;
  using Real = typename R::real_type;
  static constexpr int C = Tuning::template chunk_pairs<T>;
  static constexpr int U = Tuning::template head_batch<T>;
  static constexpr bool interleaved = P == Pairing::interleaved;
  static constexpr bool packed = A == RowAccess::aligned;
  /// Lanes of one chunk in each run: one run per half (half_split) or one run of pairs.
  static constexpr int run = interleaved ? 2 * C : C;
  /// What a loaded lane is held as between load and store. GPUs: the arithmetic type, widened as
  /// it arrives (16-bit lanes held as 16-bit values went to local memory). CPUs: the element
  /// type, widened inside the rotation loop, which g++ vectorises as one widen / rotate / narrow
  /// pass (held widened, the batch doubles in size and bf16 fell from 8.8 to 4.5 GB/s per core).
  using Lane = std::conditional_t<Tuning::device, Real, T>;

  KOKKOS_FORCEINLINE_FUNCTION static Lane to_lane(const T& v) {
    if constexpr (Tuning::device)
      return widen(v);
    else
      return v;
  }
  KOKKOS_FORCEINLINE_FUNCTION static T to_element(const Lane& v) {
    if constexpr (Tuning::device)
      return narrow<T>(v);
    else
      return v;
  }
  KOKKOS_FORCEINLINE_FUNCTION static Real to_real(const Lane& v) {
    if constexpr (Tuning::device)
      return v;
    else
      return widen(v);
  }
  KOKKOS_FORCEINLINE_FUNCTION static Lane from_real(Real v) {
    if constexpr (Tuning::device)
      return v;
    else
      return narrow<T>(v);
  }
  template <int N>
  KOKKOS_FORCEINLINE_FUNCTION static void load(const T* p, std::int64_t stride, Lane (&v)[N]) {
    if constexpr (Tuning::device)
      load_widened<A, N>(p, stride, v);
    else
      load_lanes<A, N>(p, stride, v);
  }
  template <int N>
  KOKKOS_FORCEINLINE_FUNCTION static void store(T* p, std::int64_t stride, const Lane (&v)[N]) {
    if constexpr (Tuning::device)
      store_narrowed<A, N>(p, stride, v);
    else
      store_lanes<A, N>(p, stride, v);
  }

  R r;
  ItemShape shape;

  struct Place {
    std::int64_t token, b, t;
  };

  template <class View>
  KOKKOS_FORCEINLINE_FUNCTION static auto* row(const View& v, const Place& at, int h) {
    if constexpr (View::rank == 4)
      return &v(at.b, at.t, h, 0);
    else
      return &v(at.token, h, 0);
  }
  template <class View>
  KOKKOS_FORCEINLINE_FUNCTION static std::int64_t lane_stride(const View& v) {
    return A == RowAccess::strided ? static_cast<std::int64_t>(v.stride(View::rank - 1)) : 1;
  }

  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t item) const {
    std::int64_t token, slot;
    shape.by_token(item, token, slot);
    const int group = static_cast<int>(slot) / shape.unit_blocks;
    const int block = static_cast<int>(slot) - group * shape.unit_blocks;
    Place at{token, 0, 0};
    TokenCoord coord;
    if constexpr (decltype(r.q_in)::rank == 4) {
      shape.by_seq(token, at.b, at.t);
      coord = r.tokens(at.b, at.t);
    } else {
      coord = r.tokens(token);
    }
    const int heads = r.q_heads + r.k_heads;
    const int h_begin = group * shape.heads_per_item;
    const int h_end =
        h_begin + shape.heads_per_item < heads ? h_begin + shape.heads_per_item : heads;
    const int u_begin = block * shape.units_per_item;
    const int u_end =
        u_begin + shape.units_per_item < shape.units ? u_begin + shape.units_per_item : shape.units;
    rotate_units(at, coord.position, u_begin, u_end, h_begin, h_end);
    if (!r.in_place && r.rotary_dim < r.head_dim) copy_pass_through(at, block, h_begin, h_end);
  }

  /// Chunks [u_begin, u_end) of heads [h_begin, h_end), S = staged_units chunks at a time: their
  /// cos/sin read (or evaluated) once, then each head's S chunks in lane order (on CPUs, S chunks
  /// cover a whole head row: the row streams through the core once).
  KOKKOS_INLINE_FUNCTION void rotate_units(const Place& at, std::int64_t position, int u_begin,
                                           int u_end, int h_begin, int h_end) const {
    constexpr int S = Tuning::staged_units;
    const int half = r.rotary_dim / 2;
    for (int u0 = u_begin; u0 < u_end; u0 += S) {
      const int count = u0 + S < u_end ? S : u_end - u0;
      Real c[S][C], s[S][C];
      KROPE_UNROLL
      for (int k = 0; k < S; ++k) {
        if (k >= count) continue;  // not break: a fixed trip count unrolls
        const int first = (u0 + k) * C;
        if (first + C <= half) {
          r.angles.template run<C, packed>(position, first, c[k], s[k]);
        } else {
          KROPE_UNROLL
          for (int i = 0; i < C; ++i)
            if (i < half - first) r.angles(position, first + i, c[k][i], s[k][i]);
        }
        if constexpr (D == Direction::backward) {
          KROPE_UNROLL
          for (int i = 0; i < C; ++i) s[k][i] = -s[k][i];
        }
      }
      for (int h0 = h_begin; h0 < h_end; h0 += U)
        rotate_block(at, u0, count, h0, h0 + U < h_end ? h0 + U : h_end, c, s);
    }
  }

  /// Every lane loop has a fixed trip count (the short chunk masks lanes instead): an array
  /// indexed by a run-time count would live in GPU local memory, for every call.
  /// Chunks [u0, u0 + count) of heads [h0, h1) (count <= S, h1 - h0 <= U), every load issued
  /// before the first store so that they are in flight together: several heads of one chunk on
  /// GPUs, a whole row on CPUs (whose cores cannot move later loads above the in-place stores).
  /// A chunk past R/2 (the short last one) goes lane by lane.
  KOKKOS_INLINE_FUNCTION void rotate_block(const Place& at, int u0, int count, int h0, int h1,
                                           const Real (&c)[Tuning::staged_units][C],
                                           const Real (&s)[Tuning::staged_units][C]) const {
    constexpr int S = Tuning::staged_units;
    const int half = r.rotary_dim / 2;
    Lane a[U][S][run], b[U][S][interleaved ? 1 : C];
    KROPE_UNROLL
    for (int j = 0; j < U; ++j) {
      const int h = h0 + j;
      if (h >= h1) continue;  // not break: a fixed trip count unrolls
      const T* in = h < r.q_heads ? row(r.q_in, at, h) : row(r.k_in, at, h - r.q_heads);
      const std::int64_t stride = h < r.q_heads ? lane_stride(r.q_in) : lane_stride(r.k_in);
      KROPE_UNROLL
      for (int k = 0; k < S; ++k) {
        if (k >= count) continue;  // not break: a fixed trip count unrolls
        const int first = (u0 + k) * C;
        const int lo = interleaved ? 2 * first : first, hi = first + half;
        if (first + C <= half) {
          load<run>(in + lo * stride, stride, a[j][k]);
          if constexpr (!interleaved) load<C>(in + hi * stride, stride, b[j][k]);
        } else {
          const int n = half - first;
          KROPE_UNROLL
          for (int i = 0; i < run; ++i)
            if (i < (interleaved ? 2 * n : n)) a[j][k][i] = to_lane(lane_of<A>(in, stride, lo + i));
          if constexpr (!interleaved) {
            KROPE_UNROLL
            for (int i = 0; i < C; ++i)
              if (i < n) b[j][k][i] = to_lane(lane_of<A>(in, stride, hi + i));
          }
        }
      }
    }
    KROPE_UNROLL
    for (int j = 0; j < U; ++j) {
      const int h = h0 + j;
      if (h >= h1) continue;  // not break: a fixed trip count unrolls
      T* out = h < r.q_heads ? row(r.q_out, at, h) : row(r.k_out, at, h - r.q_heads);
      const std::int64_t stride = h < r.q_heads ? lane_stride(r.q_out) : lane_stride(r.k_out);
      KROPE_UNROLL
      for (int k = 0; k < S; ++k) {
        if (k >= count) continue;  // not break: a fixed trip count unrolls
        const int first = (u0 + k) * C;
        const int lo = interleaved ? 2 * first : first, hi = first + half;
        if (first + C <= half) {
          rotate_lanes<true>(a[j][k], b[j][k], c[k], s[k], C);
          store<run>(out + lo * stride, stride, a[j][k]);
          if constexpr (!interleaved) store<C>(out + hi * stride, stride, b[j][k]);
        } else {
          const int n = half - first;
          rotate_lanes<false>(a[j][k], b[j][k], c[k], s[k], n);
          KROPE_UNROLL
          for (int i = 0; i < run; ++i)
            if (i < (interleaved ? 2 * n : n))
              lane_of<A>(out, stride, lo + i) = to_element(a[j][k][i]);
          if constexpr (!interleaved) {
            KROPE_UNROLL
            for (int i = 0; i < C; ++i)
              if (i < n) lane_of<A>(out, stride, hi + i) = to_element(b[j][k][i]);
          }
        }
      }
    }
  }

  /// Rotate (separately rounded products and sums: rotate_pair). half_split pairs lane i of a
  /// with lane i of b; interleaved pairs lanes (2i, 2i + 1) of a.
  template <bool Full>
  KOKKOS_FORCEINLINE_FUNCTION static void rotate_lanes(Lane (&a)[run],
                                                       Lane (&b)[interleaved ? 1 : C],
                                                       const Real (&c)[C], const Real (&s)[C],
                                                       int n) {
    KROPE_UNROLL
    for (int i = 0; i < C; ++i) {
      if (!Full && i >= n) continue;  // not break: a fixed trip count unrolls
      Lane& lx = interleaved ? a[2 * i] : a[i];
      Lane& ly = interleaved ? a[2 * i + 1] : b[interleaved ? 0 : i];
      Real x = to_real(lx), y = to_real(ly);
      rotate_pair(x, y, c[i], s[i]);
      lx = from_real(x);
      ly = from_real(y);
    }
  }

  /// Out of place: lanes [R, D) of heads [h_begin, h_end) copied, in runs of C lanes; the items
  /// of one token's head group share them out by chunk block.
  KOKKOS_INLINE_FUNCTION void copy_pass_through(const Place& at, int block, int h_begin,
                                                int h_end) const {
    for (int h = h_begin; h < h_end; ++h) {
      const bool is_q = h < r.q_heads;
      const int hh = is_q ? h : h - r.q_heads;
      const T* in = is_q ? row(r.q_in, at, hh) : row(r.k_in, at, hh);
      T* out = is_q ? row(r.q_out, at, hh) : row(r.k_out, at, hh);
      const std::int64_t in_stride = is_q ? lane_stride(r.q_in) : lane_stride(r.k_in);
      const std::int64_t out_stride = is_q ? lane_stride(r.q_out) : lane_stride(r.k_out);
      for (int lane = r.rotary_dim + block * C; lane < r.head_dim; lane += shape.unit_blocks * C) {
        if (lane + C <= r.head_dim) {
          T v[C];
          load_lanes<A, C>(in + lane * in_stride, in_stride, v);
          store_lanes<A, C>(out + lane * out_stride, out_stride, v);
        } else {
          for (int d = lane; d < r.head_dim; ++d)
            copy_lane(lane_of<A>(out, out_stride, d), lane_of<A>(in, in_stride, d));
        }
      }
    }
  }
};

}  // namespace krope::Impl::portable
