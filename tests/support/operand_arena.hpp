#pragma once
// Operands of one apply call placed by hand in flat buffers ("arenas"): any strides, padding,
// offsets, alignment and aliasing a test wants, as unmanaged Views. Every element of an arena,
// the gaps and padding between operands included, can be compared before and after a call, so
// a stray write anywhere shows.

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

namespace krope::test {

/// Where one operand lives: arena, first element, and the extent and stride (in elements) of
/// each of its dimensions, in the View's logical order.
struct Placement {
  int arena = 0;
  std::size_t offset = 0;
  std::vector<std::size_t> extent, stride;

  std::size_t size() const {
    return std::accumulate(extent.begin(), extent.end(), std::size_t(1), std::multiplies<>());
  }
  /// One past the last element, counted from `offset` (0 when empty).
  std::size_t footprint() const {
    if (size() == 0) return 0;
    std::size_t last = 0;
    for (std::size_t i = 0; i < extent.size(); ++i) last += (extent[i] - 1) * stride[i];
    return last + 1;
  }
  /// Arena index of the element at logical row-major position `flat`.
  std::size_t index(std::size_t flat) const {
    std::size_t at = offset;
    for (std::size_t i = extent.size(); i-- > 0;) {
      at += (flat % extent[i]) * stride[i];
      flat /= extent[i];
    }
    return at;
  }
};

/// An unmanaged View of `Layout` over `arena` at `p`. LayoutRight and LayoutLeft Views take their
/// strides from the extents: `p` must hold exactly those (the planner's `natural` placements).
template <class Layout, int Rank, class T, class M>
auto unmanaged_view(const Kokkos::View<T*, M>& arena, const Placement& p) {
  using Data = std::conditional_t<Rank == 4, T****, T***>;
  using View = Kokkos::View<Data, Layout, M, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  T* const data = arena.data() + p.offset;
  const auto& e = p.extent;
  const auto& s = p.stride;
  if constexpr (std::is_same<Layout, Kokkos::LayoutStride>::value) {
    if constexpr (Rank == 4)
      return View(data, Kokkos::LayoutStride(e[0], s[0], e[1], s[1], e[2], s[2], e[3], s[3]));
    else
      return View(data, Kokkos::LayoutStride(e[0], s[0], e[1], s[1], e[2], s[2]));
  } else if constexpr (Rank == 4) {
    return View(data, e[0], e[1], e[2], e[3]);
  } else {
    return View(data, e[0], e[1], e[2]);
  }
}

/// Lays operands out in arenas: each block after a random gap, its start often (not always)
/// 16-byte aligned, so that vectorised kernels meet aligned and misaligned data alike.
class ArenaPlanner {
 public:
  ArenaPlanner(std::mt19937_64& rng, std::size_t element_size, int arenas)
      : rng_(rng), element_size_(element_size), end_(arenas, 0) {}

  /// LayoutRight (row-major) or LayoutLeft (column-major) strides.
  Placement natural(int arena, const std::vector<std::size_t>& extent, bool row_major) {
    Placement p{arena, 0, extent, std::vector<std::size_t>(extent.size())};
    std::size_t stride = 1;
    for (std::size_t n = 0; n < extent.size(); ++n) {
      const std::size_t i = row_major ? extent.size() - 1 - n : n;
      p.stride[i] = stride;
      stride *= extent[i];
    }
    p.offset = reserve(arena, p.footprint());
    return p;
  }

  /// A strided View: the last (head_dim) dimension contiguous, the others in a random order
  /// ([batch][heads][seq][dim] memory, say), each level padded at random.
  Placement padded(int arena, const std::vector<std::size_t>& extent) {
    Placement p{arena, 0, extent, padded_strides(extent)};
    p.offset = reserve(arena, p.footprint());
    return p;
  }

  /// q and k as head slices of one fused [.., q_heads + k_heads (+ v_heads)][dim] buffer (dim is
  /// the last extent, heads the one before), the buffer itself padded like `padded`.
  std::pair<Placement, Placement> fused(int arena, const std::vector<std::size_t>& q_extent,
                                        std::size_t k_heads, std::size_t v_heads) {
    const std::size_t heads_dim = q_extent.size() - 2, q_heads = q_extent[heads_dim];
    std::vector<std::size_t> buffer = q_extent;
    buffer[heads_dim] = q_heads + k_heads + v_heads;
    Placement q{arena, 0, q_extent, padded_strides(buffer)};
    Placement whole = q;
    whole.extent = buffer;
    q.offset = reserve(arena, whole.footprint());
    Placement k = q;
    k.extent[heads_dim] = k_heads;
    k.offset += q_heads * q.stride[heads_dim];
    return {q, k};
  }

  /// Elements arena `a` needs, with a tail guard.
  std::size_t size(int a) const { return end_[a] + 8; }

 private:
  std::size_t pick(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  }
  std::size_t pad() {
    const std::size_t vector = std::max<std::size_t>(1, 16 / element_size_);
    switch (pick(0, 3)) {
      case 0:
      case 1:
        return 0;
      case 2:
        return pick(1, 3);
      default:
        return vector * pick(1, 2);
    }
  }
  std::vector<std::size_t> padded_strides(const std::vector<std::size_t>& extent) {
    std::vector<std::size_t> order(extent.size() - 1);  // outer dimensions, innermost first
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::shuffle(order.begin(), order.end(), rng_);
    std::vector<std::size_t> stride(extent.size());
    stride.back() = 1;
    std::size_t next = extent.back() + pad();
    for (std::size_t i : order) {
      stride[i] = next;
      next = next * extent[i] + pad();
    }
    return stride;
  }
  std::size_t reserve(int arena, std::size_t footprint) {
    std::size_t at = end_[arena] + pick(0, 9);
    const std::size_t vector = std::max<std::size_t>(1, 16 / element_size_);
    if (pick(0, 3) != 0) at = (at + vector - 1) / vector * vector;  // 16-byte aligned
    end_[arena] = at + footprint;
    return at;
  }

  std::mt19937_64& rng_;
  std::size_t element_size_;
  std::vector<std::size_t> end_;
};

}  // namespace krope::test
