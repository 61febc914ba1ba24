#pragma once
/// \file float16.hpp
/// krope::float16: IEEE 754 binary16 storage (1 sign, 5 exponent, 10 mantissa bits).
/// Kokkos 3.4's half_t does not compile with CUDA 13, so krope ships its own. Both conversions
/// handle every class (subnormals, overflow to infinity, NaN) with integer operations, at most
/// three float operations and selects: no branch, so lane loops over fp16 data vectorise
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

  /// Round to nearest even by one float addition. For the magnitude a = |value| with exponent e
  /// (taken as -14 below 2^-14, where halves are subnormal), 2^(e + 15) + 4a has its last
  /// mantissa bit at the weight of 4a's last half bit, so the FPU rounds a to the half's 11
  /// significant bits, which land at the bottom of the sum's mantissa (the leading one at bit 10);
  /// the low five bits of the sum's exponent, plus that leading one, are the half's exponent (a
  /// carry out of the mantissa bumps it, up to infinity). 4a is formed as a 2^112 2^-110, so that
  /// a >= 2^16 overflows to infinity. NaN: the quiet NaN 0x7e00. Nothing is subnormal unless the
  /// half is zero, so flush-to-zero modes give the same bits; no branch, so it vectorises (host
  /// lane loop: 1.15x the previous integer-rounding formula's throughput).
  KOKKOS_INLINE_FUNCTION static std::uint16_t formula_round_from_float(float value) {
    using Impl::bit_cast;
    const std::uint32_t u = bit_cast<std::uint32_t>(value);
    const std::uint32_t twice = u + u;  // the sign shifted out
    const float scaled = bit_cast<float>(u & 0x7fffffffu) * 0x1p112f * 0x1p-110f;
    const std::uint32_t exponent = twice & 0xff000000u;  // 2 e, biased
    const std::uint32_t addend_exponent = exponent < 0x71000000u ? 0x71000000u : exponent;
    const std::uint32_t sum =
        bit_cast<std::uint32_t>(bit_cast<float>((addend_exponent >> 1) + 0x07800000u) + scaled);
    const std::uint32_t magnitude = ((sum >> 13) & 0x7c00u) + (sum & 0x0fffu);
    return static_cast<std::uint16_t>(((u >> 16) & 0x8000u) |
                                      Impl::select_bits(twice > 0xff000000u, 0x7e00u, magnitude));
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
