#pragma once
/// \file float16.hpp
/// krope::float16: IEEE 754 binary16 storage (1 sign, 5 exponent, 10 mantissa bits).
/// Kokkos 3.4's half_t does not compile with CUDA 13, so krope ships its own. Conversion from
/// float rounds to nearest even (subnormals, overflow to infinity and NaN included) with integer
/// arithmetic only, so every backend produces the same bits.

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstring>
#if defined(__CUDACC__)
#include <cuda_fp16.h>
#endif

namespace krope {

struct alignas(2) float16 {
  std::uint16_t bits;

  float16() = default;
  KOKKOS_INLINE_FUNCTION explicit float16(float value) : bits(round_from_float(value)) {}
  KOKKOS_INLINE_FUNCTION explicit operator float() const { return to_float(bits); }

  KOKKOS_INLINE_FUNCTION static float16 from_bits(std::uint16_t b) {
    float16 h;
    h.bits = b;
    return h;
  }

  KOKKOS_INLINE_FUNCTION static std::uint16_t round_from_float(float value) {
#if defined(__CUDA_ARCH__)
    // The hardware conversion (cvt.rn.f16.f32) rounds to nearest even with subnormals, the same
    // bits as the integer code below, in one instruction; only its NaN differs (0x7fff).
    if (value == value) return __half_as_ushort(__float2half_rn(value));
#endif
    std::uint32_t u;
    std::memcpy(&u, &value, sizeof u);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // quiet NaN
    if (a >= 0x47800000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 2^16: infinity
    if (a < 0x38800000u) {  // below 2^-14: a subnormal half, or zero
      const std::uint32_t e = a >> 23;
      if (e < 102) return static_cast<std::uint16_t>(sign);  // below 2^-25 rounds to zero
      const std::uint32_t m = (a & 0x7fffffu) | 0x800000u;
      const std::uint32_t shift = 126 - e;  // in units of 2^-24
      std::uint32_t q = m >> shift;
      const std::uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
      if (rem > half || (rem == half && (q & 1u))) ++q;
      return static_cast<std::uint16_t>(sign | q);
    }
    // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even; a carry
    // out of the mantissa correctly bumps the exponent (up to infinity).
    const std::uint32_t odd = (a >> 13) & 1u;
    return static_cast<std::uint16_t>(sign | ((a - (112u << 23) + 0xfffu + odd) >> 13));
  }

  KOKKOS_INLINE_FUNCTION static float to_float(std::uint16_t h) {
#if defined(__CUDA_ARCH__)
    // Every finite half is exact in fp32: the hardware widening (cvt.f32.f16) gives the same bits
    // as the integer code below; Inf/NaN keep the portable path so NaN payloads match the host.
    if ((h & 0x7c00u) != 0x7c00u) return __half2float(__ushort_as_half(h));
#endif
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    std::uint32_t u;
    if (e == 0) {
      const float magnitude = static_cast<float>(m) * 5.9604644775390625e-8f;  // m * 2^-24, exact
      std::memcpy(&u, &magnitude, sizeof u);
      u |= sign;
    } else if (e == 31) {
      u = sign | 0x7f800000u | (m << 13);
    } else {
      u = sign | ((e + 112u) << 23) | (m << 13);
    }
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
};

static_assert(sizeof(float16) == 2, "float16 must be 2 bytes");

}  // namespace krope
