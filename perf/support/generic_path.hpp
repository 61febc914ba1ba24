#pragma once
/// \file generic_path.hpp
/// The portable Kokkos kernel on any execution space ("generic" rows), bypassing the backend
/// kernel that krope::apply would choose: the same validation and Rotation as krope::apply
/// (Impl::apply_rotary), with KernelChoice::portable.

#include <krope/apply.hpp>

namespace krope::perf {

template <class ExecSpace, class Rotary, class QIn, class KIn, class QOut, class KOut,
          class Positions>
void apply_generic_path(const ExecSpace& space, const Rotary& rotary, const QIn& q, const KIn& k,
                        const QOut& q_out, const KOut& k_out, const Positions& positions,
                        Direction direction) {
  Impl::apply_rotary<Impl::KernelChoice::portable>(space, rotary, q, k, q_out, k_out, positions,
                                                   direction);
}

}  // namespace krope::perf
