#pragma once
/// \file rotation.hpp
/// Everything one apply call needs on the device, gathered once by the public entry points and
/// handed to a backend (Impl::Apply), plus the element access and the rotation itself.

#include <krope/config.hpp>
#include <krope/impl/arithmetic.hpp>
#include <krope/impl/axis_map.hpp>
#include <krope/impl/bit_cast.hpp>
#include <krope/impl/token_positions.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <type_traits>

namespace krope::Impl {

/// q/k in and out ([batch][seq][heads][dim], or [tokens][heads][dim] for varlen), where each
/// token sits, and where its cos/sin come from. In place: q_out/k_out alias q_in/k_in.
template <class AngleSource, class Tokens, class QIn, class QOut, class KIn, class KOut>
struct Rotation {
  using angle_source = AngleSource;
  using tokens_type = Tokens;
  using value_type = typename QOut::non_const_value_type;
  using real_type = arithmetic_t<value_type>;

  AngleSource angles;
  Tokens tokens;
  QIn q_in;
  QOut q_out;
  KIn k_in;
  KOut k_out;
  std::int64_t token_count;  ///< batch * seq, or total_tokens for varlen
  int q_heads, k_heads;
  int head_dim, rotary_dim;
  Pairing pairing;
  Direction direction;
  bool in_place;  ///< outputs alias inputs: the pass-through tail needs no copy
  AxisMap axes;   ///< the axis of each pair, read with multi-axis tokens (AxisTokens)
};

/// Element (h, d) of token `c` in a [batch][seq][heads][dim] or [tokens][heads][dim] View.
template <class View>
KOKKOS_FORCEINLINE_FUNCTION typename View::reference_type element(const View& v, std::int64_t token,
                                                                  const TokenCoord& c, int h,
                                                                  int d) {
  if constexpr (View::rank == 4) {
    (void)token;
    return v(c.batch, c.seq, h, d);
  } else {
    (void)c;
    return v(token, h, d);
  }
}

/// -v, by flipping its sign bit (an integer operation the host vectoriser does not fold into the
/// arithmetic around it).
template <class Real>
KOKKOS_FORCEINLINE_FUNCTION Real flip_sign(Real v) {
  using Bits = std::conditional_t<sizeof(Real) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits sign = Bits(1) << (8 * sizeof(Real) - 1);
  return bit_cast<Real>(static_cast<Bits>(bit_cast<Bits>(v) ^ sign));
}

/// The pair (x, y) rotated by the angle whose cos/sin are (c, s); backward passes -s.
/// Each product and sum is rounded separately on every backend: nvcc would otherwise contract
/// them into FMAs that host compilers (without -mfma) do not form, and the backends would differ
/// in the last bit. Keeping them apart makes Serial, OpenMP and CUDA results bit-identical.
template <class Real>
KOKKOS_FORCEINLINE_FUNCTION void rotate_pair(Real& x, Real& y, Real c, Real s) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same<Real, float>::value) {
    const float x_new = __fsub_rn(__fmul_rn(x, c), __fmul_rn(y, s));
    y = __fadd_rn(__fmul_rn(x, s), __fmul_rn(y, c));
    x = x_new;
  } else {
    const double x_new = __dsub_rn(__dmul_rn(x, c), __dmul_rn(y, s));
    y = __dadd_rn(__dmul_rn(x, s), __dmul_rn(y, c));
    x = x_new;
  }
#else
  // y' = x s + y c is computed as y c - x (-s), -s by its sign bit: the same bits (x (-s) is
  // -(x s) exactly, and a - (-b) is a + b), but now both lanes of an interleaved pair subtract.
  // With alternating subtract / add lanes, g++ 12's SLP vectoriser forms vfmaddsub (fused, one
  // rounding) even under -ffp-contract=off, in some translation units and not others, so the
  // host results depended on which copy of the kernel the linker kept (perf/NOTES.md).
  const Real x_new = x * c - y * s;
  y = y * c - x * flip_sign(s);
  x = x_new;
#endif
}

/// Lanes of pair p: (p, p + R/2) for half_split, (2p, 2p + 1) for interleaved.
KOKKOS_FORCEINLINE_FUNCTION void pair_lanes(Pairing pairing, int rotary_dim, int p, int& lane0,
                                            int& lane1) {
  if (pairing == Pairing::interleaved) {
    lane0 = 2 * p;
    lane1 = 2 * p + 1;
  } else {
    lane0 = p;
    lane1 = p + rotary_dim / 2;
  }
}

}  // namespace krope::Impl
