#pragma once
/// \file token_positions.hpp
/// Device-side maps from a flat token index to (sequence, index in sequence, position), one per
/// position mode of positions.hpp. Kernels run over tokens; these say where each one sits.
/// Maps of [batch][seq] data own the split of a token into (b, t) (`split`, a multiply-high),
/// and give the position from (b, t): the kernels address the token's rows with (b, t) first
/// and look its position up (which may load an id) once those loads are in flight. Maps of
/// packed [tokens] data give everything from the token. Multi-axis maps (axis_positions) give a
/// position per axis, and `position_of` the one a pair turns by.

#include <krope/impl/axis_map.hpp>
#include <krope/impl/div_mod.hpp>
#include <krope/positions.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace krope::Impl {

struct TokenCoord {
  std::int64_t batch;     ///< sequence index b
  std::int64_t seq;       ///< index t within the sequence
  std::int64_t position;  ///< rotary position
};

/// A [batch][seq] map's split of a token into (b, t), b = token / seq_len. The maps derived from
/// it are aggregates: {split, their own fields...}.
struct SequenceSplit {
  DivMod by_seq;
  SequenceSplit() = default;
  SequenceSplit(std::int64_t seq_len, std::int64_t tokens) : by_seq(seq_len, tokens) {}
  KOKKOS_FORCEINLINE_FUNCTION void split(std::int64_t token, std::int64_t& b,
                                         std::int64_t& t) const {
    by_seq(token, b, t);
  }
};

/// [batch][seq] data, position t + offset.
struct ContiguousTokens : SequenceSplit {
  std::int64_t offset = 0;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t b, std::int64_t t) const {
    return {b, t, t + offset};
  }
};

/// [batch][seq] data, position t + offsets(b).
template <class MemorySpace>
struct OffsetTokens : SequenceSplit {
  Kokkos::View<const std::int64_t*, MemorySpace> offsets;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t b, std::int64_t t) const {
    return {b, t, t + offsets(b)};
  }
};

/// [batch][seq] data, position ids(b, t).
template <class MemorySpace>
struct IdTokens : SequenceSplit {
  Kokkos::View<const std::int64_t**, MemorySpace> ids;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t b, std::int64_t t) const {
    return {b, t, ids(b, t)};
  }
};

/// Packed [total_tokens] data, position t + offsets(b). The sequence b is the last one with
/// cu_seqlens(b) <= token (so empty sequences are skipped). A binary search narrows the range
/// to `scan` entries, which are read together (independent loads) and compared: each halving is
/// a load that every thread of a one-shot kernel waits for, and the start of the sequence comes
/// out of the same reads (B = 8 sequences: one halving and one read of 4, instead of three
/// halvings and a read of cu_seqlens(b)).
template <class MemorySpace>
struct VarlenTokens {
  Kokkos::View<const std::int64_t*, MemorySpace> cu_seqlens, offsets;
  static constexpr int scan = 4;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t token) const {
    // Invariant: cu_seqlens(lo) <= token < cu_seqlens(hi).
    std::int64_t lo = 0, hi = static_cast<std::int64_t>(cu_seqlens.extent(0)) - 1;
    while (hi - lo > scan) {
      const std::int64_t mid = (lo + hi) / 2;
      if (cu_seqlens(mid) <= token)
        lo = mid;
      else
        hi = mid;
    }
    std::int64_t starts[scan];  // cu_seqlens(lo + i); past hi: above any token
    for (int i = 0; i < scan; ++i) starts[i] = lo + i < hi ? cu_seqlens(lo + i) : token + 1;
    std::int64_t b = lo, start = starts[0];  // the entries <= token are a prefix: take its last
    for (int i = 1; i < scan; ++i)
      if (starts[i] <= token) {
        b = lo + i;
        start = starts[i];
      }
    const std::int64_t t = token - start;
    return {b, t, t + (offsets.extent(0) > 0 ? offsets(b) : 0)};
  }
};

/// A token's place and its position on each axis (multi-axis RoPE; unused axes 0).
struct AxisCoord {
  std::int64_t batch;
  std::int64_t seq;
  std::int64_t position[AxisMap::max_axes];

  /// The position of axis a, by selects (an indexed array would live in GPU local memory).
  KOKKOS_FORCEINLINE_FUNCTION std::int64_t on_axis(int a) const {
    static_assert(AxisMap::max_axes == 4, "on_axis selects among four axes");
    return a == 0 ? position[0] : a == 1 ? position[1] : a == 2 ? position[2] : position[3];
  }
};

/// The position pair `pair` turns by: the token's one position, or that of the pair's axis.
KOKKOS_FORCEINLINE_FUNCTION std::int64_t position_of(const TokenCoord& c, const AxisMap&, int) {
  return c.position;
}
KOKKOS_FORCEINLINE_FUNCTION std::int64_t position_of(const AxisCoord& c, const AxisMap& map,
                                                     int pair) {
  return c.on_axis(map.axis_of(pair));
}

/// A token's positions left in its ids, each read when a pair asks for its axis (on_axis): the
/// CUDA kernels' threads need one or two of a token's axes (a chunk of a chunked layout lies in
/// one section), and holding all of them cost registers and with them occupancy.
template <class Ids>
struct DeferredAxisCoord {
  Ids ids;                ///< [batch][seq][axes] or [tokens][axes]
  std::int64_t first, t;  ///< (b, t), or (token, unused) for [tokens][axes] ids
  KOKKOS_FORCEINLINE_FUNCTION std::int64_t on_axis(int a) const {
    if constexpr (Ids::rank == 3)
      return ids(first, t, a);
    else
      return ids(first, a);
  }
};
template <class Ids>
KOKKOS_FORCEINLINE_FUNCTION std::int64_t position_of(const DeferredAxisCoord<Ids>& c,
                                                     const AxisMap& map, int pair) {
  return c.on_axis(map.axis_of(pair));
}

/// Positions ids(b, t, a) of [batch][seq] data (Rank 3 ids: [batch][seq][axes]), or
/// ids(token, a) of packed [tokens] data (Rank 2 ids: [tokens][axes]).
template <class MemorySpace, int Rank>
struct AxisTokens;

template <class MemorySpace>
struct AxisTokens<MemorySpace, 3> : SequenceSplit {
  using ids_type = typename axis_positions<MemorySpace, 3>::ids_type;
  ids_type ids;
  int axes = 1;
  KOKKOS_FORCEINLINE_FUNCTION AxisCoord operator()(std::int64_t b, std::int64_t t) const {
    AxisCoord c{b, t, {0, 0, 0, 0}};
    for (int a = 0; a < AxisMap::max_axes; ++a)
      if (a < axes) c.position[a] = ids(b, t, a);
    return c;
  }
  /// The same token's positions, read axis by axis when asked.
  using deferred_type = DeferredAxisCoord<ids_type>;
  KOKKOS_FORCEINLINE_FUNCTION deferred_type deferred(std::int64_t b, std::int64_t t) const {
    return {ids, b, t};
  }
};

template <class MemorySpace>
struct AxisTokens<MemorySpace, 2> {
  using ids_type = typename axis_positions<MemorySpace, 2>::ids_type;
  ids_type ids;
  int axes = 1;
  KOKKOS_FORCEINLINE_FUNCTION AxisCoord operator()(std::int64_t token) const {
    AxisCoord c{0, token, {0, 0, 0, 0}};
    for (int a = 0; a < AxisMap::max_axes; ++a)
      if (a < axes) c.position[a] = ids(token, a);
    return c;
  }
  using deferred_type = DeferredAxisCoord<ids_type>;
  KOKKOS_FORCEINLINE_FUNCTION deferred_type deferred(std::int64_t token) const {
    return {ids, token, 0};
  }
};

template <class Tokens>
struct is_axis_tokens : std::false_type {};
template <class M, int Rank>
struct is_axis_tokens<AxisTokens<M, Rank>> : std::true_type {};

/// Maps of [batch][seq] data: they split tokens (SequenceSplit) and look positions up by (b, t).
template <class Tokens>
constexpr bool splits_tokens_v = std::is_base_of<SequenceSplit, Tokens>::value;

/// What a token map gives for a token: TokenCoord, or AxisCoord for multi-axis maps.
template <class Tokens, bool Splits = splits_tokens_v<Tokens>>
struct Coord {
  using type = decltype(std::declval<const Tokens&>()(std::int64_t(0), std::int64_t(0)));
};
template <class Tokens>
struct Coord<Tokens, false> {
  using type = decltype(std::declval<const Tokens&>()(std::int64_t(0)));
};
template <class Tokens>
using coord_t = typename Coord<Tokens>::type;

}  // namespace krope::Impl
