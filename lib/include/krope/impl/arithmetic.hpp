#pragma once
/// \file arithmetic.hpp
/// Which precision the rotation computes in for each element type, and the conversions.
/// 16-bit and fp32 data compute in fp32; fp64 data in fp64.

#include <krope/bfloat16.hpp>
#include <krope/float16.hpp>

#include <type_traits>

namespace krope::Impl {

template <class T>
struct Arithmetic {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "krope: element type must be double, float, krope::bfloat16 or krope::float16");
  using type = T;  // float or double
};
template <>
struct Arithmetic<bfloat16> {
  using type = float;
};
template <>
struct Arithmetic<float16> {
  using type = float;
};

template <class T>
using arithmetic_t = typename Arithmetic<std::remove_const_t<T>>::type;

template <class T>
KOKKOS_FORCEINLINE_FUNCTION arithmetic_t<T> widen(const T& x) {
  return static_cast<arithmetic_t<T>>(x);
}

template <class T>
KOKKOS_FORCEINLINE_FUNCTION T narrow(arithmetic_t<T> x) {
  return T(x);
}

}  // namespace krope::Impl
