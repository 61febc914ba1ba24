#pragma once
/// \file token_positions.hpp
/// Device-side maps from a flat token index to (sequence, index in sequence, position), one per
/// position mode of positions.hpp. Kernels run over tokens; these say where each one sits.

#include <krope/positions.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace krope::Impl {

struct TokenCoord {
  std::int64_t batch;     ///< sequence index b
  std::int64_t seq;       ///< index t within the sequence
  std::int64_t position;  ///< rotary position
};

/// [batch][seq] data, position t + offset.
struct ContiguousTokens {
  std::int64_t seq_len, offset;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t token) const {
    const std::int64_t b = token / seq_len;
    return (*this)(b, token - b * seq_len);
  }
  /// Sequence b and index t already known (the CUDA kernel splits tokens by a multiply-high).
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t b, std::int64_t t) const {
    return {b, t, t + offset};
  }
};

/// [batch][seq] data, position t + offsets(b).
template <class MemorySpace>
struct OffsetTokens {
  std::int64_t seq_len;
  Kokkos::View<const std::int64_t*, MemorySpace> offsets;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t token) const {
    const std::int64_t b = token / seq_len;
    return (*this)(b, token - b * seq_len);
  }
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t b, std::int64_t t) const {
    return {b, t, t + offsets(b)};
  }
};

/// [batch][seq] data, position ids(b, t).
template <class MemorySpace>
struct IdTokens {
  std::int64_t seq_len;
  Kokkos::View<const std::int64_t**, MemorySpace> ids;
  KOKKOS_FORCEINLINE_FUNCTION TokenCoord operator()(std::int64_t token) const {
    const std::int64_t b = token / seq_len;
    return (*this)(b, token - b * seq_len);
  }
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

}  // namespace krope::Impl
