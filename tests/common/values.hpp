#pragma once
/// \file values.hpp
/// Element values on the host for tests, the perf suite and the examples: conversion to and from
/// double, the element types' names and significand widths, and host copies of Views of any
/// layout (strided device subviews included) in row-major logical order.

#include <krope/bfloat16.hpp>
#include <krope/float16.hpp>

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace krope::support {

template <class T>
double to_double(const T& x) {
  if constexpr (std::is_same<T, double>::value)
    return x;
  else
    return static_cast<double>(static_cast<float>(x));
}

/// x rounded to T (through float for the 16-bit types, as data rounded by a model would be).
template <class T>
T from_double(double x) {
  if constexpr (std::is_same<T, double>::value)
    return x;
  else if constexpr (std::is_same<T, float>::value)
    return static_cast<float>(x);
  else
    return T(static_cast<float>(x));
}

/// T's name in messages, test output and the perf suite's JSON ("dtype").
template <class T>
const char* type_name() {
  static_assert(std::is_same<T, double>::value || std::is_same<T, float>::value ||
                    std::is_same<T, bfloat16>::value || std::is_same<T, float16>::value,
                "an element type krope rotates");
  return std::is_same<T, double>::value     ? "fp64"
         : std::is_same<T, float>::value    ? "fp32"
         : std::is_same<T, bfloat16>::value ? "bf16"
                                            : "fp16";
}

/// Significand bits of T (the implicit one included).
template <class T>
constexpr int mantissa_bits() {
  return std::is_same<T, double>::value    ? 53
         : std::is_same<T, float>::value   ? 24
         : std::is_same<T, float16>::value ? 11
                                           : 8;
}

/// Calls f(i...) for every index of a View of rank 1 to 4, in row-major logical order.
template <class View, class F>
void for_each_index(const View& v, F&& f) {
  static_assert(View::rank >= 1 && View::rank <= 4, "rank 1 to 4");
  for (std::size_t a = 0; a < v.extent(0); ++a) {
    if constexpr (View::rank == 1) {
      f(a);
    } else {
      for (std::size_t b = 0; b < v.extent(1); ++b) {
        if constexpr (View::rank == 2) {
          f(a, b);
        } else {
          for (std::size_t c = 0; c < v.extent(2); ++c) {
            if constexpr (View::rank == 3) {
              f(a, b, c);
            } else {
              for (std::size_t d = 0; d < v.extent(3); ++d) f(a, b, c, d);
            }
          }
        }
      }
    }
  }
}

/// A LayoutRight View in the same memory space with `v`'s extents: deep_copy between it and a
/// strided device View runs as a copy kernel, where a host mirror of the strided View could not.
template <class View>
auto contiguous_like(const View& v) {
  using Contiguous = Kokkos::View<typename View::non_const_data_type, Kokkos::LayoutRight,
                                  typename View::memory_space>;
  static_assert(View::rank >= 1 && View::rank <= 4, "rank 1 to 4");
  if constexpr (View::rank == 1)
    return Contiguous("contiguous", v.extent(0));
  else if constexpr (View::rank == 2)
    return Contiguous("contiguous", v.extent(0), v.extent(1));
  else if constexpr (View::rank == 3)
    return Contiguous("contiguous", v.extent(0), v.extent(1), v.extent(2));
  else
    return Contiguous("contiguous", v.extent(0), v.extent(1), v.extent(2), v.extent(3));
}

/// Host copy of any View of rank 1 to 4, LayoutRight.
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

/// The View's values in row-major logical order, as doubles.
template <class View>
std::vector<double> to_doubles(const View& v) {
  auto host = host_copy(v);
  std::vector<double> out;
  out.reserve(v.size());
  for_each_index(host, [&](auto... i) { out.push_back(to_double(host(i...))); });
  return out;
}

}  // namespace krope::support
