// krope::bfloat16 and krope::float16 round to nearest even exactly like independent references:
// GCC's _Float16 conversion (libgcc) for float16, and a nearest-of-two-neighbours search for
// bfloat16; exhaustive round trips of every 16-bit pattern.

#include <krope/bfloat16.hpp>
#include <krope/float16.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<float> probe_values() {
  std::vector<float> v;
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) v.push_back(from_bits(rng()));
  for (float f : {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, 65536.0f, 1e-8f,
                  2.98023224e-8f, 5.96046448e-8f, 6.1035156e-5f, 6.1e-5f,
                  std::numeric_limits<float>::infinity(), std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), 3.3895314e38f, 3.3961776e38f})
    v.push_back(f), v.push_back(-f);
  // Exact ties between neighbouring 16-bit values, where round-to-even decides.
  for (std::uint32_t u = 0x33000000u; u < 0x48000000u; u += 0x00012345u) {
    v.push_back(from_bits((u & ~0x1fffu) | 0x1000u));
    v.push_back(from_bits((u & ~0xffffu) | 0x8000u));
  }
  return v;
}

#if defined(__FLT16_MAX__) && !defined(__CUDACC__)
TEST(storage_types, float16_matches_gcc_float16) {
  for (float f : probe_values()) {
    if (std::isnan(f)) {  // every NaN becomes the quiet NaN of its sign, on every backend
      ASSERT_EQ(krope::float16(f).bits, std::signbit(f) ? 0xfe00u : 0x7e00u) << f;
      continue;
    }
    const _Float16 ref = static_cast<_Float16>(f);
    std::uint16_t ref_bits;
    std::memcpy(&ref_bits, &ref, sizeof ref_bits);
    ASSERT_EQ(krope::float16(f).bits, ref_bits) << f;
  }
}
#endif

TEST(storage_types, bfloat16_rounds_to_nearest_even) {
  for (float f : probe_values()) {
    const krope::bfloat16 b(f);
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if (std::isnan(f)) {  // the NaN's top 16 bits, made quiet: sign and top payload bits kept
      ASSERT_EQ(b.bits, (u >> 16) | 0x40u) << f;
      continue;
    }
    const std::uint16_t down = static_cast<std::uint16_t>(u >> 16), up = down + 1;
    const double below = krope::bfloat16::to_float(down);
    // Past the largest finite bfloat16 the next step up would be 2^128: the midpoint to it
    // decides between the largest finite value and infinity.
    const double above = std::isinf(krope::bfloat16::to_float(up))
                             ? std::copysign(std::ldexp(1.0, 128), double(f))
                             : double(krope::bfloat16::to_float(up));
    const double gap_down = std::abs(double(f) - below), gap_up = std::abs(above - double(f));
    std::uint16_t expected = gap_down < gap_up   ? down
                             : gap_up < gap_down ? up
                                                 : (down & 1 ? up : down);
    if ((u & 0xffffu) == 0) expected = down;  // exactly representable
    ASSERT_EQ(b.bits, expected) << f;
  }
}

TEST(storage_types, every_pattern_round_trips) {
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float fh = krope::float16::to_float(h), fb = krope::bfloat16::to_float(h);
    if (!std::isnan(fh))
      ASSERT_EQ(krope::float16(fh).bits, h);
    else
      ASSERT_TRUE(std::isnan(static_cast<float>(krope::float16(fh))));
    if (!std::isnan(fb))
      ASSERT_EQ(krope::bfloat16(fb).bits, h);
    else
      ASSERT_TRUE(std::isnan(static_cast<float>(krope::bfloat16(fb))));
  }
}

}  // namespace
