// The same seeded inputs on this backend and on Kokkos::Serial give results within 1 ulp of the
// storage type (the rotation rounds each operation separately everywhere, so in practice the
// bits are identical). Runs for every backend other than Serial.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace {

using namespace krope;
using namespace krope::test;

template <class T>
double worst_distance_to_serial() {
  double worst = 0;
  int seed = 0;
  for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
    for (int rotary_dim : {0, 64})
      for (Positioning positioning : {Positioning::contiguous, Positioning::sequence_offsets,
                                      Positioning::position_ids, Positioning::varlen})
        for (AngleSource angles : {AngleSource::table, AngleSource::computed})
          for (Layout layout : {Layout::bshd, Layout::fused_qkv}) {
            CaseSpec spec;
            spec.config.head_dim = 128;
            spec.config.rotary_dim = rotary_dim;
            spec.config.pairing = pairing;
            spec.config.theta = 5e5;
            spec.positioning = positioning;
            spec.angles = angles;
            spec.layout = layout;
            spec.batch = 3;
            spec.seq = 37;
            spec.q_heads = 8;
            spec.k_heads = 2;
            spec.offset = 70000;
            spec.in_place = seed % 2 == 0;
            spec.seed = 9000 + seed++;
            const CaseResult here = run_case<TEST_EXECSPACE, T>(spec);
            const CaseResult serial = run_case<Kokkos::Serial, T>(spec);
            worst = std::max({worst, max_ulp_distance<T>(here.q_out, serial.q_out),
                              max_ulp_distance<T>(here.k_out, serial.k_out)});
          }
  return worst;
}

TEST(TEST_CATEGORY, matches_serial_within_one_ulp) {
  if (std::is_same<TEST_EXECSPACE, Kokkos::Serial>::value)
    GTEST_SKIP() << "this is the Serial backend itself";
  const double d = worst_distance_to_serial<double>(), f = worst_distance_to_serial<float>(),
               b = worst_distance_to_serial<krope::bfloat16>(),
               h = worst_distance_to_serial<krope::float16>();
  std::printf(
      "[krope] vs Serial, largest distance in ulp: double %.2f float %.2f bfloat16 %.2f "
      "float16 %.2f\n",
      d, f, b, h);
  EXPECT_LE(d, 1.0);
  EXPECT_LE(f, 1.0);
  EXPECT_LE(b, 1.0);
  EXPECT_LE(h, 1.0);
}

}  // namespace
