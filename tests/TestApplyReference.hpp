// krope::apply against the fp64 reference over the grid of head sizes, rotary dims, bases,
// pairings, position modes and angle sources, for each element type.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

namespace {

using namespace krope;
using namespace krope::test;

template <class T>
void reference_grid() {
  const char* type_name = std::is_same<T, double>::value     ? "double"
                          : std::is_same<T, float>::value    ? "float"
                          : std::is_same<T, bfloat16>::value ? "bfloat16"
                                                             : "float16";
  double worst = 0;
  int cases = 0;
  ErrorAccumulator all;  // norm-wise error over every case of the grid
  for (int head_dim : {32, 64, 80, 96, 128, 256})
    for (int rotary_dim : {0, head_dim / 2 + (head_dim / 2) % 2 - 2})
      for (double theta : {1e4, 5e5, 1e6})
        for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
          for (Positioning positioning : {Positioning::contiguous, Positioning::sequence_offsets,
                                          Positioning::position_ids, Positioning::varlen})
            for (AngleSource angles : {AngleSource::table, AngleSource::computed}) {
              CaseSpec spec;
              spec.config.head_dim = head_dim;
              spec.config.rotary_dim = rotary_dim;
              spec.config.theta = theta;
              spec.config.pairing = pairing;
              spec.batch = 3;
              spec.seq = 5;
              spec.q_heads = 3;
              spec.k_heads = 1;
              spec.positioning = positioning;
              spec.angles = angles;
              spec.offset = 1000 + cases;
              spec.seed = 100 + cases;
              const CaseResult r = run_case<TEST_EXECSPACE, T>(spec);
              SCOPED_TRACE(testing::Message()
                           << type_name << " head_dim " << head_dim << " rotary_dim " << rotary_dim
                           << " theta " << theta << " pairing " << int(pairing) << " positioning "
                           << int(positioning) << " angles " << int(angles));
              // A single small case (k has one head) samples few roundings, so its norm-wise
              // error scatters around the bound; the grid as a whole must meet it exactly.
              const double case_bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
              ASSERT_LE(r.q_error, case_bound);
              ASSERT_LE(r.k_error, case_bound);
              all.add(r.q_out, r.q_ref);
              all.add(r.k_out, r.k_ref);
              worst = std::max({worst, r.q_error, r.k_error});
              ++cases;
            }
  EXPECT_LE(all.relative(), error_bound<T>());
  std::printf(
      "[krope] %s: %d cases, relative error vs fp64 over the grid %.3e (bound %.1e), largest "
      "single case %.3e\n",
      type_name, cases, all.relative(), error_bound<T>(), worst);
}

TEST(TEST_CATEGORY, reference_grid_double) { reference_grid<double>(); }
TEST(TEST_CATEGORY, reference_grid_float) { reference_grid<float>(); }
TEST(TEST_CATEGORY, reference_grid_bfloat16) { reference_grid<krope::bfloat16>(); }
TEST(TEST_CATEGORY, reference_grid_float16) { reference_grid<krope::float16>(); }

}  // namespace
