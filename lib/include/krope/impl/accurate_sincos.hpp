#pragma once
/// \file accurate_sincos.hpp
/// cos/sin of pos * inv_freq at long context, for the table-free path, with the same bits on
/// every backend.
///
/// A float product pos * inv_freq loses the angle at long context (at pos = 2^20 one fp32 ulp of
/// the angle is already 0.06 rad). We form it in fp64, reduce it by pi/2 (two-term Cody-Waite),
/// and evaluate sin/cos of the reduced argument |r| <= pi/4 by their Taylor series in fp64 before
/// rounding to Real once (the series to r^23 for double results, about 1 fp64 ulp; to r^12 for
/// float results, within 1e-11 before rounding): within 2 fp32 ulp for any position below 2^24.
/// The series (not the math library) and explicitly rounded operations (no FMA contraction on
/// the device) make Serial, OpenMP and CUDA produce identical bits, double data included. The
/// cost is R/2 such evaluations per token, shared by all of the token's heads.

#include <krope/impl/math.hpp>

#include <cstdint>

namespace krope::Impl {

namespace exact_ops {
// a * b and a + b, each rounded to nearest on its own (nvcc would fuse a * b + c otherwise).
KOKKOS_FORCEINLINE_FUNCTION double mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
KOKKOS_FORCEINLINE_FUNCTION double add(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
}  // namespace exact_ops

/// sin(r) and cos(r) for |r| <= pi/4: Taylor series to r^23 / r^22 (truncation below 1e-24),
/// summed by Horner from the small terms up.
KOKKOS_INLINE_FUNCTION void sincos_reduced(double r, double& s, double& c) {
  using exact_ops::add;
  using exact_ops::mul;
  const double z = mul(r, r);
  // sin: r * (1 - z/3! + z^2/5! - ... - z^11/23!)
  double ps = -3.868170170630684e-23;            // -1/23!
  ps = add(mul(ps, z), 1.9572941063391263e-20);  // 1/21!
  ps = add(mul(ps, z), -8.22063524662433e-18);   // -1/19!
  ps = add(mul(ps, z), 2.8114572543455206e-15);  // 1/17!
  ps = add(mul(ps, z), -7.647163731819816e-13);  // -1/15!
  ps = add(mul(ps, z), 1.6059043836821613e-10);  // 1/13!
  ps = add(mul(ps, z), -2.505210838544172e-08);  // -1/11!
  ps = add(mul(ps, z), 2.7557319223985893e-06);  // 1/9!
  ps = add(mul(ps, z), -0.0001984126984126984);  // -1/7!
  ps = add(mul(ps, z), 0.008333333333333333);    // 1/5!
  ps = add(mul(ps, z), -0.16666666666666666);    // -1/3!
  s = add(r, mul(mul(r, z), ps));
  // cos: 1 - z/2 + z^2/4! - ... + z^11/22!
  double pc = -8.896791392450574e-22;             // -1/22!
  pc = add(mul(pc, z), 4.110317623312165e-19);    // 1/20!
  pc = add(mul(pc, z), -1.5619206968586225e-16);  // -1/18!
  pc = add(mul(pc, z), 4.779477332387385e-14);    // 1/16!
  pc = add(mul(pc, z), -1.1470745597729725e-11);  // -1/14!
  pc = add(mul(pc, z), 2.08767569878681e-09);     // 1/12!
  pc = add(mul(pc, z), -2.755731922398589e-07);   // -1/10!
  pc = add(mul(pc, z), 2.48015873015873e-05);     // 1/8!
  pc = add(mul(pc, z), -0.001388888888888889);    // -1/6!
  pc = add(mul(pc, z), 0.041666666666666664);     // 1/4!
  // (1 - z/2) + z^2 * pc: about 1 ulp, as 1 - z/2 dominates.
  c = add(add(1.0, mul(-0.5, z)), mul(mul(z, z), pc));
}

/// The same for results rounded to fp32: the series to r^11 / r^12 (truncation below 1e-11, far
/// under half an fp32 ulp), 20 fewer fp64 operations per angle.
KOKKOS_INLINE_FUNCTION void sincos_reduced_for_float(double r, double& s, double& c) {
  using exact_ops::add;
  using exact_ops::mul;
  const double z = mul(r, r);
  double ps = -2.505210838544172e-08;            // -1/11!
  ps = add(mul(ps, z), 2.7557319223985893e-06);  // 1/9!
  ps = add(mul(ps, z), -0.0001984126984126984);  // -1/7!
  ps = add(mul(ps, z), 0.008333333333333333);    // 1/5!
  ps = add(mul(ps, z), -0.16666666666666666);    // -1/3!
  s = add(r, mul(mul(r, z), ps));
  double pc = 2.08767569878681e-09;              // 1/12!
  pc = add(mul(pc, z), -2.755731922398589e-07);  // -1/10!
  pc = add(mul(pc, z), 2.48015873015873e-05);    // 1/8!
  pc = add(mul(pc, z), -0.001388888888888889);   // -1/6!
  pc = add(mul(pc, z), 0.041666666666666664);    // 1/4!
  c = add(add(1.0, mul(-0.5, z)), mul(mul(z, z), pc));
}

template <class Real>
KOKKOS_INLINE_FUNCTION void accurate_sincos(double pos, double inv_freq, Real& cos_out,
                                            Real& sin_out) {
  using exact_ops::add;
  using exact_ops::mul;
  constexpr double two_over_pi = 0.63661977236758134308;
  constexpr double pi_over_2_hi = 1.5707963267948966192;      // double(pi/2)
  constexpr double pi_over_2_lo = 6.1232339957367660359e-17;  // pi/2 - pi_over_2_hi
  const double angle = mul(pos, inv_freq);
  const double n = math::nearbyint(mul(angle, two_over_pi));
  const double r = add(add(angle, mul(-n, pi_over_2_hi)), mul(-n, pi_over_2_lo));
  double s, c;
  if constexpr (sizeof(Real) == sizeof(float))
    sincos_reduced_for_float(r, s, c);
  else
    sincos_reduced(r, s, c);
  // Quadrant q = n mod 4: (cos, sin) = (c, s), (-s, c), (-c, -s), (s, -c). Selects, not a
  // switch: neighbouring lanes of a warp fall in different quadrants.
  const int q = static_cast<int>(static_cast<std::int64_t>(n) & 3);
  const Real cr = static_cast<Real>((q & 1) ? s : c);
  const Real sr = static_cast<Real>((q & 1) ? c : s);
  cos_out = ((q + 1) & 2) ? -cr : cr;
  sin_out = (q & 2) ? -sr : sr;
}

}  // namespace krope::Impl
