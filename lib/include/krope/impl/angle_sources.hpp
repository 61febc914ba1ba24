#pragma once
/// \file angle_sources.hpp
/// Device-side cos/sin providers the kernels read: a precomputed table, or fp64 inverse
/// frequencies turned into angles in the kernel.

#include <krope/frequencies.hpp>
#include <krope/impl/accurate_sincos.hpp>
#include <krope/impl/portable/row_access.hpp>
#include <krope/table.hpp>

#include <Kokkos_Core.hpp>
#include <cstddef>
#include <cstdint>

namespace krope::Impl {

/// cos/sin read from a Table (attention factor already folded in).
template <class Real, class MemorySpace>
struct TableAngles {
  using real_type = Real;
  using memory_space = MemorySpace;
  static constexpr bool evaluated = false;
  Kokkos::View<const Real**, Kokkos::LayoutRight, MemorySpace> cos, sin;

  KOKKOS_FORCEINLINE_FUNCTION void operator()(std::int64_t pos, int pair, Real& c, Real& s) const {
    c = cos(pos, pair);
    s = sin(pos, pair);
  }
  /// cos/sin of the N pairs first, first + 1, ...: two runs of the row (packs when Packed: the
  /// caller checked `packable`, and `first` is a multiple of N).
  template <int N, bool Packed>
  KOKKOS_FORCEINLINE_FUNCTION void run(std::int64_t pos, int first, Real (&c)[N],
                                       Real (&s)[N]) const {
    constexpr auto access = Packed ? portable::RowAccess::aligned : portable::RowAccess::contiguous;
    portable::load_lanes<access, N>(&cos(pos, first), 1, c);
    portable::load_lanes<access, N>(&sin(pos, first), 1, s);
  }
  /// Rows that start on `bytes` boundaries: runs of N pairs at multiples of N, read as packs of
  /// `bytes` (row_access.hpp), then do too. A table of R/2 = 10 floats a row takes 8-byte packs.
  bool packable(std::size_t bytes) const {
    return reinterpret_cast<std::uintptr_t>(cos.data()) % bytes == 0 &&
           reinterpret_cast<std::uintptr_t>(sin.data()) % bytes == 0 &&
           (cos.stride(0) * sizeof(Real)) % bytes == 0 &&
           (sin.stride(0) * sizeof(Real)) % bytes == 0;
  }
};

/// cos/sin formed from fp64 inverse frequencies (see accurate_sincos.hpp), times the attention
/// factor.
template <class Real, class MemorySpace>
struct ComputedAngles {
  using real_type = Real;
  using memory_space = MemorySpace;
  static constexpr bool evaluated = true;  ///< fp64 series per pair: dear to repeat
  Kokkos::View<const double*, MemorySpace> inv_freq;
  Real attention_factor;

  KOKKOS_FORCEINLINE_FUNCTION void operator()(std::int64_t pos, int pair, Real& c, Real& s) const {
    accurate_sincos(static_cast<double>(pos), inv_freq(pair), c, s);
    c *= attention_factor;
    s *= attention_factor;
  }
  template <int N, bool Packed>
  KOKKOS_FORCEINLINE_FUNCTION void run(std::int64_t pos, int first, Real (&c)[N],
                                       Real (&s)[N]) const {
    for (int i = 0; i < N; ++i) (*this)(pos, first + i, c[i], s[i]);
  }
  bool packable(std::size_t) const { return true; }
};

template <class Real, class MemorySpace, class TableReal>
TableAngles<Real, MemorySpace> angles_of(const Table<MemorySpace, TableReal>& table) {
  return {table.cos(), table.sin()};
}
template <class Real, class MemorySpace>
ComputedAngles<Real, MemorySpace> angles_of(const Frequencies<MemorySpace>& frequencies) {
  return {frequencies.inv_freq(), static_cast<Real>(frequencies.attention_factor())};
}

}  // namespace krope::Impl
