#pragma once
/// \file apply_generic.hpp
/// The portable kernel: one Kokkos team per token. The team stages the token's cos/sin in
/// scratch once, then its threads take heads (q then k) and its vector lanes take pairs, so
/// neighbouring lanes touch neighbouring elements on GPUs and the pair loop vectorises on CPUs.

#include <krope/impl/rotation.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace krope::Impl {

template <class ExecSpace, class R>
struct GenericRotaryKernel {
  using Real = typename R::real_type;
  using Value = typename R::value_type;
  using team_member = typename Kokkos::TeamPolicy<ExecSpace>::member_type;
  using scratch_view = Kokkos::View<Real*, typename ExecSpace::scratch_memory_space,
                                    Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

  R rotation;

  static std::size_t scratch_bytes(int pairs) { return 2 * scratch_view::shmem_size(pairs); }

  KOKKOS_INLINE_FUNCTION void operator()(const team_member& team) const {
    const R& r = rotation;
    const std::int64_t token = team.league_rank();
    const TokenCoord coord = r.tokens(token);
    const int pairs = r.rotary_dim / 2;

    scratch_view cos(team.team_scratch(0), pairs), sin(team.team_scratch(0), pairs);
    const bool backward = r.direction == Direction::backward;
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, pairs), [&](int p) {
      Real c, s;
      r.angles(coord.position, p, c, s);
      cos(p) = c;
      sin(p) = backward ? -s : s;
    });
    team.team_barrier();

    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, r.q_heads + r.k_heads), [&](int h) {
      if (h < r.q_heads)
        rotate_head(team, r.q_in, r.q_out, token, coord, h, cos, sin);
      else
        rotate_head(team, r.k_in, r.k_out, token, coord, h - r.q_heads, cos, sin);
    });
  }

  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void rotate_head(const team_member& team, const In& in, const Out& out,
                                          std::int64_t token, const TokenCoord& coord, int h,
                                          const scratch_view& cos, const scratch_view& sin) const {
    const R& r = rotation;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, r.rotary_dim / 2), [&](int p) {
      int lane0, lane1;
      pair_lanes(r.pairing, r.rotary_dim, p, lane0, lane1);
      Real x = widen(element(in, token, coord, h, lane0));
      Real y = widen(element(in, token, coord, h, lane1));
      rotate_pair(x, y, cos(p), sin(p));
      element(out, token, coord, h, lane0) = narrow<Value>(x);
      element(out, token, coord, h, lane1) = narrow<Value>(y);
    });
    if (!r.in_place) {
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, r.rotary_dim, r.head_dim), [&](int d) {
        element(out, token, coord, h, d) = element(in, token, coord, h, d);
      });
    }
  }
};

/// Launches the portable kernel on `space`.
template <class ExecSpace, class R>
void apply_generic(const ExecSpace& space, const R& rotation) {
  using Kernel = GenericRotaryKernel<ExecSpace, R>;
  using Policy = Kokkos::TeamPolicy<ExecSpace>;
  const int pairs = rotation.rotary_dim / 2;
  int vector_length = 1;
  while (vector_length < pairs && vector_length < Policy::vector_length_max()) vector_length *= 2;
  const Policy policy =
      Policy(space, static_cast<int>(rotation.token_count), Kokkos::AUTO, vector_length)
          .set_scratch_size(0, Kokkos::PerTeam(Kernel::scratch_bytes(pairs)));
  Kokkos::parallel_for("krope::apply[generic]", policy, Kernel{rotation});
}

}  // namespace krope::Impl
