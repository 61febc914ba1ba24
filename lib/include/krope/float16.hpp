#pragma once
/// \file float16.hpp
/// krope::float16: IEEE 754 binary16 storage (1 sign, 5 exponent, 10 mantissa bits).
/// Kokkos 3.4's half_t does not compile with CUDA 13, so krope ships its own. Both conversions
/// handle every class (subnormals, overflow to infinity, NaN) with integer operations, one exact
/// float addition or subtraction and selects: no branch, so lane loops over fp16 data vectorise
/// on CPUs. On a GPU whose Kokkos (4.x) has a hardware half_t, device code converts through it
/// instead (one instruction against ~35), with NaNs encoded as the formulas encode them: every
/// backend produces the same bits.

#include <krope/impl/bit_cast.hpp>
#include <krope/impl/storage16.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>

// Device code converts through Kokkos' half_t where that is the hardware's type (Kokkos 4 on a
// GPU backend; on host-only builds and with Kokkos 3.4 it is a float).
#if KOKKOS_VERSION >= 40000 && defined(KOKKOS_HALF_T_IS_FLOAT) && !KOKKOS_HALF_T_IS_FLOAT
#define KROPE_IMPL_DEVICE_HALF 1
#else
#define KROPE_IMPL_DEVICE_HALF 0
#endif

namespace krope {

struct alignas(2) float16 : Impl::Storage16<float16> {
  float16() = default;
  KOKKOS_INLINE_FUNCTION explicit float16(float value) : Storage16(value) {}

  /// Round to nearest even. Three candidates, one selected by the magnitude a = |value|:
  ///   a >= 2^16 (or NaN): infinity (or the quiet NaN 0x7e00);
  ///   a <  2^-14: a subnormal half (or zero), rounded by the FPU itself: a + 0.5 puts the
  ///               half's 10 mantissa bits at the bottom of the float's, and the float addition
  ///               rounds the rest to nearest even (exact in every IEEE mode, no subnormals);
  ///   otherwise:  rebias the exponent and round the 13 dropped bits (a carry out of the
  ///               mantissa bumps the exponent, up to infinity).
  KOKKOS_INLINE_FUNCTION static std::uint16_t round_from_float(float value) {
#if KROPE_IMPL_DEVICE_HALF
    KOKKOS_IF_ON_DEVICE((return device_round_from_float(value);))
#endif
    return formula_round_from_float(value);
  }
  KOKKOS_INLINE_FUNCTION static float to_float(std::uint16_t h) {
#if KROPE_IMPL_DEVICE_HALF
    KOKKOS_IF_ON_DEVICE((return device_to_float(h);))
#endif
    return formula_to_float(h);
  }

  KOKKOS_INLINE_FUNCTION static std::uint16_t formula_round_from_float(float value) {
    using Impl::bit_cast;
    const std::uint32_t u = bit_cast<std::uint32_t>(value);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t a = u & 0x7fffffffu;
    const std::uint32_t special = Impl::select_bits(a > 0x7f800000u, 0x7e00u, 0x7c00u);
    const std::uint32_t tiny =
        bit_cast<std::uint32_t>(bit_cast<float>(a) + 0.5f) - 0x3f000000u;  // 0.5f = 126 << 23
    const std::uint32_t normal = (a - (112u << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    const std::uint32_t h = Impl::select_bits(a >= 0x47800000u, special,
                                              Impl::select_bits(a < 0x38800000u, tiny, normal));
    return static_cast<std::uint16_t>(sign | h);
  }

  /// Exact: normal halves rebias the exponent, Inf/NaN get the float's all-ones exponent (the
  /// payload kept), subnormals are renormalised by one exact float subtraction.
  KOKKOS_INLINE_FUNCTION static float formula_to_float(std::uint16_t h) {
    using Impl::bit_cast;
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t shifted = static_cast<std::uint32_t>(h & 0x7fffu) << 13;
    const std::uint32_t exponent = shifted & 0x0f800000u;
    const std::uint32_t rebiased = shifted + (112u << 23);
    const std::uint32_t special = rebiased + (112u << 23);  // exponent 31 -> 255
    const std::uint32_t tiny = bit_cast<std::uint32_t>(bit_cast<float>(rebiased + (1u << 23)) -
                                                       bit_cast<float>(113u << 23));
    const std::uint32_t u = Impl::select_bits(exponent == 0x0f800000u, special,
                                              Impl::select_bits(exponent == 0, tiny, rebiased));
    return bit_cast<float>(sign | u);
  }

#if KROPE_IMPL_DEVICE_HALF
  /// The hardware's conversions, through Kokkos: round to nearest even as the formula does; a
  /// NaN comes back as the formula's quiet NaN (the hardware has one canonical NaN).
  KOKKOS_INLINE_FUNCTION static std::uint16_t device_round_from_float(float value) {
    const auto h = Impl::bit_cast<std::uint16_t>(Kokkos::Experimental::cast_to_half(value));
    if (value == value) return h;
    return static_cast<std::uint16_t>(((Impl::bit_cast<std::uint32_t>(value) >> 16) & 0x8000u) |
                                      0x7e00u);
  }
  KOKKOS_INLINE_FUNCTION static float device_to_float(std::uint16_t h) {
    return Kokkos::Experimental::cast_from_half<float>(
        Impl::bit_cast<Kokkos::Experimental::half_t>(h));
  }
#endif
};

static_assert(sizeof(float16) == 2, "float16 must be 2 bytes");

}  // namespace krope
