#pragma once
/// \file probe_bf16.hpp
/// What the minimal bf16 probes (probe_rotary_shapes.cu, probe_bhsd.cu) share: bf16 lanes of a
/// 32-bit word widened and rounded back (RNE, NaN ignored), and the 8 cos/sin values of one
/// thread's lanes (D = 128: 8 threads per row) from an fp32 table row or from constants.

#include <cstdint>

#include <cuda_runtime.h>

namespace probe_bf16 {

__device__ __forceinline__ float lo16(std::uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float hi16(std::uint32_t w) { return __uint_as_float(w & 0xffff0000u); }
__device__ __forceinline__ std::uint32_t round_bf16(float f) {
  const std::uint32_t u = __float_as_uint(f);
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/// cos/sin of lanes [8 item, 8 item + 8) of table row `pos` (rows of `half` floats), through L1.
__device__ __forceinline__ void table_angles(const float* cos, const float* sin, int half,
                                             std::int64_t pos, int item, float (&c)[8],
                                             float (&s)[8]) {
  const float4* cr = reinterpret_cast<const float4*>(cos + pos * half + item * 8);
  const float4* sr = reinterpret_cast<const float4*>(sin + pos * half + item * 8);
  const float4 c0 = __ldg(cr), c1 = __ldg(cr + 1), s0 = __ldg(sr), s1 = __ldg(sr + 1);
  const float cv[8] = {c0.x, c0.y, c0.z, c0.w, c1.x, c1.y, c1.z, c1.w};
  const float sv[8] = {s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w};
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    c[i] = cv[i];
    s[i] = sv[i];
  }
}

/// Angles without memory traffic (cos^2 + sin^2 within 2% of 1: the data keeps its magnitude).
__device__ __forceinline__ void constant_angles(float (&c)[8], float (&s)[8]) {
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    c[i] = 0.6f + 0.01f * i;
    s[i] = 0.8f - 0.01f * i;
  }
}

}  // namespace probe_bf16
