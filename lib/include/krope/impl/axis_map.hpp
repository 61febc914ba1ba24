#pragma once
/// \file axis_map.hpp
/// Which position axis each rotated pair follows (config.hpp's Axes), in a form the kernels,
/// the spectrum and the reference all read: one rule, evaluated with a few integer operations.

#include <krope/config.hpp>

#include <Kokkos_Macros.hpp>
#include <climits>

namespace krope::Impl {

struct AxisMap {
  static constexpr int max_axes = Axes::max_axes;
  int count = 1;             ///< A
  bool interleaved = false;  ///< AxisLayout::interleaved
  /// chunked: the pair each axis a < A - 1 ends at (INT_MAX past them); interleaved: 3 n1, 3 n2.
  int ends[max_axes - 1] = {INT_MAX, INT_MAX, INT_MAX};

  /// a(j), the axis of pair j.
  KOKKOS_FORCEINLINE_FUNCTION int axis_of(int pair) const {
    if (interleaved) {
      const int m = pair % 3;
      return (m == 1 && pair < ends[0]) ? 1 : (m == 2 && pair < ends[1]) ? 2 : 0;
    }
    int a = 0;
    for (int k = 0; k < max_axes - 1; ++k) a += pair >= ends[k] ? 1 : 0;
    return a;
  }
  /// Whether pairs [first, first + n) all follow one axis (chunks of a chunked layout that lie
  /// inside one section).
  KOKKOS_FORCEINLINE_FUNCTION bool one_axis(int first, int n) const {
    return count == 1 || (!interleaved && axis_of(first) == axis_of(first + n - 1));
  }
};

/// The map of validated axes (krope::validate checked them).
inline AxisMap axis_map(const Axes& axes) {
  AxisMap map;
  map.count = axes.count();
  map.interleaved = axes.layout == AxisLayout::interleaved && map.count > 1;
  if (map.interleaved) {
    map.ends[0] = 3 * axes.pairs[1];
    map.ends[1] = 3 * axes.pairs[2];
  } else {
    int end = 0;
    for (int a = 0; a + 1 < map.count; ++a) map.ends[a] = end += axes.pairs[a];
  }
  return map;
}

}  // namespace krope::Impl
