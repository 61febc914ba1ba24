#pragma once
// The definition of run_case (declared in apply_case.hpp), for the generated translation units
// that instantiate it once per (backend, element type): test files include apply_case.hpp only.

#include "apply_case.hpp"

namespace krope::test {

template <class ExecSpace, class T>
CaseResult run_case(const CaseSpec& spec) {
  using M = typename ExecSpace::memory_space;
  const ExecSpace space;
  const HostPositions h = make_positions(spec);
  const int d = spec.config.head_dim;
  if (spec.positioning == Positioning::varlen) {
    Kokkos::View<T***, Kokkos::LayoutRight, M> q("q", h.tokens, spec.q_heads, d);
    Kokkos::View<T***, Kokkos::LayoutRight, M> k("k", h.tokens, spec.k_heads, d);
    return run_on_views<ExecSpace, T>(space, spec, h, q, k);
  }
  const int b = spec.batch, t = spec.seq, hq = spec.q_heads, hk = spec.k_heads;
  switch (spec.layout) {
    case Layout::bshd: {
      Kokkos::View<T****, Kokkos::LayoutRight, M> q("q", b, t, hq, d), k("k", b, t, hk, d);
      return run_on_views<ExecSpace, T>(space, spec, h, q, k);
    }
    case Layout::bhsd: {
      using Strided = Kokkos::View<T****, Kokkos::LayoutStride, M>;
      Strided q("q", Kokkos::LayoutStride(b, hq * t * d, t, d, hq, t * d, d, 1));
      Strided k("k", Kokkos::LayoutStride(b, hk * t * d, t, d, hk, t * d, d, 1));
      return run_on_views<ExecSpace, T>(space, spec, h, q, k);
    }
    default: {
      using Strided = Kokkos::View<T****, Kokkos::LayoutStride, M>;
      Kokkos::View<T****, Kokkos::LayoutRight, M> qkv("qkv", b, t, hq + 2 * hk, d);
      Strided q =
          Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, std::make_pair(0, hq), Kokkos::ALL);
      Strided k =
          Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, std::make_pair(hq, hq + hk), Kokkos::ALL);
      return run_on_views<ExecSpace, T>(space, spec, h, q, k);
    }
  }
}

}  // namespace krope::test
