#pragma once
/// \file token_split.hpp
/// token -> (sequence b, index t) for [batch][seq] data by a multiply-high instead of a 64-bit
/// division (used by the CUDA kernel; portable so that it is tested on every backend). The q/k
/// row addresses wait for this split, and the kernel's threads live for one shot: nvcc's 64-bit
/// division (a range test, then a reciprocal sequence of ~20 instructions) in front of the loads
/// cost 0.4-0.6 points of copy bandwidth at the Llama and hd256 shapes (perf/NOTES.md, v24).

#include <Kokkos_Macros.hpp>
#include <cstdint>

namespace krope::Impl {

/// Round-up reciprocal of a divisor d in [1, 2^31) (Granlund and Montgomery): for n < 2^31,
/// n / d = (umulhi(n, multiplier) + n) >> shift. Larger token counts or sequences take the
/// 64-bit division (`wide`).
struct TokenSplit {
  std::int64_t seq_len = 1;
  std::uint32_t multiplier = 0;
  int shift = 0;
  bool wide = false;

  TokenSplit() = default;
  TokenSplit(std::int64_t seq, std::int64_t token_count) : seq_len(seq < 1 ? 1 : seq) {
    constexpr std::int64_t limit = std::int64_t(1) << 31;
    wide = seq_len >= limit || token_count >= limit;
    if (wide) return;
    while ((std::int64_t(1) << shift) < seq_len) ++shift;
    multiplier = static_cast<std::uint32_t>(
        ((std::uint64_t(1) << 32) * ((std::uint64_t(1) << shift) - std::uint64_t(seq_len))) /
            std::uint64_t(seq_len) +
        1);
  }

  /// b = token / seq_len, t = token - b * seq_len.
  KOKKOS_FORCEINLINE_FUNCTION void operator()(std::int64_t token, std::int64_t& b,
                                              std::int64_t& t) const {
    if (wide) {
      b = token / seq_len;
    } else {
      const std::uint32_t n = static_cast<std::uint32_t>(token);
#if defined(__CUDA_ARCH__)
      const std::uint32_t high = __umulhi(n, multiplier);
#else
      const std::uint32_t high = static_cast<std::uint32_t>((std::uint64_t(n) * multiplier) >> 32);
#endif
      b = static_cast<std::int64_t>((high + n) >> shift);
    }
    t = token - b * seq_len;
  }
};

}  // namespace krope::Impl
