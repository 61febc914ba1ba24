#pragma once
/// \file bfloat16.hpp
/// krope::bfloat16: 16-bit brain float storage (1 sign, 8 exponent, 7 mantissa bits).
/// Kokkos 3.4 has no bf16, so krope ships its own. Conversion from float rounds to nearest even
/// with integer operations and a select (no branch), so every backend produces the same bits and
/// lane loops over bf16 data vectorise on CPUs.

#include <krope/impl/bit_cast.hpp>
#include <krope/impl/storage16.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>

// Device code rounds through Kokkos' bhalf_t where that is the hardware's type (Kokkos 4 on a
// GPU backend; on host-only builds and with Kokkos 3.4 it is a float).
#if KOKKOS_VERSION >= 40000 && defined(KOKKOS_BHALF_T_IS_FLOAT) && !KOKKOS_BHALF_T_IS_FLOAT
#define KROPE_IMPL_DEVICE_BHALF 1
#else
#define KROPE_IMPL_DEVICE_BHALF 0
#endif

namespace krope {

struct alignas(2) bfloat16 : Impl::Storage16<bfloat16> {
  bfloat16() = default;
  KOKKOS_INLINE_FUNCTION explicit bfloat16(float value) : Storage16(value) {}

  /// Round to nearest even: add 0x7fff plus the lowest kept bit, keep the top half. A NaN keeps
  /// its sign and top payload bits with the quiet bit set. The NaN test compares as signed (the
  /// magnitude fits): one packed compare on CPUs, where an unsigned one takes two.
  KOKKOS_INLINE_FUNCTION static std::uint16_t round_from_float(float value) {
#if KROPE_IMPL_DEVICE_BHALF
    KOKKOS_IF_ON_DEVICE((return device_round_from_float(value);))
#endif
    return formula_round_from_float(value);
  }
  KOKKOS_INLINE_FUNCTION static std::uint16_t formula_round_from_float(float value) {
    const std::uint32_t u = Impl::bit_cast<std::uint32_t>(value);
    const std::uint32_t top = u >> 16;
    const std::uint32_t rounded = (u + 0x7fffu + (top & 1u)) >> 16;
    const bool nan = static_cast<std::int32_t>(u & 0x7fffffffu) > 0x7f800000;
    return static_cast<std::uint16_t>(nan ? top | 0x40u : rounded);
  }
  KOKKOS_INLINE_FUNCTION static float to_float(std::uint16_t b) {
    return Impl::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
  }

#if KROPE_IMPL_DEVICE_BHALF
  /// The hardware's rounding, through Kokkos: the formula's bits for every non-NaN float; a NaN
  /// gets the formula's quiet NaN (the hardware has one canonical NaN).
  KOKKOS_INLINE_FUNCTION static std::uint16_t device_round_from_float(float value) {
    const auto h = Impl::bit_cast<std::uint16_t>(Kokkos::Experimental::cast_to_bhalf(value));
    if (value == value) return h;
    return static_cast<std::uint16_t>((Impl::bit_cast<std::uint32_t>(value) >> 16) | 0x40u);
  }
#endif
};

static_assert(sizeof(bfloat16) == 2, "bfloat16 must be 2 bytes");

}  // namespace krope
