#pragma once
// Test support: seeded Gaussian data, poisoned outputs, and (from the support library shared
// with perf/ and examples/, tests/common/) the values, the fp64 reference rotation and the
// errors every kernel test compares with.

#include <common/errors.hpp>
#include <common/values.hpp>
#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace krope::test {

using support::for_each_index;
using support::from_double;
using support::host_copy;
using support::mantissa_bits;
using support::max_ulp_distance;
using support::relative_error;
using support::RelativeError;
using support::store;
using support::to_double;
using support::to_doubles;
using support::type_name;

/// The fp64 reference is the library's own krope::reference_rope (krope/reference.hpp).
using krope::reference_rope;

/// A NaN of type T: written into outputs before a run so any element the kernel skips shows.
template <class T>
T poison_value() {
  if constexpr (std::is_same<T, bfloat16>::value)
    return bfloat16::from_bits(0x7fc1);
  else if constexpr (std::is_same<T, float16>::value)
    return float16::from_bits(0x7e01);
  else
    return std::numeric_limits<T>::quiet_NaN();
}

/// Fills a View with N(0, 1) values (rounded to its element type) from `seed`.
template <class View>
void fill_gaussian(const View& v, std::uint64_t seed) {
  using T = typename View::non_const_value_type;
  auto host = host_copy(v);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for_each_index(host, [&](auto... i) { host(i...) = from_double<T>(normal(rng)); });
  store(v, host);
}

template <class View>
void poison(const View& v) {
  using T = typename View::non_const_value_type;
  auto host = host_copy(v);
  for_each_index(host, [&](auto... i) { host(i...) = poison_value<T>(); });
  store(v, host);
}

}  // namespace krope::test
