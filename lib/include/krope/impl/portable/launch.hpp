#pragma once
/// \file launch.hpp
/// apply_portable: the portable kernel's launch. Chooses the work items from the problem and the
/// backend (kernel.hpp), the row access from the Views (row_access.hpp), and runs the one
/// instantiation of pairing x direction x access the call needs.

#include <krope/impl/portable/kernel.hpp>
#include <krope/impl/portable/tuning.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <type_traits>

namespace krope::Impl::portable {

template <class View>
constexpr bool layout_right_v =
    std::is_same<typename View::array_layout, Kokkos::LayoutRight>::value;

/// Innermost stride other than 1 (never for LayoutRight).
template <class View>
bool strided_lanes(const View& v) {
  if constexpr (layout_right_v<View>)
    return false;
  else
    return v.size() > 0 && v.stride(View::rank - 1) != 1;
}

/// Data and every stride that matters on 16-byte boundaries.
template <class View>
bool aligned_rows(const View& v) {
  using T = typename View::non_const_value_type;
  if (v.size() == 0) return true;
  if (reinterpret_cast<std::uintptr_t>(v.data()) % 16 != 0) return false;
  for (unsigned i = 0; i + 1 < View::rank; ++i)
    if (v.extent(i) > 1 && (v.stride(i) * sizeof(T)) % 16 != 0) return false;
  return true;
}

/// CPUs: one token per item (a contiguous range of tokens per thread under a static schedule).
/// GPUs: one chunk (of C pairs) of a group of heads per item, the group as large as the tuning
/// allows while the grid still covers `waves` x the resident threads (decode: one head per item).
template <class Tn, int C, class ExecSpace, class R>
ItemShape item_shape(const ExecSpace& space, const R& r) {
  using T = typename R::value_type;
  ItemShape shape;
  const int heads = r.q_heads + r.k_heads;
  shape.units = (r.rotary_dim / 2 + C - 1) / C;
  int groups = 1;
  if constexpr (Tn::device) {
    int per_item = Tn::template heads_per_thread<T>;
    per_item = per_item < heads ? per_item : heads;
    const std::int64_t target = std::int64_t(Tn::waves) * space.concurrency();
    auto groups_of = [&](int n) { return (heads + n - 1) / n; };
    while (per_item > 1 && r.token_count * shape.units * groups_of(per_item) < target)
      per_item = (per_item + 1) / 2;
    groups = groups_of(per_item);
    shape.heads_per_item = per_item;
    shape.unit_blocks = shape.units;
    shape.units_per_item = 1;
  } else {
    (void)space;
    shape.heads_per_item = heads;
    shape.unit_blocks = 1;
    shape.units_per_item = shape.units;
  }
  const std::int64_t per_token = std::int64_t(groups) * shape.unit_blocks;
  shape.items = r.token_count * per_token;
  shape.by_token = DivMod(per_token, shape.items);
  return shape;
}

/// C: the pairs of one chunk.
template <Pairing P, Direction D, RowAccess A, int C, class Tn, class ExecSpace, class R>
void launch(const ExecSpace& space, const R& r) {
  using Policy = Kokkos::RangePolicy<ExecSpace, Kokkos::Schedule<Kokkos::Static>,
                                     Kokkos::IndexType<std::int64_t>,
                                     typename Tn::template launch_bounds<typename R::value_type>>;
  const ItemShape shape = item_shape<Tn, C>(space, r);
  Kokkos::parallel_for("krope::apply[portable]", Policy(space, 0, shape.items),
                       Kernel<R, P, D, A, C, Tn>{r, shape});
}

/// The aligned kernel with chunks of C pairs, where the angle source's rows take its packs.
template <Pairing P, Direction D, int C, class Tn, class ExecSpace, class R>
bool launch_aligned(const ExecSpace& space, const R& r) {
  if (!r.angles.packable(sizeof(RunPack<typename R::real_type, C>))) return false;
  launch<P, D, RowAccess::aligned, C, Tn>(space, r);
  return true;
}

template <Pairing P, Direction D, class Tn, class ExecSpace, class R>
void launch_with_access(const ExecSpace& space, const R& r) {
  using T = typename R::value_type;
  constexpr int C = Tn::template chunk_pairs<T>;
  constexpr bool right = layout_right_v<decltype(r.q_in)> && layout_right_v<decltype(r.q_out)> &&
                         layout_right_v<decltype(r.k_in)> && layout_right_v<decltype(r.k_out)>;
  if constexpr (!right) {
    if (strided_lanes(r.q_in) || strided_lanes(r.q_out) || strided_lanes(r.k_in) ||
        strided_lanes(r.k_out))
      return launch<P, D, RowAccess::strided, C, Tn>(space, r);
  }
  if constexpr (Tn::packed_access) {
    if (aligned_rows(r.q_in) && aligned_rows(r.q_out) && aligned_rows(r.k_in) &&
        aligned_rows(r.k_out)) {
      // Runs of the first half (and interleaved runs) start on pack boundaries. half_split's
      // second half starts R/2 lanes in: chunks of the most bytes (16, 8 or 4: a word of two
      // 16-bit lanes at least) that R/2 is whole chunks of. A short last chunk instead (R = 20
      // of head 80: 16 + 4 bytes a half) went lane by lane, and every 2- or 4-byte access of a
      // thread costs a sector of its own: 24% of copy on the H200 (perf/NOTES.md).
      constexpr int lane_bytes = static_cast<int>(sizeof(T));
      const int half_bytes = r.rotary_dim / 2 * lane_bytes;
      const int chunk_bytes = P == Pairing::interleaved || half_bytes % 16 == 0 ? 16
                              : half_bytes % 8 == 0                             ? 8
                              : half_bytes % 4 == 0                             ? 4
                                                                                : 0;
      if (chunk_bytes == 16 && launch_aligned<P, D, C, Tn>(space, r)) return;
      if constexpr (P == Pairing::half_split) {
        if (chunk_bytes == 8 && launch_aligned<P, D, 8 / lane_bytes, Tn>(space, r)) return;
        if constexpr (lane_bytes <= 4)
          if (chunk_bytes == 4 && launch_aligned<P, D, 4 / lane_bytes, Tn>(space, r)) return;
      }
    }
  }
  launch<P, D, RowAccess::contiguous, C, Tn>(space, r);
}

/// Runs the portable kernel for `r` on `space`.
template <class ExecSpace, class R>
void apply_portable(const ExecSpace& space, const R& r) {
  using Tn = Tuning<ExecSpace>;
  const bool interleaved = r.pairing == Pairing::interleaved;
  const bool backward = r.direction == Direction::backward;
  constexpr Pairing I = Pairing::interleaved, H = Pairing::half_split;
  constexpr Direction F = Direction::forward, B = Direction::backward;
  if (interleaved)
    backward ? launch_with_access<I, B, Tn>(space, r) : launch_with_access<I, F, Tn>(space, r);
  else
    backward ? launch_with_access<H, B, Tn>(space, r) : launch_with_access<H, F, Tn>(space, r);
}

}  // namespace krope::Impl::portable
