#pragma once
/// \file table.hpp
/// Precomputed cos/sin for every position and pair, built on the host in fp64 and rounded once.

#include <krope/config.hpp>
#include <krope/impl/arithmetic.hpp>
#include <krope/rotary_shape.hpp>
#include <krope/spectrum.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace krope {

/// The Table precision for data of element type T, Table<MemorySpace, table_real_t<T>>: double
/// for double data, float for float, bfloat16 and float16 (the precision the rotation computes
/// in; krope::apply takes no other).
template <class T>
using table_real_t = Impl::arithmetic_t<T>;

/// cos/sin of pos * inv_freq[i] for pos in [0, max_positions) and i < R/2, times the schedule's
/// attention factor, stored as `Real` in `MemorySpace`. Angles and cos/sin are evaluated in fp64
/// on the host and rounded once, so entries are within 0.5 ulp of `Real` at any position.
/// Real: table_real_t of the data's element type.
template <class MemorySpace, class Real = float>
class Table : public RotaryShape {
 public:
  using memory_space = MemorySpace;
  using real_type = Real;
  using values_type = Kokkos::View<Real**, Kokkos::LayoutRight, MemorySpace>;

  Table() = default;
  /// Throws std::invalid_argument unless cos and sin are [positions][rotary_dim / 2] and the
  /// shape and axes are valid (RotaryShape).
  Table(int head_dim, int rotary_dim, Pairing pairing, double attention_factor, values_type cos,
        values_type sin, Axes axes = {})
      : RotaryShape("krope::Table", head_dim, rotary_dim, pairing, attention_factor,
                    std::move(axes), static_cast<std::int64_t>(cos.extent(1))),
        cos_(cos),
        sin_(sin) {
    if (sin_.extent(0) != cos_.extent(0) || sin_.extent(1) != cos_.extent(1))
      throw std::invalid_argument("krope::Table: cos and sin must have the same shape");
  }

  std::int64_t max_positions() const { return static_cast<std::int64_t>(cos_.extent(0)); }
  /// [max_positions][R/2], attention factor folded in. Row p holds cos/sin(p f(j)); with
  /// several axes pair j reads the row of its own axis's position.
  const values_type& cos() const { return cos_; }
  const values_type& sin() const { return sin_; }

 private:
  values_type cos_, sin_;
};

/// Builds the table of `config` for positions [0, max_positions). `seq_len` is the sequence
/// length the schedule sees (dynamic NTK, LongRoPE); 0 means max_positions.
/// Throws std::invalid_argument for an invalid config or max_positions < 1.
template <class MemorySpace, class Real = float>
Table<MemorySpace, Real> make_table(const Config& config, std::int64_t max_positions,
                                    std::int64_t seq_len = 0) {
  static_assert(std::is_same<Real, float>::value || std::is_same<Real, double>::value,
                "krope::make_table: Real must be float or double");
  if (max_positions < 1)
    throw std::invalid_argument("krope::make_table: max_positions must be positive (got " +
                                std::to_string(max_positions) + ")");
  const Spectrum s = spectrum(config, seq_len == 0 ? max_positions : seq_len);
  const std::int64_t pairs = static_cast<std::int64_t>(s.inv_freq.size());
  typename Table<MemorySpace, Real>::values_type cos(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "krope::Table::cos"), max_positions, pairs);
  typename Table<MemorySpace, Real>::values_type sin(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "krope::Table::sin"), max_positions, pairs);
  auto cos_host = Kokkos::create_mirror_view(cos);
  auto sin_host = Kokkos::create_mirror_view(sin);
  for (std::int64_t pos = 0; pos < max_positions; ++pos) {
    for (std::int64_t i = 0; i < pairs; ++i) {
      const double angle = static_cast<double>(pos) * s.inv_freq[i];
      cos_host(pos, i) = static_cast<Real>(std::cos(angle) * s.attention_factor);
      sin_host(pos, i) = static_cast<Real>(std::sin(angle) * s.attention_factor);
    }
  }
  Kokkos::deep_copy(cos, cos_host);
  Kokkos::deep_copy(sin, sin_host);
  return {config.head_dim, config.rotated_lanes(), config.pairing, s.attention_factor, cos, sin,
          config.axes};
}

}  // namespace krope
