#pragma once
/// \file math.hpp
/// The few math functions kernels call, from Kokkos 3.4 (Kokkos::Experimental) through 4.x
/// (Kokkos::), in one place.

#include <Kokkos_Core.hpp>

namespace krope::Impl::math {

#if KOKKOS_VERSION >= 30700
using Kokkos::cos;
using Kokkos::nearbyint;
using Kokkos::sin;
#else
using Kokkos::Experimental::cos;
using Kokkos::Experimental::nearbyint;
using Kokkos::Experimental::sin;
#endif

}  // namespace krope::Impl::math
