// Layouts, out of place, backward and partial rotary against the fp64 reference, for every
// element type: [batch][heads][seq][dim] data as strided Views, q/k slices of a fused qkv
// buffer, pass-through lanes copied out of place, and the inverse rotation.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

namespace {

using namespace krope;
using namespace krope::test;

template <class T>
void variants() {
  int cases = 0;
  for (Layout layout : {Layout::bshd, Layout::bhsd, Layout::fused_qkv})
    for (bool in_place : {true, false})
      for (Direction direction : {Direction::forward, Direction::backward})
        for (int rotary_dim : {0, 48})
          for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
            for (Positioning positioning :
                 {Positioning::contiguous, Positioning::position_ids, Positioning::varlen}) {
              if (positioning == Positioning::varlen && layout != Layout::bshd) continue;
              CaseSpec spec;
              spec.config.head_dim = 80;
              spec.config.rotary_dim = rotary_dim;
              spec.config.pairing = pairing;
              spec.layout = layout;
              spec.in_place = in_place;
              spec.direction = direction;
              spec.positioning = positioning;
              spec.batch = 2;
              spec.seq = 9;
              spec.q_heads = 4;
              spec.k_heads = 2;
              spec.seed = 500 + cases++;
              SCOPED_TRACE(testing::Message()
                           << "layout " << int(layout) << " in_place " << in_place << " backward "
                           << (direction == Direction::backward) << " rotary_dim " << rotary_dim
                           << " pairing " << int(pairing) << " positioning " << int(positioning));
              const CaseResult r = run_case<TEST_EXECSPACE, T>(spec);
              const double bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
              EXPECT_LE(r.q_error, bound);
              EXPECT_LE(r.k_error, bound);
              if (rotary_dim != 0) {  // pass-through lanes are bit-exact copies
                for (std::size_t row = 0; row < r.q_in.size() / 80; ++row)
                  for (int d = rotary_dim; d < 80; ++d)
                    ASSERT_EQ(r.q_out[row * 80 + d], r.q_in[row * 80 + d]);
              }
            }
}

TEST(TEST_CATEGORY, variants_double) { variants<double>(); }
TEST(TEST_CATEGORY, variants_float) { variants<float>(); }
TEST(TEST_CATEGORY, variants_bfloat16) { variants<krope::bfloat16>(); }
TEST(TEST_CATEGORY, variants_float16) { variants<krope::float16>(); }

}  // namespace
