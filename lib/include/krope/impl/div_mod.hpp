#pragma once
/// \file div_mod.hpp
/// n -> (n / d, n % d) for a divisor fixed at launch, by a multiply-high instead of a 64-bit
/// division (used by the CUDA kernels to split a token into (sequence, index) and a row into
/// (token, head); portable so that it is tested on every backend). The q/k row addresses wait
/// for these splits, and the kernels' threads live for one shot: nvcc's 64-bit division (a range
/// test, then a reciprocal sequence of ~20 instructions) in front of the loads cost 0.4-0.6
/// points of copy bandwidth at the Llama and hd256 shapes on an H100.

#include <Kokkos_Macros.hpp>
#include <cstdint>

namespace krope::Impl {

/// Round-up reciprocal of a divisor d in [1, 2^31) (Granlund and Montgomery): for n < 2^31,
/// n / d = (umulhi(n, multiplier) + n) >> shift. Larger divisors or numerators (`largest`, the
/// biggest n the caller will split) take the 64-bit division (`wide`).
struct DivMod {
  std::int64_t divisor = 1;
  std::uint32_t multiplier = 0;
  int shift = 0;
  bool wide = false;

  DivMod() = default;
  DivMod(std::int64_t d, std::int64_t largest) : divisor(d < 1 ? 1 : d) {
    constexpr std::int64_t limit = std::int64_t(1) << 31;
    wide = divisor >= limit || largest >= limit;
    if (wide) return;
    while ((std::int64_t(1) << shift) < divisor) ++shift;
    multiplier = static_cast<std::uint32_t>(
        ((std::uint64_t(1) << 32) * ((std::uint64_t(1) << shift) - std::uint64_t(divisor))) /
            std::uint64_t(divisor) +
        1);
  }

  /// quotient = n / divisor, remainder = n - quotient * divisor (n >= 0).
  KOKKOS_FORCEINLINE_FUNCTION void operator()(std::int64_t n, std::int64_t& quotient,
                                              std::int64_t& remainder) const {
    if (wide) {
      quotient = n / divisor;
    } else {
      const std::uint32_t n32 = static_cast<std::uint32_t>(n);
#if defined(__CUDA_ARCH__)
      const std::uint32_t high = __umulhi(n32, multiplier);
#else
      const std::uint32_t high =
          static_cast<std::uint32_t>((std::uint64_t(n32) * multiplier) >> 32);
#endif
      quotient = static_cast<std::int64_t>((high + n32) >> shift);
    }
    remainder = n - quotient * divisor;
  }
};

}  // namespace krope::Impl
