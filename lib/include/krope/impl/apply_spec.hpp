#pragma once
/// \file apply_spec.hpp
/// Impl::Apply: the backend dispatch point. The primary template runs the portable Kokkos kernel;
/// backends partially specialize it for their execution space (impl/cuda/apply_cuda.hpp) and fall
/// back to apply_generic when they cannot handle a case.

#include <krope/impl/apply_generic.hpp>

namespace krope::Impl {

template <class ExecSpace, class R>
struct Apply {
  static void run(const ExecSpace& space, const R& rotation) { apply_generic(space, rotation); }
};

/// Always the portable kernel, whatever the backend (compare paths in benchmarks and tests).
template <class ExecSpace, class R>
struct ApplyGeneric {
  static void run(const ExecSpace& space, const R& rotation) { apply_generic(space, rotation); }
};

}  // namespace krope::Impl

#if defined(KOKKOS_ENABLE_CUDA)
#include <krope/impl/cuda/apply_cuda.hpp>
#endif
