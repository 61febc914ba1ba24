#pragma once
/// \file errors.hpp
/// How results are compared with the fp64 reference: the norm-wise relative error
/// ||got - ref|| / ||ref|| (one comparison, or accumulated over many), and the distance in units
/// in the last place of an element type. A non-finite result (a poisoned, unwritten element)
/// is an infinite error, so no bound accepts it.

#include <common/values.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

namespace krope::support {

/// Norm-wise relative error accumulated over many comparisons.
struct RelativeError {
  double diff2 = 0, ref2 = 0;

  void add(double got, double ref) {
    diff2 +=
        std::isfinite(got) ? (got - ref) * (got - ref) : std::numeric_limits<double>::infinity();
    ref2 += ref * ref;
  }
  void add(const std::vector<double>& got, const std::vector<double>& ref) {
    if (got.size() != ref.size()) diff2 = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < ref.size() && i < got.size(); ++i) add(got[i], ref[i]);
  }
  /// Infinite when the reference is empty or all zero: a comparison with nothing is no pass.
  double relative() const {
    return ref2 > 0 ? std::sqrt(diff2 / ref2) : std::numeric_limits<double>::infinity();
  }
};

/// ||got - ref|| / ||ref|| of one comparison.
inline double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
  RelativeError error;
  error.add(got, ref);
  return error.relative();
}

/// Largest distance in units in the last place of T between got and ref (both values of T).
template <class T>
double max_ulp_distance(const std::vector<double>& got, const std::vector<double>& ref) {
  if (got.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(got[i]) != std::isnan(ref[i])) return std::numeric_limits<double>::infinity();
    if (std::isnan(got[i])) continue;
    const double magnitude = std::max(std::abs(ref[i]), std::abs(got[i]));
    int exponent;
    std::frexp(magnitude, &exponent);
    // ulp of the binade; subnormal spacing for tiny values is covered by the floor below.
    const double ulp = std::ldexp(1.0, exponent - mantissa_bits<T>());
    const double floor = std::is_same<T, float16>::value ? std::ldexp(1.0, -24)
                         : std::is_same<T, float>::value ? std::ldexp(1.0, -149)
                                                         : 0.0;
    worst = std::max(worst, std::abs(got[i] - ref[i]) / std::max(ulp, floor));
  }
  return worst;
}

}  // namespace krope::support
