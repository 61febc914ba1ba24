#pragma once
/// \file rope_case.hpp
/// One benchmarked configuration: shape, element type, layout, position mode, angle source,
/// direction, in or out of place, and the bytes it must move.
///
/// Byte count: q and k read once and written once, 2 * (|q| + |k|) * sizeof(element). Tables, ids
/// and offsets are small and ignored. The same count is used for every variant, so partial rotary
/// in place (which need only touch R of D lanes) can beat the copy ceiling on this scale; that is
/// stated, not hidden, in NOTES.md.

#include <common/layout.hpp>
#include <krope/bfloat16.hpp>
#include <krope/config.hpp>
#include <krope/float16.hpp>

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

namespace krope::perf {

using support::Layout;
/// axis_positions: Case::axes positions per token, laid out as a vision-language prompt (text,
/// an image grid, text) for three axes, as a patch grid (h, w) for two.
enum class PositionMode { contiguous, position_ids, sequence_offsets, varlen, axis_positions };
enum class AngleMode { table, frequencies };

/// The paths each case is measured on, in registration order: the copy and the naive baseline
/// run first so the later paths can report percent_of_copy and speedup_vs_naive from this run.
/// touch (hosts): the same bytes read and written in place, beside the copy.
enum class Path { copy, touch, naive, generic, apply };

/// Compile-time part of a case: the element type and everything that changes View or argument
/// types, so only the combinations a benchmark registers are instantiated.
template <class Value, Layout L = Layout::bshd, PositionMode P = PositionMode::contiguous,
          AngleMode A = AngleMode::table, bool OutOfPlace = false>
struct Kind {
  static_assert(L != Layout::fused_qkv, "the suite measures bshd and bhsd data");
  using value_type = Value;
  static constexpr Layout layout = L;
  static constexpr PositionMode positions = P;
  static constexpr AngleMode angles = A;
  static constexpr bool out_of_place = OutOfPlace;
};

struct Case {
  std::string group;    ///< "shapes", "reports", "sweep", "decode", "variants", "host-serial", ...
  std::string variant;  ///< "" for plain shapes, else "interleaved", "position_ids", ...
  int batch = 1, seq = 1, q_heads = 1, k_heads = 1, head_dim = 128, rotary_dim = 0;
  Pairing pairing = Pairing::half_split;
  Direction direction = Direction::forward;
  Axes axes = {};  ///< multi-axis RoPE (PositionMode::axis_positions)
  // Filled from the Kind at registration:
  std::string dtype;
  std::size_t value_bytes = 2;
  Layout layout = Layout::bshd;
  PositionMode positions = PositionMode::contiguous;
  AngleMode angles = AngleMode::table;
  bool out_of_place = false;

  std::int64_t tokens() const { return std::int64_t(batch) * seq; }
  int rotated() const { return rotary_dim == 0 ? head_dim : rotary_dim; }
  /// The rotary embedding of the case (theta: the default).
  Config config() const {
    Config config;
    config.head_dim = head_dim;
    config.rotary_dim = rotary_dim;
    config.pairing = pairing;
    config.axes = axes;
    return config;
  }
  std::int64_t q_elements() const { return tokens() * q_heads * head_dim; }
  std::int64_t k_elements() const { return tokens() * k_heads * head_dim; }
  /// Bytes one call must move: q and k read once and written once.
  std::int64_t bytes() const {
    return 2 * (q_elements() + k_elements()) * static_cast<std::int64_t>(value_bytes);
  }

  /// "B=8 T=4096 Hq=32 Hk=8 D=128 bf16" plus the variant, if any.
  std::string label() const {
    std::string s = "B=" + std::to_string(batch) + " T=" + std::to_string(seq) +
                    " Hq=" + std::to_string(q_heads) + " Hk=" + std::to_string(k_heads) +
                    " D=" + std::to_string(head_dim) + " " + dtype;
    if (!variant.empty()) s += " " + variant;
    return s;
  }
  /// Identifies the data a case needs (the paths of one case share it).
  std::string key() const { return group + "/" + label(); }
};

/// A plain shape of `group`: batch x seq tokens, q_heads / k_heads heads of head_dim lanes.
inline Case make_shape(const std::string& group, int batch, int seq, int q_heads, int k_heads,
                       int head_dim) {
  Case c;
  c.group = group;
  c.batch = batch;
  c.seq = seq;
  c.q_heads = q_heads;
  c.k_heads = k_heads;
  c.head_dim = head_dim;
  return c;
}

/// Offset of element (token, h, d) in a q or k buffer of `heads` heads, token = b * seq + t (or
/// the packed token for varlen): the one place that knows the two memory layouts.
struct TensorIndex {
  Layout layout = Layout::bshd;
  std::int64_t seq = 1;
  int heads = 1, dim = 1;

  KOKKOS_INLINE_FUNCTION std::int64_t operator()(std::int64_t token, int h, int d) const {
    if (layout == Layout::bhsd) {
      const std::int64_t b = token / seq, t = token - b * seq;
      return ((b * heads + h) * seq + t) * dim + d;
    }
    return (token * heads + h) * dim + d;
  }
};

inline TensorIndex q_index(const Case& c) { return {c.layout, c.seq, c.q_heads, c.head_dim}; }
inline TensorIndex k_index(const Case& c) { return {c.layout, c.seq, c.k_heads, c.head_dim}; }

inline const char* path_name(Path path, bool on_cuda) {
  switch (path) {
    case Path::copy:
      return "copy";
    case Path::touch:
      return "touch";
    case Path::naive:
      return "naive";
    case Path::generic:
      return "generic";
    case Path::apply:
      return on_cuda ? "specialized" : "apply";
  }
  return "?";
}

}  // namespace krope::perf
