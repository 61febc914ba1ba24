#pragma once
/// \file positions.hpp
/// Where each token sits: the ways a caller can say which position a token rotates by (one per
/// token, or one per axis for multi-axis RoPE).

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <type_traits>

namespace krope {

/// Token t of every sequence sits at position t + offset.
struct contiguous {
  std::int64_t offset = 0;
};

/// Token t of sequence b sits at position t + offsets(b) (a KV-cache decode step, say).
/// `offsets` is an int64 View [batch] in the kernel's memory space. With `check_range` the call
/// runs a small reduction to prove every position lies inside the table before it writes; set it to
/// false to skip that (and its host synchronisation) when the caller guarantees the range. Inside
/// a CUDA graph capture the check cannot run: a call asking for it there throws
/// std::invalid_argument (before recording anything), so captured calls pass false.
template <class MemorySpace>
struct sequence_offsets {
  Kokkos::View<const std::int64_t*, MemorySpace> offsets;
  bool check_range = true;
};

/// Explicit position ids: token t of sequence b sits at ids(b, t). `ids` is an int64 View
/// [batch][seq]. `check_range` as for sequence_offsets.
template <class MemorySpace>
struct position_ids {
  Kokkos::View<const std::int64_t**, MemorySpace> ids;
  bool check_range = true;
};

/// Packed variable-length batch: q and k are [total_tokens][heads][head_dim] and sequence b owns
/// tokens cu_seqlens(b) .. cu_seqlens(b+1)-1 (flash-attention's `cu_seqlens`, int64 [batch+1]).
/// Token t of sequence b sits at t + offsets(b) when `offsets` is given (size batch), else at t.
/// Validation (cu_seqlens non-decreasing, starting at 0, ending at total_tokens, positions inside
/// the table) copies cu_seqlens and offsets to the host unless `check_range` is false (which a
/// CUDA graph capture requires, as for sequence_offsets).
template <class MemorySpace>
struct varlen {
  Kokkos::View<const std::int64_t*, MemorySpace> cu_seqlens;
  Kokkos::View<const std::int64_t*, MemorySpace> offsets = {};
  bool check_range = true;
};

/// Multi-axis positions (M-RoPE, 2-D / N-D RoPE; Config::axes): token t of sequence b sits at
/// ids(b, t, a) on axis a, for [batch][seq][heads][dim] q/k; for packed [tokens][heads][dim]
/// q/k, `Rank` = 2 and ids(token, a). Any layout: HF's [3][batch][seq] position_ids are a
/// LayoutStride View of the same memory. `check_range` as for sequence_offsets.
/// The one-position modes above also work with multi-axis tables: every axis then takes the
/// token's one position (text tokens of M-RoPE).
template <class MemorySpace, int Rank = 3>
struct axis_positions {
  static_assert(Rank == 2 || Rank == 3,
                "axis_positions: ids are [batch][seq][axes] or [tokens][axes]");
  using ids_type =
      Kokkos::View<std::conditional_t<Rank == 3, const std::int64_t***, const std::int64_t**>,
                   Kokkos::LayoutStride, MemorySpace>;
  ids_type ids;
  bool check_range = true;
};

// Deduction guides: krope::position_ids{ids} works for any int64 View, const or not.
template <class View>
sequence_offsets(const View&) -> sequence_offsets<typename View::memory_space>;
template <class View>
sequence_offsets(const View&, bool) -> sequence_offsets<typename View::memory_space>;
template <class View>
position_ids(const View&) -> position_ids<typename View::memory_space>;
template <class View>
position_ids(const View&, bool) -> position_ids<typename View::memory_space>;
template <class View>
varlen(const View&) -> varlen<typename View::memory_space>;
template <class View, class OffsetsView>
varlen(const View&, const OffsetsView&) -> varlen<typename View::memory_space>;
template <class View, class OffsetsView>
varlen(const View&, const OffsetsView&, bool) -> varlen<typename View::memory_space>;
template <class View>
axis_positions(const View&) -> axis_positions<typename View::memory_space, int(View::rank)>;
template <class View>
axis_positions(const View&, bool) -> axis_positions<typename View::memory_space, int(View::rank)>;

}  // namespace krope
