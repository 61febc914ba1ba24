#pragma once
/// \file generic_path.hpp
/// The portable Kokkos kernel on any execution space, bypassing the backend dispatch
/// (Impl::Apply) that krope::apply goes through: the Rotation is built exactly as
/// Impl::apply_rotary builds it (same token map, angle source and flags) and handed straight to
/// Impl::apply_generic. Validation is skipped here; each case also runs krope::apply, which
/// validates the same arguments.

#include <krope/apply.hpp>
#include <krope/impl/apply_generic.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace krope::perf {

template <class ExecSpace, class Rotary, class QIn, class KIn, class QOut, class KOut,
          class Positions>
void apply_generic_path(const ExecSpace& space, const Rotary& rotary, const QIn& q, const KIn& k,
                        const QOut& q_out, const KOut& k_out, const Positions& positions,
                        Direction direction) {
  using Value = typename QOut::non_const_value_type;
  using Real = Impl::arithmetic_t<Value>;
  constexpr unsigned heads = QIn::rank - 2;
  const std::int64_t limit = Impl::position_limit(rotary);
  const bool in_place = Impl::exactly_aliased(q, q_out) && Impl::exactly_aliased(k, k_out);
  auto run = [&](auto tokens, std::int64_t token_count) {
    auto angles = Impl::angles_of<Real>(rotary);
    using R = Impl::Rotation<decltype(angles), decltype(tokens), QIn, QOut, KIn, KOut>;
    const R rotation{angles,
                     tokens,
                     q,
                     q_out,
                     k,
                     k_out,
                     token_count,
                     static_cast<int>(q.extent(heads)),
                     static_cast<int>(k.extent(heads)),
                     rotary.head_dim(),
                     rotary.rotary_dim(),
                     rotary.pairing(),
                     direction,
                     in_place};
    if (token_count == 0) return;
    Impl::apply_generic(space, rotation);
  };
  if constexpr (QIn::rank == 4) {
    const std::int64_t batch = q.extent(0), seq_len = q.extent(1);
    run(Impl::tokens_for(space, positions, batch, seq_len, limit), batch * seq_len);
  } else {
    const std::int64_t tokens = q.extent(0);
    run(Impl::tokens_for(space, positions, tokens, limit), tokens);
  }
}

}  // namespace krope::perf
