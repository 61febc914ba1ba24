#pragma once
/// \file vector_access.hpp
/// 16-byte vectors of q/k elements (uint4 in registers: one LDG.E.128 / STG.E.128 each), their
/// lanes widened to the arithmetic type and narrowed back with the storage types' own
/// round-to-nearest-even routines (bit-identical to the generic path), and the short cos/sin
/// chunks (8 or 16 bytes) the kernel reads from the table or from its staged rows.

#include <krope/bfloat16.hpp>
#include <krope/float16.hpp>

#include <cstdint>
#include <type_traits>

#include <cuda_fp16.h>

namespace krope::Impl::cuda {

/// Bytes per q/k vector access: one uint4 (LDG.E.128 / STG.E.128). The CUDA path requires q/k
/// data and strides and table rows aligned to it (apply_cuda.hpp).
inline constexpr int vector_bytes = 16;
static_assert(sizeof(uint4) == vector_bytes, "a vector is one uint4");

template <class T>
struct Vector {
  static constexpr int width = vector_bytes / static_cast<int>(sizeof(T));  ///< elements: V
};

template <bool Streaming>
__device__ __forceinline__ uint4 load16(const void* p) {
  if constexpr (Streaming)
    return __ldcs(static_cast<const uint4*>(p));
  else
    return *static_cast<const uint4*>(p);
}

template <bool Streaming>
__device__ __forceinline__ void store16(void* p, const uint4& v) {
  if constexpr (Streaming)
    __stcs(static_cast<uint4*>(p), v);
  else
    *static_cast<uint4*>(p) = v;
}

__device__ __forceinline__ std::uint32_t word(const uint4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}
__device__ __forceinline__ void set_word(uint4& v, int i, std::uint32_t w) {
  if (i == 0)
    v.x = w;
  else if (i == 1)
    v.y = w;
  else if (i == 2)
    v.z = w;
  else
    v.w = w;
}

/// One 16-bit lane as float (bf16: a shift; fp16: the hardware widening, cvt.f32.f16). Exact for
/// every non-NaN half. A NaN lane may lose its payload here, which changes no output bits: device
/// arithmetic on a NaN returns the canonical NaN, and narrow() then writes the portable quiet NaN.
template <class T>
__device__ __forceinline__ float widen(std::uint32_t bits) {
  if constexpr (std::is_same<T, bfloat16>::value)
    return __uint_as_float(bits << 16);
  else
    return __half2float(__ushort_as_half(static_cast<unsigned short>(bits & 0xffffu)));
}

/// The quiet NaN the storage types' portable rounding makes of a NaN float (bfloat16: its top
/// half with the quiet bit; float16: the sign and 0x7e00).
template <class T>
__device__ __forceinline__ std::uint32_t quiet_nan(float nan) {
  const std::uint32_t u = __float_as_uint(nan);
  if constexpr (std::is_same<T, bfloat16>::value)
    return (u >> 16) | 0x40u;
  else
    return ((u >> 16) & 0x8000u) | 0x7e00u;
}

/// Two floats rounded to nearest even into one word, `first` in the low half: one paired hardware
/// conversion (cvt.rn.{bf16x2,f16x2}.f32, the same bits as the storage types' integer rounding
/// for every non-NaN input); a NaN lane is then replaced by the portable path's quiet NaN. One
/// test of the pair decides (setp.nan on both), and the replacement sits behind a branch that
/// finite data never takes: done unconditionally, the patching cost ~10 instructions per word,
/// a tenth of the kernel's instructions at the Llama shape.
template <class T>
__device__ __forceinline__ std::uint32_t narrow(float first, float second) {
  std::uint32_t w;
  if constexpr (std::is_same<T, bfloat16>::value)
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(w) : "f"(second), "f"(first));
  else
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(w) : "f"(second), "f"(first));
  if (__builtin_expect((first != first) | (second != second), 0)) {
    if (first != first) w = (w & 0xffff0000u) | quiet_nan<T>(first);
    if (second != second) w = (w & 0xffffu) | (quiet_nan<T>(second) << 16);
  }
  return w;
}

/// The lanes of a vector of float or double (16-bit lanes go through widen/narrow instead, one
/// word at a time).
template <class T>
__device__ __forceinline__ void unpack(const uint4& v, T (&out)[Vector<T>::width]) {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "16-bit lanes: widen()");
  if constexpr (std::is_same<T, float>::value) {
#pragma unroll
    for (int i = 0; i < 4; ++i) out[i] = __uint_as_float(word(v, i));
  } else {
    out[0] = __hiloint2double(static_cast<int>(v.y), static_cast<int>(v.x));
    out[1] = __hiloint2double(static_cast<int>(v.w), static_cast<int>(v.z));
  }
}

/// The values back into a vector of float or double (exact: no rounding).
template <class T>
__device__ __forceinline__ uint4 pack(const T (&in)[Vector<T>::width]) {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "16-bit lanes: narrow()");
  uint4 v;
  if constexpr (std::is_same<T, float>::value) {
#pragma unroll
    for (int i = 0; i < 4; ++i) set_word(v, i, __float_as_uint(in[i]));
  } else {
    v.x = static_cast<std::uint32_t>(__double2loint(in[0]));
    v.y = static_cast<std::uint32_t>(__double2hiint(in[0]));
    v.z = static_cast<std::uint32_t>(__double2loint(in[1]));
    v.w = static_cast<std::uint32_t>(__double2hiint(in[1]));
  }
  return v;
}

/// One aligned value of type V: through the read-only data path (global memory the kernel never
/// writes: the table) or a plain load (shared memory).
template <bool ReadOnly, class V>
__device__ __forceinline__ V fetch(const V* p) {
  if constexpr (ReadOnly)
    return __ldg(p);
  else
    return *p;
}

/// N consecutive reals (8 or 16 bytes, aligned to their size) in one access.
template <int N, bool ReadOnly = false, class Real>
__device__ __forceinline__ void load_reals(const Real* p, Real* out) {
  constexpr int bytes = N * static_cast<int>(sizeof(Real));
  static_assert(bytes == 8 || bytes == 16, "cos/sin chunks are 8 or 16 bytes");
  if constexpr (std::is_same<Real, float>::value && N == 4) {
    const float4 v = fetch<ReadOnly>(reinterpret_cast<const float4*>(p));
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
  } else if constexpr (std::is_same<Real, float>::value && N == 2) {
    const float2 v = fetch<ReadOnly>(reinterpret_cast<const float2*>(p));
    out[0] = v.x;
    out[1] = v.y;
  } else if constexpr (std::is_same<Real, double>::value && N == 2) {
    const double2 v = fetch<ReadOnly>(reinterpret_cast<const double2*>(p));
    out[0] = v.x;
    out[1] = v.y;
  } else {
    out[0] = fetch<ReadOnly>(p);
  }
}

}  // namespace krope::Impl::cuda
