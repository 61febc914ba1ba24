#pragma once
/// \file row_access.hpp
/// How the portable kernel reads and writes a run of lanes of one head row. The access is fixed
/// per call (one instantiation each), so the lane loops it sits in have no run-time case:
///   strided:    the innermost dimension has a stride (LayoutLeft, a strided LayoutStride);
///   contiguous: stride 1, any alignment (CPUs load any address at full speed);
///   aligned:    stride 1 and every run starts on a 16-byte boundary: read and written as
///               16-byte packs, which GPU compilers turn into one 128-bit load / store each
///               (half_split's second half may start on a smaller boundary: kernel.hpp).

#include <krope/impl/portable/unroll.hpp>

#include <Kokkos_Macros.hpp>
#include <cstdint>

namespace krope::Impl::portable {

enum class RowAccess { strided, contiguous, aligned };

/// 16 bytes of T, aligned to 16: the unit of an aligned access.
template <class T>
struct alignas(16) Pack {
  static constexpr int width = 16 / static_cast<int>(sizeof(T));
  T lanes[width];
};

/// One lane copied as a scalar: bfloat16 / float16 through their bits, since compilers vectorise
/// integer copies but not copies of a struct.
template <class T>
KOKKOS_FORCEINLINE_FUNCTION void copy_lane(T& to, const T& from) {
  if constexpr (sizeof(T) == 2)
    to.bits = from.bits;
  else
    to = from;
}

/// N lanes starting at p (elements `stride` apart when strided).
template <RowAccess A, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void load_lanes(const T* p, std::int64_t stride, T (&v)[N]) {
  if constexpr (A == RowAccess::aligned) {
    constexpr int W = Pack<T>::width;
    static_assert(N % W == 0, "aligned runs are whole 16-byte packs");
    KROPE_UNROLL
    for (int k = 0; k < N / W; ++k) {
      const Pack<T> pack = reinterpret_cast<const Pack<T>*>(p)[k];
      KROPE_UNROLL
      for (int i = 0; i < W; ++i) copy_lane(v[k * W + i], pack.lanes[i]);
    }
  } else {
    KROPE_UNROLL
    for (int i = 0; i < N; ++i) copy_lane(v[i], p[A == RowAccess::strided ? i * stride : i]);
  }
}

template <RowAccess A, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void store_lanes(T* p, std::int64_t stride, const T (&v)[N]) {
  if constexpr (A == RowAccess::aligned) {
    constexpr int W = Pack<T>::width;
    static_assert(N % W == 0, "aligned runs are whole 16-byte packs");
    KROPE_UNROLL
    for (int k = 0; k < N / W; ++k) {
      Pack<T> pack;
      KROPE_UNROLL
      for (int i = 0; i < W; ++i) copy_lane(pack.lanes[i], v[k * W + i]);
      reinterpret_cast<Pack<T>*>(p)[k] = pack;
    }
  } else {
    KROPE_UNROLL
    for (int i = 0; i < N; ++i) copy_lane(p[A == RowAccess::strided ? i * stride : i], v[i]);
  }
}

/// Lane `lane` of a row, for the few lanes that do not fill a run (the tail of R/2 or D).
template <RowAccess A, class T>
KOKKOS_FORCEINLINE_FUNCTION T& lane_of(T* p, std::int64_t stride, int lane) {
  return p[A == RowAccess::strided ? lane * stride : lane];
}

}  // namespace krope::Impl::portable
