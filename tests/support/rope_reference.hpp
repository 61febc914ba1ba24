#pragma once
// Test support: seeded Gaussian data, poisoned outputs, the fp64 reference rotation and the
// norm-wise relative error that every kernel test compares with.

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace krope::test {

template <class T>
double to_double(const T& x) {
  if constexpr (std::is_same<T, double>::value)
    return x;
  else
    return static_cast<double>(static_cast<float>(x));
}

template <class T>
T from_double(double x) {
  if constexpr (std::is_same<T, double>::value)
    return x;
  else if constexpr (std::is_same<T, float>::value)
    return static_cast<float>(x);
  else
    return T(static_cast<float>(x));
}

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

/// Calls f(i...) for every index of a rank-3 or rank-4 View, in row-major logical order.
template <class View, class F>
void for_each_index(const View& v, F&& f) {
  if constexpr (View::rank == 4) {
    for (std::size_t a = 0; a < v.extent(0); ++a)
      for (std::size_t b = 0; b < v.extent(1); ++b)
        for (std::size_t c = 0; c < v.extent(2); ++c)
          for (std::size_t d = 0; d < v.extent(3); ++d) f(a, b, c, d);
  } else {
    static_assert(View::rank == 3, "rank 3 or 4");
    for (std::size_t a = 0; a < v.extent(0); ++a)
      for (std::size_t b = 0; b < v.extent(1); ++b)
        for (std::size_t c = 0; c < v.extent(2); ++c) f(a, b, c);
  }
}

/// A LayoutRight View in the same memory space with `v`'s extents: deep_copy between it and a
/// strided device View runs as a copy kernel, where a host mirror of the strided View could not.
template <class View>
auto contiguous_like(const View& v) {
  using Contiguous = Kokkos::View<typename View::non_const_data_type, Kokkos::LayoutRight,
                                  typename View::memory_space>;
  if constexpr (View::rank == 4)
    return Contiguous("contiguous", v.extent(0), v.extent(1), v.extent(2), v.extent(3));
  else
    return Contiguous("contiguous", v.extent(0), v.extent(1), v.extent(2));
}

/// Host copy of any rank-3/4 View, strided device subviews included.
template <class View>
auto host_copy(const View& v) {
  auto contiguous = contiguous_like(v);
  Kokkos::deep_copy(contiguous, v);
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), contiguous);
}

/// Writes host values (from host_copy) back into `v`.
template <class View, class Host>
void store(const View& v, const Host& host) {
  auto contiguous = contiguous_like(v);
  Kokkos::deep_copy(contiguous, host);
  Kokkos::deep_copy(v, contiguous);
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

/// The View's values in row-major logical order, as doubles.
template <class View>
std::vector<double> to_doubles(const View& v) {
  auto host = host_copy(v);
  std::vector<double> out;
  out.reserve(v.size());
  for_each_index(host, [&](auto... i) { out.push_back(to_double(host(i...))); });
  return out;
}

/// The fp64 reference is the library's own krope::reference_rope (krope/reference.hpp).
using krope::reference_rope;

/// ||got - ref|| / ||ref||; NaN when got holds a NaN (an unwritten, poisoned element).
inline double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(got[i])) return std::numeric_limits<double>::quiet_NaN();
    diff += (got[i] - ref[i]) * (got[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  return std::sqrt(diff / norm);
}

/// Norm-wise relative error accumulated over many comparisons.
struct ErrorAccumulator {
  double diff = 0, norm = 0;
  void add(const std::vector<double>& got, const std::vector<double>& ref) {
    for (std::size_t i = 0; i < ref.size(); ++i) {
      diff += (got[i] - ref[i]) * (got[i] - ref[i]);
      norm += ref[i] * ref[i];
    }
  }
  double relative() const { return std::sqrt(diff / norm); }
};

/// T's name in test messages.
template <class T>
const char* type_name() {
  return std::is_same<T, double>::value     ? "double"
         : std::is_same<T, float>::value    ? "float"
         : std::is_same<T, bfloat16>::value ? "bfloat16"
                                            : "float16";
}

/// Significand bits of T (the implicit one included).
template <class T>
constexpr int mantissa_bits() {
  return std::is_same<T, double>::value    ? 53
         : std::is_same<T, float>::value   ? 24
         : std::is_same<T, float16>::value ? 11
                                           : 8;
}

/// Largest distance in units in the last place of T between got and ref (both values of T).
template <class T>
double max_ulp_distance(const std::vector<double>& got, const std::vector<double>& ref) {
  if (got.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (std::isnan(got[i]) != std::isnan(ref[i])) return std::numeric_limits<double>::infinity();
    const double magnitude = std::max(std::abs(ref[i]), std::abs(got[i]));
    int exponent;
    std::frexp(magnitude, &exponent);
    // ulp of the binade; subnormal spacing for tiny values is covered by the floor below.
    const double ulp = std::ldexp(1.0, exponent - mantissa_bits<T>());
    const double floor = std::is_same<T, float16>::value ? std::ldexp(1.0, -24)
                         : std::is_same<T, float>::value ? std::ldexp(1.0, -149)
                                                         : 0.0;
    const double dist = std::abs(got[i] - ref[i]) / std::max(ulp, floor);
    worst = std::max(worst, dist);
  }
  return worst;
}

}  // namespace krope::test
