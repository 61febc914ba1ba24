#pragma once
/// \file kernel.hpp
/// The portable rotary kernel. A work item is one token, a range of its heads (q heads, then k
/// heads) and a range of its chunks: a chunk ("unit") is C pairs (C = chunk_bytes / sizeof(T)
/// unless launch.hpp picks fewer), the lanes [pC, pC + C) of each rotary half (half_split) or
/// the 2C adjacent lanes of C pairs (interleaved). For each of its chunks the item reads (or
/// evaluates) the C cos/sin once, then rotates that chunk of each of its heads, `head_batch` heads
/// loaded before the first store. GPUs run one chunk and a few heads per thread; CPUs one whole
/// token per iteration, a contiguous range of tokens per thread. Pairing, direction and row access
/// are template arguments: the lane loops have fixed trip counts and no branch, and compile to
/// 128-bit accesses on GPUs and to packed widen / rotate / narrow on CPUs. R/2 not a multiple of C
/// leaves one shorter chunk, rotated lane by lane in the same kernel, except on GPUs with
/// aligned rows, where chunks shrink to 8 or 4 bytes so that R/2 is whole chunks (launch.hpp).
/// The pass-through copy of out-of-place partial rotary goes lane by lane.

#include <krope/impl/arithmetic.hpp>
#include <krope/impl/div_mod.hpp>
#include <krope/impl/portable/lane_words.hpp>
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
  int units = 0;           ///< chunks per rotary half: ceil(R/2 / C)
  int unit_blocks = 1;     ///< items per (token, head group) along the chunks
  int units_per_item = 0;  ///< chunks per item
  int heads_per_item = 0;  ///< heads per item (the last group may have fewer)
  std::int64_t items = 0;
};

/// Pairs: C, the pairs of one chunk (launch.hpp).
template <class R, Pairing P, Direction D, RowAccess A, int Pairs, class Tuning>
struct Kernel {
  using T = typename R::value_type;
  using Real = typename R::real_type;
  static constexpr int C = Pairs;
  static constexpr bool interleaved = P == Pairing::interleaved;
  static constexpr bool packed = A == RowAccess::aligned;
  /// Heads loaded before the first store: chunks smaller than the tuning's take proportionally
  /// more heads, so that a thread keeps the same bytes in flight.
  static constexpr int scaled_batch =
      Tuning::template head_batch<T> * Tuning::template chunk_pairs<T> / C;
  static constexpr int U = scaled_batch < Tuning::template heads_per_thread<T>
                               ? scaled_batch
                               : Tuning::template heads_per_thread<T>;
  /// Lanes of one chunk in each run: one run per half (half_split) or one run of pairs.
  static constexpr int run = interleaved ? 2 * C : C;
  /// Loaded lanes are held as words (lane_words.hpp): two 16-bit lanes to a word on GPUs.
  using W = LaneWords<T, Tuning::device && sizeof(T) == 2>;
  using Word = typename W::Word;
  static constexpr int L = W::lanes;
  static constexpr int run_words = run / L;
  static constexpr int half_words = interleaved ? 1 : C / L;
  /// Width (bytes, 0 = lane by lane) of the accesses to the first-half (and interleaved) runs
  /// and to the second-half runs: up to 16, each run on a boundary of its width when aligned.
  static constexpr int access_bytes(int lanes) {
    return !packed ? 0 : lanes * int(sizeof(T)) < 16 ? lanes * int(sizeof(T)) : 16;
  }
  static constexpr int lo_bytes = access_bytes(run);
  static constexpr int hi_bytes = access_bytes(C);

  /// A token's position (TokenCoord), or its position on each axis (AxisCoord, multi-axis).
  using Coord = coord_t<typename R::tokens_type>;
  static constexpr bool multi_axis = std::is_same<Coord, AxisCoord>::value;

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

  /// Head h of the token at `at` (q heads first, then k heads): where its row is read and
  /// written, and the distance between its lanes there.
  struct HeadRow {
    const T* in;
    T* out;
    std::int64_t in_stride, out_stride;
  };
  KOKKOS_FORCEINLINE_FUNCTION HeadRow head_row(const Place& at, int h) const {
    if (h < r.q_heads)
      return {row(r.q_in, at, h), row(r.q_out, at, h), lane_stride(r.q_in), lane_stride(r.q_out)};
    const int hk = h - r.q_heads;
    return {row(r.k_in, at, hk), row(r.k_out, at, hk), lane_stride(r.k_in), lane_stride(r.k_out)};
  }

  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t item) const {
    std::int64_t token, slot;
    shape.by_token(item, token, slot);
    const int group = static_cast<int>(slot) / shape.unit_blocks;
    const int block = static_cast<int>(slot) - group * shape.unit_blocks;
    Place at{token, 0, 0};
    Coord coord;
    if constexpr (decltype(r.q_in)::rank == 4) {
      r.tokens.split(token, at.b, at.t);
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
    rotate_units(at, coord, u_begin, u_end, h_begin, h_end);
    if (!r.in_place && r.rotary_dim < r.head_dim) copy_pass_through(at, block, h_begin, h_end);
  }

  /// Chunks [u_begin, u_end) of heads [h_begin, h_end), S = staged_units chunks at a time: their
  /// cos/sin read (or evaluated) once, then each head's S chunks in lane order (on CPUs, S chunks
  /// cover a whole head row: the row streams through the core once). GPUs reread a table's
  /// cos/sin for each batch of heads instead of holding them for all of the thread's heads (L1
  /// hits: the block's threads share them): 16 registers freed, H200 Llama bf16 85.1 -> 86.7%
  /// of copy, 1x63488 55 -> 63% (perf/NOTES.md). Evaluated angles are dear: held.
  KOKKOS_INLINE_FUNCTION void rotate_units(const Place& at, const Coord& coord, int u_begin,
                                           int u_end, int h_begin, int h_end) const {
    constexpr int S = Tuning::staged_units;
    constexpr bool reread = Tuning::device && !R::angle_source::evaluated;
    for (int u0 = u_begin; u0 < u_end; u0 += S) {
      const int count = u0 + S < u_end ? S : u_end - u0;
      Real c[S][C], s[S][C];
      if constexpr (!reread) stage_angles(coord, u0, count, c, s);
      if constexpr (Tuning::device) {
        for (int h0 = h_begin; h0 < h_end; h0 += U) {
          if constexpr (reread) stage_angles(coord, u0, count, c, s);
          rotate_block(at, u0, count, h0, h0 + U < h_end ? h0 + U : h_end, c, s);
        }
      } else {
        for (int h = h_begin; h < h_end; ++h) rotate_row(at, u0, count, h, c, s);
      }
    }
  }

  /// cos/sin (sin negated when backward) of chunks [u0, u0 + count); pairs past R/2 get zeros.
  /// Multi-axis: a chunk inside one axis's pairs reads as one run (chunked sections of whole
  /// chunks: every chunk of the common models), any other pair by pair, each of its own axis.
  KOKKOS_FORCEINLINE_FUNCTION void stage_angles(const Coord& coord, int u0, int count,
                                                Real (&c)[Tuning::staged_units][C],
                                                Real (&s)[Tuning::staged_units][C]) const {
    const int half = r.rotary_dim / 2;
    KROPE_UNROLL
    for (int k = 0; k < Tuning::staged_units; ++k) {
      if (k >= count) continue;  // not break: a fixed trip count unrolls
      const int first = (u0 + k) * C;
      if (first + C <= half && (!multi_axis || r.axes.one_axis(first, C))) {
        r.angles.template run<C, packed>(position_of(coord, r.axes, first), first, c[k], s[k]);
      } else {
        KROPE_UNROLL
        for (int i = 0; i < C; ++i)
          if (i < half - first)
            r.angles(position_of(coord, r.axes, first + i), first + i, c[k][i], s[k][i]);
          else
            c[k][i] = s[k][i] = Real(0);  // lanes past R/2: rotated as zeros, never stored
      }
      if constexpr (D == Direction::backward) {
        KROPE_UNROLL
        for (int i = 0; i < C; ++i) s[k][i] = -s[k][i];
      }
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
    Word a[U][S][run_words], b[U][S][half_words];
    KROPE_UNROLL
    for (int j = 0; j < U; ++j) {
      const int h = h0 + j;
      if (h >= h1) continue;  // not break: a fixed trip count unrolls
      const HeadRow hr = head_row(at, h);
      const T* in = hr.in;
      const std::int64_t stride = hr.in_stride;
      KROPE_UNROLL
      for (int k = 0; k < S; ++k) {
        if (k >= count) continue;  // not break: a fixed trip count unrolls
        const int first = (u0 + k) * C;
        const int lo = interleaved ? 2 * first : first, hi = first + half;
        if (first + C <= half) {
          load_words<W, A, lo_bytes>(in + lo * stride, stride, a[j][k]);
          if constexpr (!interleaved) load_words<W, A, hi_bytes>(in + hi * stride, stride, b[j][k]);
        } else {
          const int n = half - first;
          load_words_masked<W, A>(in + lo * stride, stride, a[j][k], interleaved ? 2 * n : n);
          if constexpr (!interleaved) load_words_masked<W, A>(in + hi * stride, stride, b[j][k], n);
        }
      }
    }
    KROPE_UNROLL
    for (int j = 0; j < U; ++j) {
      const int h = h0 + j;
      if (h >= h1) continue;  // not break: a fixed trip count unrolls
      const HeadRow hr = head_row(at, h);
      T* out = hr.out;
      const std::int64_t stride = hr.out_stride;
      KROPE_UNROLL
      for (int k = 0; k < S; ++k) {
        if (k >= count) continue;  // not break: a fixed trip count unrolls
        const int first = (u0 + k) * C;
        const int lo = interleaved ? 2 * first : first, hi = first + half;
        rotate_words(a[j][k], b[j][k], c[k], s[k]);
        if (first + C <= half) {
          store_words<W, A, lo_bytes>(out + lo * stride, stride, a[j][k]);
          if constexpr (!interleaved)
            store_words<W, A, hi_bytes>(out + hi * stride, stride, b[j][k]);
        } else {
          const int n = half - first;
          store_words_masked<W, A>(out + lo * stride, stride, a[j][k], interleaved ? 2 * n : n);
          if constexpr (!interleaved)
            store_words_masked<W, A>(out + hi * stride, stride, b[j][k], n);
        }
      }
    }
  }

  /// CPUs: pairs [u0 C, (u0 + count) C) of head h's row (up to R/2) in one loop over the
  /// pairs that reads, widens, rotates, narrows and writes them straight from and to the row:
  /// g++ vectorises it, with a run-time overlap check, into packed loads, conversions and
  /// stores, the last pairs in its own epilogue (through a held copy of the lanes, as on GPUs,
  /// 16-bit lanes went one by one).
  KOKKOS_INLINE_FUNCTION void rotate_row(const Place& at, int u0, int count, int h,
                                         const Real (&c)[Tuning::staged_units][C],
                                         const Real (&s)[Tuning::staged_units][C]) const {
    const auto [in, out, in_stride, out_stride] = head_row(at, h);
    const int half = r.rotary_dim / 2;
    const int first = u0 * C;
    const int pairs = (u0 + count) * C < half ? count * C : half - first;
    const Real* cos = &c[0][0];
    const Real* sin = &s[0][0];
    for (int i = 0; i < pairs; ++i) {
      const int lane_x = interleaved ? 2 * (first + i) : first + i;
      const int lane_y = interleaved ? lane_x + 1 : lane_x + half;
      Real x = widen(lane_of<A>(in, in_stride, lane_x));
      Real y = widen(lane_of<A>(in, in_stride, lane_y));
      rotate_pair(x, y, cos[i], sin[i]);
      write_lane(lane_of<A>(out, out_stride, lane_x), x);
      write_lane(lane_of<A>(out, out_stride, lane_y), y);
    }
  }
  /// Narrowed into the lane's bits: g++ vectorises integer stores, not stores of a struct.
  KOKKOS_FORCEINLINE_FUNCTION static void write_lane(T& lane, Real x) {
    if constexpr (sizeof(T) == 2)
      lane.bits = T::round_from_float(x);
    else
      lane = x;
  }

  /// Rotate every pair of a chunk (separately rounded products and sums: rotate_pair); the lanes
  /// past a short chunk's end are zero and never stored. half_split pairs lane i of a with lane
  /// i of b; interleaved pairs lanes (2i, 2i + 1) of a.
  KOKKOS_FORCEINLINE_FUNCTION static void rotate_words(Word (&a)[run_words], Word (&b)[half_words],
                                                       const Real (&c)[C], const Real (&s)[C]) {
    if constexpr (L == 1) {
      // One lane per word (fp32, fp64): widened, rotated and narrowed pair by pair.
      KROPE_UNROLL
      for (int i = 0; i < C; ++i) {
        Word& lx = interleaved ? a[2 * i] : a[i];
        Word& ly = interleaved ? a[2 * i + 1] : b[interleaved ? 0 : i];
        Real x = widen(lx), y = widen(ly);
        rotate_pair(x, y, c[i], s[i]);
        lx = narrow<T>(x);
        ly = narrow<T>(y);
      }
    } else {
      Real x[run], y[interleaved ? 1 : C];
      unpack(a, x);
      if constexpr (!interleaved) unpack(b, y);
      KROPE_UNROLL
      for (int i = 0; i < C; ++i) {
        if constexpr (interleaved)
          rotate_pair(x[2 * i], x[2 * i + 1], c[i], s[i]);
        else
          rotate_pair(x[i], y[i], c[i], s[i]);
      }
      pack(x, a);
      if constexpr (!interleaved) pack(y, b);
    }
  }
  template <int N>
  KOKKOS_FORCEINLINE_FUNCTION static void unpack(const Word (&w)[N / L], Real (&x)[N]) {
    KROPE_UNROLL
    for (int k = 0; k < N / L; ++k) {
      Real t[L];
      W::unpack(w[k], t);
      KROPE_UNROLL
      for (int l = 0; l < L; ++l) x[k * L + l] = t[l];
    }
  }
  template <int N>
  KOKKOS_FORCEINLINE_FUNCTION static void pack(const Real (&x)[N], Word (&w)[N / L]) {
    KROPE_UNROLL
    for (int k = 0; k < N / L; ++k) {
      Real t[L];
      KROPE_UNROLL
      for (int l = 0; l < L; ++l) t[l] = x[k * L + l];
      w[k] = W::pack(t);
    }
  }

  /// The pass-through lanes start R lanes into the row, on a 16-byte boundary only if R lanes
  /// are whole packs: aligned rows still copy them element by element.
  static constexpr RowAccess pass_access = A == RowAccess::aligned ? RowAccess::contiguous : A;

  /// Out of place: lanes [R, D) of heads [h_begin, h_end) copied, in runs of N lanes (the
  /// tuning's chunk, whatever the rotation's); the items of one token's head group share them out
  /// by chunk block.
  KOKKOS_INLINE_FUNCTION void copy_pass_through(const Place& at, int block, int h_begin,
                                                int h_end) const {
    constexpr int N = Tuning::template chunk_pairs<T>;
    for (int h = h_begin; h < h_end; ++h) {
      const auto [in, out, in_stride, out_stride] = head_row(at, h);
      for (int lane = r.rotary_dim + block * N; lane < r.head_dim; lane += shape.unit_blocks * N) {
        if (lane + N <= r.head_dim) {
          T v[N];
          load_lanes<pass_access, N>(in + lane * in_stride, in_stride, v);
          store_lanes<pass_access, N>(out + lane * out_stride, out_stride, v);
        } else {
          for (int d = lane; d < r.head_dim; ++d)
            copy_lane(lane_of<A>(out, out_stride, d), lane_of<A>(in, in_stride, d));
        }
      }
    }
  }
};

}  // namespace krope::Impl::portable
