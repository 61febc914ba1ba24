#pragma once
/// \file storage16.hpp
/// What krope::bfloat16 and krope::float16 share: 16 bits of storage, built from float by the
/// type's own rounding (Derived::round_from_float) and read as float by its own widening
/// (Derived::to_float). Trivially copyable and standard-layout, like the types it serves.

#include <Kokkos_Macros.hpp>
#include <cstdint>

namespace krope::Impl {

template <class Derived>
struct Storage16 {
  std::uint16_t bits;

  Storage16() = default;
  KOKKOS_INLINE_FUNCTION explicit Storage16(float value) : bits(Derived::round_from_float(value)) {}
  KOKKOS_INLINE_FUNCTION explicit operator float() const { return Derived::to_float(bits); }

  KOKKOS_INLINE_FUNCTION static Derived from_bits(std::uint16_t b) {
    Derived h;
    h.bits = b;
    return h;
  }
};

}  // namespace krope::Impl
