#pragma once
/// \file bfloat16.hpp
/// krope::bfloat16: 16-bit brain float storage (1 sign, 8 exponent, 7 mantissa bits).
/// Kokkos 3.4 has no bf16, so krope ships its own. Conversion from float rounds to nearest even
/// with plain integer arithmetic, so every backend produces the same bits.

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstring>
#if defined(__CUDACC__)
#include <cuda_bf16.h>
#endif

namespace krope {

struct alignas(2) bfloat16 {
  std::uint16_t bits;

  bfloat16() = default;
  KOKKOS_INLINE_FUNCTION explicit bfloat16(float value) : bits(round_from_float(value)) {}
  KOKKOS_INLINE_FUNCTION explicit operator float() const { return to_float(bits); }

  KOKKOS_INLINE_FUNCTION static bfloat16 from_bits(std::uint16_t b) {
    bfloat16 h;
    h.bits = b;
    return h;
  }

  KOKKOS_INLINE_FUNCTION static std::uint16_t round_from_float(float value) {
#if defined(__CUDA_ARCH__)
    // cvt.rn.bf16.f32: round to nearest even like the integer code below, in one instruction;
    // only its NaN differs (0x7fff), so NaN keeps the portable path.
    if (value == value) return __bfloat16_as_ushort(__float2bfloat16_rn(value));
#endif
    std::uint32_t u;
    std::memcpy(&u, &value, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
      return static_cast<std::uint16_t>((u >> 16) | 0x40u);  // quiet NaN
    const std::uint32_t lsb = (u >> 16) & 1u;
    return static_cast<std::uint16_t>((u + 0x7fffu + lsb) >> 16);
  }
  KOKKOS_INLINE_FUNCTION static float to_float(std::uint16_t b) {
    const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
};

static_assert(sizeof(bfloat16) == 2, "bfloat16 must be 2 bytes");

}  // namespace krope
