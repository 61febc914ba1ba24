#pragma once
/// \file accurate_sincos.hpp
/// cos/sin of pos * inv_freq at long context, for the table-free path.
///
/// A float product pos * inv_freq loses the angle at long context (at pos = 2^20 one fp32 ulp of
/// the angle is already 0.06 rad). We form it in fp64, reduce it by pi/2 in fp64 (two-term
/// Cody-Waite), and evaluate sin/cos of the reduced argument |r| <= pi/4 in fp64 before rounding
/// to Real once. The fp32 result is then the correctly rounded cos/sin in all but vanishingly rare
/// cases, so every backend (glibc or CUDA's libdevice) produces the same bits, and the error stays
/// within 2 fp32 ulp for any position below 2^24. The cost is R/2 fp64 sincos per token, shared by
/// all of the token's heads.

#include <krope/impl/math.hpp>

#include <cstdint>

namespace krope::Impl {

template <class Real>
KOKKOS_INLINE_FUNCTION void accurate_sincos(double pos, double inv_freq, Real& cos_out,
                                            Real& sin_out) {
  constexpr double two_over_pi = 0.63661977236758134308;
  constexpr double pi_over_2_hi = 1.5707963267948966192;      // double(pi/2)
  constexpr double pi_over_2_lo = 6.1232339957367660359e-17;  // pi/2 - pi_over_2_hi
  const double angle = pos * inv_freq;
  const double n = math::nearbyint(angle * two_over_pi);
  const double r = (angle - n * pi_over_2_hi) - n * pi_over_2_lo;
  const Real c = static_cast<Real>(math::cos(r));
  const Real s = static_cast<Real>(math::sin(r));
  switch (static_cast<std::int64_t>(n) & 3) {
    case 0:
      cos_out = c;
      sin_out = s;
      break;
    case 1:
      cos_out = -s;
      sin_out = c;
      break;
    case 2:
      cos_out = -c;
      sin_out = -s;
      break;
    default:
      cos_out = s;
      sin_out = -c;
      break;
  }
}

}  // namespace krope::Impl
