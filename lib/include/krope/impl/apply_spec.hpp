#pragma once
/// \file apply_spec.hpp
/// Impl::Apply: the one dispatch point, a spec / avail pair as in Kokkos Kernels. A backend that
/// has a kernel of its own for some rotations says so in backend_kernel_avail and specializes
/// Apply<ExecSpace, R, true> (impl/cuda/apply_cuda.hpp), falling back to Apply<ExecSpace, R,
/// false>, the portable kernel, for the calls it declines. Tests and benchmarks that want the
/// portable kernel on such a backend name Apply<ExecSpace, R, false> (KernelChoice::portable).

#include <krope/impl/portable/launch.hpp>

#include <type_traits>

namespace krope::Impl {

/// true where ExecSpace has a backend kernel for rotations like R.
template <class ExecSpace, class R>
struct backend_kernel_avail : std::false_type {};

template <class ExecSpace, class R, bool Backend = backend_kernel_avail<ExecSpace, R>::value>
struct Apply {
  static void run(const ExecSpace& space, const R& rotation) {
    portable::apply_portable(space, rotation);
  }
};

/// Which kernel a call may take: the backend's best (its own where it has one and accepts the
/// call, else the portable one), or the portable kernel always.
enum class KernelChoice { best, portable };

template <KernelChoice K, class ExecSpace, class R>
using apply_t =
    Apply<ExecSpace, R, K == KernelChoice::best && backend_kernel_avail<ExecSpace, R>::value>;

}  // namespace krope::Impl

#if defined(KOKKOS_ENABLE_CUDA)
#include <krope/impl/cuda/apply_cuda.hpp>
#endif
