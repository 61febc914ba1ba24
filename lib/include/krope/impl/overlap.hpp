#pragma once
/// \file overlap.hpp
/// Do two Views share an element? Exact aliasing (same data, extents and strides) means in place
/// and is allowed; any other shared element would let the kernel read what it already wrote.

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace krope::Impl {

template <class A, class B>
bool exactly_aliased(const A& a, const B& b) {
  if (static_cast<const void*>(a.data()) != static_cast<const void*>(b.data())) return false;
  if (unsigned(A::rank) != unsigned(B::rank)) return false;
  for (unsigned i = 0; i < A::rank; ++i)
    if (a.extent(i) != b.extent(i) || a.stride(i) != b.stride(i)) return false;
  return true;
}

/// Elements from the first to one past the last element of a non-empty View. Not span():
/// Kokkos 3.4 overestimates span() for strided subviews (extent * stride of the outermost
/// dimension), which would reach into a neighbouring allocation.
template <class View>
std::size_t footprint(const View& v) {
  std::size_t last = 0;
  for (unsigned i = 0; i < View::rank; ++i) last += (v.extent(i) - 1) * v.stride(i);
  return last + 1;
}

namespace overlap_detail {
// Is `offset` = sum_k d_k * stride_k for integers d_k in [lo_k, hi_k]? Dimensions come sorted by
// stride, largest first; each level only tries the few d_k that leave a reachable remainder.
// Returns true (conservatively "overlap") when the search would grow past `budget` nodes.
inline bool reachable(std::int64_t offset, const std::int64_t* stride, const std::int64_t* lo,
                      const std::int64_t* hi, int dims, int& budget) {
  if (--budget < 0) return true;
  if (dims == 0) return offset == 0;
  std::int64_t rest = 0;  // largest |sum| the remaining dimensions can make
  for (int k = 1; k < dims; ++k) rest += std::max(std::abs(lo[k]), std::abs(hi[k])) * stride[k];
  if (stride[0] == 0) return reachable(offset, stride + 1, lo + 1, hi + 1, dims - 1, budget);
  const std::int64_t first = std::max(lo[0], (offset - rest + stride[0] - 1) / stride[0] - 1);
  const std::int64_t last = std::min(hi[0], (offset + rest) / stride[0] + 1);
  for (std::int64_t d = first; d <= last; ++d)
    if (reachable(offset - d * stride[0], stride + 1, lo + 1, hi + 1, dims - 1, budget))
      return true;
  return false;
}
}  // namespace overlap_detail

/// True when `a` and `b` share at least one element without being exactly aliased. Exact for
/// Views with equal strides (q/k slices of one fused qkv buffer); for different strides it
/// compares the memory ranges, which may refuse an exotic interleaving that does not collide.
template <class A, class B>
bool partially_overlap(const A& a, const B& b) {
  using TA = typename A::value_type;
  using TB = typename B::value_type;
  static_assert(sizeof(TA) == sizeof(TB), "krope: overlap test needs one element size");
  if (a.size() == 0 || b.size() == 0 || exactly_aliased(a, b)) return false;
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.data());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.data());
  const auto a1 = a0 + footprint(a) * sizeof(TA), b1 = b0 + footprint(b) * sizeof(TB);
  if (a1 <= b0 || b1 <= a0) return false;  // disjoint ranges
  bool same_strides =
      unsigned(A::rank) == unsigned(B::rank) && (b0 > a0 ? b0 - a0 : a0 - b0) % sizeof(TA) == 0;
  for (unsigned i = 0; same_strides && i < A::rank; ++i) same_strides = a.stride(i) == b.stride(i);
  if (!same_strides) return true;
  // a's element i and b's element j coincide iff (b0 - a0) / size = sum (i_k - j_k) * stride_k.
  constexpr int rank = A::rank;
  std::int64_t stride[rank > 0 ? rank : 1], lo[rank > 0 ? rank : 1], hi[rank > 0 ? rank : 1];
  int order[rank > 0 ? rank : 1];
  for (int k = 0; k < rank; ++k) order[k] = k;
  std::sort(order, order + rank, [&](int x, int y) { return a.stride(x) > a.stride(y); });
  for (int k = 0; k < rank; ++k) {
    stride[k] = static_cast<std::int64_t>(a.stride(order[k]));
    lo[k] = -static_cast<std::int64_t>(b.extent(order[k])) + 1;
    hi[k] = static_cast<std::int64_t>(a.extent(order[k])) - 1;
  }
  const std::int64_t offset = (static_cast<std::int64_t>(b0) - static_cast<std::int64_t>(a0)) /
                              static_cast<std::int64_t>(sizeof(TA));
  int budget = 1 << 14;
  return overlap_detail::reachable(offset, stride, lo, hi, rank, budget);
}

}  // namespace krope::Impl
