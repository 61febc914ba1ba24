#pragma once
/// \file position_checks.hpp
/// Host-side validation of each position mode against the positions the table (or the
/// table-free path) serves, and the device-side token map it turns into. Device-resident offsets
/// and ids are checked with one small MinMax reduction, varlen's cu_seqlens on the host: both wait
/// for the device, so inside a CUDA graph capture they are refused with a message naming
/// `check_range` instead of breaking the capture.

#include <krope/frequencies.hpp>
#include <krope/impl/stream_capture.hpp>
#include <krope/impl/token_positions.hpp>
#include <krope/positions.hpp>
#include <krope/table.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace krope::Impl {

/// The first position past the range a check accepts, and what serves the range (for messages).
struct PositionLimit {
  std::int64_t end;
  const char* source;  ///< "the table", "the table-free path"
};

/// The positions an angle source serves: [0, end).
template <class MemorySpace, class Real>
PositionLimit position_limit(const Table<MemorySpace, Real>& table) {
  return {table.max_positions(), "the table"};
}
template <class MemorySpace>
PositionLimit position_limit(const Frequencies<MemorySpace>& frequencies) {
  return {frequencies.max_positions(), "the table-free path"};
}

/// Do `length` tokens from `first` on stay inside [0, end)? Written as first <= end - length
/// (end, length >= 0: cannot overflow), never as first + length <= end, which wraps for a first
/// near INT64_MAX and lets the kernel read far outside the table.
inline bool inside(std::int64_t first, std::int64_t length, std::int64_t end) {
  return first >= 0 && first <= end - length;
}

/// first + count - 1 as text, also where it does not fit in int64.
inline std::string last_position(std::int64_t first, std::int64_t count) {
  if (first <= std::numeric_limits<std::int64_t>::max() - (count - 1))
    return std::to_string(first + (count - 1));
  return std::to_string(first) + " + " + std::to_string(count - 1);
}

[[noreturn]] inline void throw_position_error(const std::string& argument, std::int64_t low,
                                              const std::string& high, const PositionLimit& limit) {
  throw std::invalid_argument("krope::apply: " + argument + " gives positions [" +
                              std::to_string(low) + ", " + high + "], outside " + limit.source +
                              "'s [0, " + std::to_string(limit.end - 1) + "]");
}

/// A range check of `argument` (it waits for the device) asked for while `space`'s stream is
/// being captured: refused before anything is recorded, so the capture stays usable.
template <class ExecSpace>
void refuse_check_in_capture(const ExecSpace& space, const char* argument) {
  if (stream_is_capturing(space))
    throw std::invalid_argument(
        std::string("krope::apply: ") + argument +
        ".check_range waits for the device, which a stream capture (CUDA graph) forbids: "
        "validate the positions before capturing and pass check_range = false");
}

/// min/max over a rank-1, 2 or 3 int64 View.
template <class ExecSpace, class View>
struct MinMaxOf {
  View values;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i,
                                         Kokkos::MinMaxScalar<std::int64_t>& acc) const {
    std::int64_t v;
    if constexpr (View::rank == 1) {
      v = values(i);
    } else if constexpr (View::rank == 2) {
      const std::int64_t cols = static_cast<std::int64_t>(values.extent(1));
      v = values(i / cols, i % cols);
    } else {
      const std::int64_t n1 = values.extent(1), n2 = values.extent(2);
      v = values(i / (n1 * n2), (i / n2) % n1, i % n2);
    }
    if (v < acc.min_val) acc.min_val = v;
    if (v > acc.max_val) acc.max_val = v;
  }

  static Kokkos::MinMaxScalar<std::int64_t> of(const ExecSpace& space, const View& values) {
    Kokkos::MinMaxScalar<std::int64_t> result;
    Kokkos::parallel_reduce("krope::check_positions",
                            Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<std::int64_t>>(
                                space, 0, static_cast<std::int64_t>(values.size())),
                            MinMaxOf{values}, Kokkos::MinMax<std::int64_t>(result));
    return result;
  }
};

template <class ExecSpace, class View>
Kokkos::MinMaxScalar<std::int64_t> min_max(const ExecSpace& space, const View& values) {
  return MinMaxOf<ExecSpace, View>::of(space, values);
}

template <class ExecSpace, class M, int Rank>
void check_axis_range(const ExecSpace& space, const axis_positions<M, Rank>& p,
                      const PositionLimit& limit) {
  if (!p.check_range || p.ids.size() == 0) return;
  refuse_check_in_capture(space, "axis_positions");
  const auto r = min_max(space, p.ids);
  if (r.min_val < 0 || r.max_val >= limit.end)
    throw_position_error("axis_positions", r.min_val, std::to_string(r.max_val), limit);
}

// Each overload validates one position mode for q/k of `batch` sequences of `seq_len` tokens
// (rank 4) or `tokens` packed tokens (varlen) and returns the device token map.

/// The split of batch x seq_len tokens into (b, t).
inline SequenceSplit split_of(std::int64_t batch, std::int64_t seq_len) {
  return {seq_len > 0 ? seq_len : 1, batch * seq_len};
}

template <class ExecSpace>
ContiguousTokens tokens_for(const ExecSpace&, const contiguous& p, std::int64_t batch,
                            std::int64_t seq_len, const PositionLimit& limit) {
  if (p.offset < 0 || (seq_len > 0 && !inside(p.offset, seq_len, limit.end)))
    throw_position_error("contiguous offset " + std::to_string(p.offset), p.offset,
                         last_position(p.offset, seq_len), limit);
  return {split_of(batch, seq_len), p.offset};
}

template <class ExecSpace, class M>
OffsetTokens<M> tokens_for(const ExecSpace& space, const sequence_offsets<M>& p, std::int64_t batch,
                           std::int64_t seq_len, const PositionLimit& limit) {
  if (static_cast<std::int64_t>(p.offsets.extent(0)) != batch)
    throw std::invalid_argument("krope::apply: sequence_offsets has " +
                                std::to_string(p.offsets.extent(0)) + " entries, batch is " +
                                std::to_string(batch));
  if (p.check_range && batch > 0 && seq_len > 0) {
    refuse_check_in_capture(space, "sequence_offsets");
    const auto r = min_max(space, p.offsets);
    if (r.min_val < 0 || !inside(r.max_val, seq_len, limit.end))
      throw_position_error("sequence_offsets", r.min_val, last_position(r.max_val, seq_len), limit);
  }
  return {split_of(batch, seq_len), p.offsets};
}

template <class ExecSpace, class M>
IdTokens<M> tokens_for(const ExecSpace& space, const position_ids<M>& p, std::int64_t batch,
                       std::int64_t seq_len, const PositionLimit& limit) {
  if (static_cast<std::int64_t>(p.ids.extent(0)) != batch ||
      static_cast<std::int64_t>(p.ids.extent(1)) != seq_len)
    throw std::invalid_argument("krope::apply: position_ids is [" +
                                std::to_string(p.ids.extent(0)) + "][" +
                                std::to_string(p.ids.extent(1)) + "], q is [" +
                                std::to_string(batch) + "][" + std::to_string(seq_len) + "]");
  if (p.check_range && batch > 0 && seq_len > 0) {
    refuse_check_in_capture(space, "position_ids");
    const auto r = min_max(space, p.ids);
    if (r.min_val < 0 || r.max_val >= limit.end)
      throw_position_error("position_ids", r.min_val, std::to_string(r.max_val), limit);
  }
  return {split_of(batch, seq_len), p.ids};
}

/// Varlen checks copy cu_seqlens and offsets ([batch+1] and [batch] values) to the host.
template <class ExecSpace, class M>
VarlenTokens<M> tokens_for(const ExecSpace& space, const varlen<M>& p, std::int64_t tokens,
                           const PositionLimit& limit) {
  const std::int64_t entries = static_cast<std::int64_t>(p.cu_seqlens.extent(0));
  if (entries < 1)
    throw std::invalid_argument("krope::apply: cu_seqlens needs batch + 1 >= 1 entries");
  const std::int64_t batch = entries - 1;
  if (p.offsets.extent(0) != 0 && static_cast<std::int64_t>(p.offsets.extent(0)) != batch)
    throw std::invalid_argument("krope::apply: varlen offsets has " +
                                std::to_string(p.offsets.extent(0)) + " entries, batch is " +
                                std::to_string(batch));
  if (p.check_range) {
    refuse_check_in_capture(space, "varlen");
    auto cu = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.cu_seqlens);
    auto offsets = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p.offsets);
    if (cu(0) != 0)
      throw std::invalid_argument("krope::apply: cu_seqlens must start at 0 (got " +
                                  std::to_string(cu(0)) + ")");
    for (std::int64_t b = 0; b < batch; ++b) {
      if (cu(b + 1) < cu(b))
        throw std::invalid_argument("krope::apply: cu_seqlens must be non-decreasing (entry " +
                                    std::to_string(b + 1) + " is " + std::to_string(cu(b + 1)) +
                                    " after " + std::to_string(cu(b)) + ")");
      const std::int64_t length = cu(b + 1) - cu(b);
      const std::int64_t offset = offsets.extent(0) ? offsets(b) : 0;
      if (length > 0 && !inside(offset, length, limit.end))
        throw_position_error("varlen sequence " + std::to_string(b), offset,
                             last_position(offset, length), limit);
    }
    if (cu(batch) != tokens)
      throw std::invalid_argument("krope::apply: cu_seqlens ends at " + std::to_string(cu(batch)) +
                                  ", q holds " + std::to_string(tokens) + " tokens");
  }
  return {p.cu_seqlens, p.offsets};
}

/// Multi-axis positions: ids [batch][seq][axes] with `axes` columns, every one inside the range.
template <class ExecSpace, class M>
AxisTokens<M, 3> tokens_for(const ExecSpace& space, const axis_positions<M, 3>& p,
                            std::int64_t batch, std::int64_t seq_len, const PositionLimit& limit,
                            int axes) {
  if (static_cast<std::int64_t>(p.ids.extent(0)) != batch ||
      static_cast<std::int64_t>(p.ids.extent(1)) != seq_len ||
      static_cast<int>(p.ids.extent(2)) != axes)
    throw std::invalid_argument(
        "krope::apply: axis_positions is [" + std::to_string(p.ids.extent(0)) + "][" +
        std::to_string(p.ids.extent(1)) + "][" + std::to_string(p.ids.extent(2)) + "], q is [" +
        std::to_string(batch) + "][" + std::to_string(seq_len) + "] and the rotary has " +
        std::to_string(axes) + (axes == 1 ? " axis" : " axes"));
  check_axis_range(space, p, limit);
  return {split_of(batch, seq_len), p.ids, axes};
}

/// Packed tokens: ids [tokens][axes].
template <class ExecSpace, class M>
AxisTokens<M, 2> tokens_for(const ExecSpace& space, const axis_positions<M, 2>& p,
                            std::int64_t tokens, const PositionLimit& limit, int axes) {
  if (static_cast<std::int64_t>(p.ids.extent(0)) != tokens ||
      static_cast<int>(p.ids.extent(1)) != axes)
    throw std::invalid_argument(
        "krope::apply: axis_positions is [" + std::to_string(p.ids.extent(0)) + "][" +
        std::to_string(p.ids.extent(1)) + "], q holds " + std::to_string(tokens) +
        " tokens and the rotary has " + std::to_string(axes) + (axes == 1 ? " axis" : " axes"));
  check_axis_range(space, p, limit);
  return {p.ids, axes};
}

/// The one-position modes take no axis count: every axis of a multi-axis rotary takes the
/// token's one position.
template <class ExecSpace, class Positions>
auto tokens_for(const ExecSpace& space, const Positions& p, std::int64_t batch,
                std::int64_t seq_len, const PositionLimit& limit, int /*axes*/)
    -> decltype(tokens_for(space, p, batch, seq_len, limit)) {
  return tokens_for(space, p, batch, seq_len, limit);
}
template <class ExecSpace, class Positions>
auto tokens_for(const ExecSpace& space, const Positions& p, std::int64_t tokens,
                const PositionLimit& limit, int /*axes*/)
    -> decltype(tokens_for(space, p, tokens, limit)) {
  return tokens_for(space, p, tokens, limit);
}

}  // namespace krope::Impl
