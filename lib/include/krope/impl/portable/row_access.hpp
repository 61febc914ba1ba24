#pragma once
/// \file row_access.hpp
/// How the portable kernel reads and writes a run of lanes of one head row. The access is fixed
/// per call (one instantiation each), so the lane loops it sits in have no run-time case:
///   strided:    the innermost dimension has a stride (LayoutLeft, a strided LayoutStride);
///   contiguous: stride 1, any alignment (CPUs load any address at full speed);
///   aligned:    stride 1 and every run starts on a boundary of its packs: read and written as
///               16-byte packs (or one pack of the whole run, if shorter), which GPU compilers
///               turn into one 128-bit (64-, 32-bit) load / store each.

#include <krope/impl/portable/unroll.hpp>

#include <Kokkos_Macros.hpp>
#include <cstdint>

namespace krope::Impl::portable {

enum class RowAccess { strided, contiguous, aligned };

/// Bytes of T (lanes, or words of lanes), aligned to Bytes: the unit of an aligned access.
template <class T, int Bytes = 16>
struct alignas(Bytes) Pack {
  static constexpr int width = Bytes / static_cast<int>(sizeof(T));
  T values[width];
};

/// The packs of an aligned run of N lanes: 16 bytes, or the whole run if it is shorter.
template <class T, int N>
using RunPack =
    Pack<T, (N * static_cast<int>(sizeof(T)) < 16 ? N * static_cast<int>(sizeof(T)) : 16)>;

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
    using P = RunPack<T, N>;
    constexpr int W = P::width;
    static_assert(N % W == 0, "aligned runs are whole packs");
    KROPE_UNROLL
    for (int k = 0; k < N / W; ++k) {
      const P pack = reinterpret_cast<const P*>(p)[k];
      KROPE_UNROLL
      for (int i = 0; i < W; ++i) copy_lane(v[k * W + i], pack.values[i]);
    }
  } else {
    KROPE_UNROLL
    for (int i = 0; i < N; ++i) copy_lane(v[i], p[A == RowAccess::strided ? i * stride : i]);
  }
}

template <RowAccess A, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void store_lanes(T* p, std::int64_t stride, const T (&v)[N]) {
  if constexpr (A == RowAccess::aligned) {
    using P = RunPack<T, N>;
    constexpr int W = P::width;
    static_assert(N % W == 0, "aligned runs are whole packs");
    KROPE_UNROLL
    for (int k = 0; k < N / W; ++k) {
      P pack;
      KROPE_UNROLL
      for (int i = 0; i < W; ++i) copy_lane(pack.values[i], v[k * W + i]);
      reinterpret_cast<P*>(p)[k] = pack;
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
