#pragma once
/// \file pair_ulps.hpp
/// Outputs against the reference data files (tests/data/*.json): their fp32 inputs loaded into
/// Views, and the distance of an output from the file's in fp32 ulps of each pair's norm.

#include "rope_reference.hpp"

#include <krope/config.hpp>
#include <krope/impl/rotation.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace krope::test {

/// `values` (logical row-major order) into v, as fp32.
template <class View>
void load_into(const View& v, const std::vector<double>& values) {
  auto host = Kokkos::create_mirror_view(v);
  std::size_t i = 0;
  for_each_index(host, [&](auto... idx) { host(idx...) = static_cast<float>(values[i++]); });
  Kokkos::deep_copy(v, host);
}

/// Largest |got - want| over all lanes, in fp32 ulps of each pair's norm |(x0, x1)|: the natural
/// scale of a rotation's rounding (an output near zero by cancellation still carries errors of
/// the size of its inputs). Pass-through lanes must match exactly.
inline double max_pair_ulps(const std::vector<double>& got, const std::vector<double>& want,
                            const std::vector<double>& x, const Config& config) {
  const int d = config.head_dim, r = config.rotated_lanes();
  double worst = 0;
  for (std::size_t row = 0; row < x.size() / d; ++row) {
    const std::size_t base = row * d;
    for (int p = 0; p < r / 2; ++p) {
      int lane0, lane1;
      Impl::pair_lanes(config.pairing, r, p, lane0, lane1);
      int exponent;
      std::frexp(std::hypot(x[base + lane0], x[base + lane1]), &exponent);
      const double ulp = std::ldexp(1.0, exponent - 24);
      for (int lane : {lane0, lane1})
        worst = std::max(worst, std::abs(got[base + lane] - want[base + lane]) / ulp);
    }
    for (int lane = r; lane < d; ++lane)
      if (got[base + lane] != static_cast<float>(want[base + lane]))  // JSON holds fp32 values
        return std::numeric_limits<double>::infinity();
  }
  return worst;
}

}  // namespace krope::test
