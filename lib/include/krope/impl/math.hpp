#pragma once
/// \file math.hpp
/// The math functions kernels call, from Kokkos 3.4 (Kokkos::Experimental) through 4.x
/// (Kokkos::), in one place.

#include <Kokkos_Core.hpp>

namespace krope::Impl::math {

#if KOKKOS_VERSION >= 30700
using Kokkos::nearbyint;
#else
using Kokkos::Experimental::nearbyint;
#endif

}  // namespace krope::Impl::math
