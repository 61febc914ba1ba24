#pragma once
/// \file bit_cast.hpp
/// The bits of a float as an integer and back, on host and device (Kokkos 3.4 has no bit_cast).
/// memcpy of one scalar compiles to a register move everywhere and vectorises in lane loops.

#include <Kokkos_Macros.hpp>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace krope::Impl {

template <class To, class From>
KOKKOS_FORCEINLINE_FUNCTION To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From) && std::is_trivially_copyable<From>::value,
                "bit_cast: same size, trivially copyable");
  To to;
  // Through void*: To may be a wrapper with its own copy operations (Kokkos' half_t), whose bits
  // are still its one member's.
  std::memcpy(static_cast<void*>(&to), static_cast<const void*>(&from), sizeof(To));
  return to;
}

/// `condition ? if_true : if_false` by masks: a select with no branch for compilers that would
/// otherwise keep one in a lane loop (and then not vectorise it).
KOKKOS_FORCEINLINE_FUNCTION std::uint32_t select_bits(bool condition, std::uint32_t if_true,
                                                      std::uint32_t if_false) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(condition);
  return (if_true & mask) | (if_false & ~mask);
}

}  // namespace krope::Impl
