#pragma once
/// \file frequencies.hpp
/// The table-free alternative to Table: inverse frequencies on the device, angles formed in the
/// kernel in fp64 and reduced before sin/cos (see impl/accurate_sincos.hpp).

#include <krope/config.hpp>
#include <krope/rotary_shape.hpp>
#include <krope/spectrum.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <utility>

namespace krope {

/// Inverse frequencies (fp64, [R/2]) and the attention factor of a config, in `MemorySpace`.
/// Costs R/2 doubles instead of a table per position, and serves every position below 2^24,
/// with cos/sin within 2 fp32 ulp of the exact values.
template <class MemorySpace>
class Frequencies : public RotaryShape {
 public:
  using memory_space = MemorySpace;
  using values_type = Kokkos::View<double*, MemorySpace>;

  Frequencies() = default;
  /// Throws std::invalid_argument unless inv_freq holds rotary_dim / 2 values and the shape and
  /// axes are valid (RotaryShape).
  Frequencies(int head_dim, int rotary_dim, Pairing pairing, double attention_factor,
              values_type inv_freq, Axes axes = {})
      : RotaryShape("krope::Frequencies", head_dim, rotary_dim, pairing, attention_factor,
                    std::move(axes), static_cast<std::int64_t>(inv_freq.extent(0))),
        inv_freq_(inv_freq) {}

  const values_type& inv_freq() const { return inv_freq_; }
  /// Positions [0, 2^24) are served: the accuracy contract's range (impl/accurate_sincos.hpp).
  /// krope::apply rejects positions beyond it, as it rejects positions past a Table.
  static constexpr std::int64_t max_positions() { return std::int64_t(1) << 24; }

 private:
  values_type inv_freq_;
};

/// Evaluates the schedule of `config` (at `seq_len` for the length-dependent ones) and copies
/// its inverse frequencies to `MemorySpace`. Throws std::invalid_argument for an invalid config.
template <class MemorySpace>
Frequencies<MemorySpace> make_frequencies(const Config& config, std::int64_t seq_len = 0) {
  const Spectrum s = spectrum(config, seq_len);
  typename Frequencies<MemorySpace>::values_type inv_freq(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "krope::Frequencies::inv_freq"),
      s.inv_freq.size());
  auto host = Kokkos::create_mirror_view(inv_freq);
  for (std::size_t i = 0; i < s.inv_freq.size(); ++i) host(i) = s.inv_freq[i];
  Kokkos::deep_copy(inv_freq, host);
  return {config.head_dim, config.rotated_lanes(), config.pairing, s.attention_factor, inv_freq,
          config.axes};
}

}  // namespace krope
