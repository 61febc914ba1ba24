// krope::apply against the fp64 reference over the grid of head sizes, rotary dims, bases,
// pairings, position modes and angle sources, for each element type.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

namespace {

using namespace krope;
using namespace krope::test;

template <class T>
void reference_grid() {
  double worst = 0;
  int cases = 0;
  RelativeError all;  // norm-wise error over every case of the grid
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
                           << type_name<T>() << " head_dim " << head_dim << " rotary_dim "
                           << rotary_dim << " theta " << theta << " pairing " << int(pairing)
                           << " positioning " << int(positioning) << " angles " << int(angles));
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
      type_name<T>(), cases, all.relative(), error_bound<T>(), worst);
}

TEST(TEST_CATEGORY, reference_grid_double) { reference_grid<double>(); }
TEST(TEST_CATEGORY, reference_grid_float) { reference_grid<float>(); }
TEST(TEST_CATEGORY, reference_grid_bfloat16) { reference_grid<krope::bfloat16>(); }
TEST(TEST_CATEGORY, reference_grid_float16) { reference_grid<krope::float16>(); }

}  // namespace

namespace {

/// One config per frequency schedule, with parameters small enough that the test positions
/// (up to ~120) cross the schedules' context thresholds.
std::vector<std::pair<const char*, krope::Config>> schedule_configs() {
  using Kind = krope::Scaling::Kind;
  std::vector<std::pair<const char*, krope::Config>> out;
  auto add = [&](const char* name, Kind kind, auto&& set) {
    krope::Config c;
    c.head_dim = 64;
    c.scaling.kind = kind;
    set(c.scaling);
    out.emplace_back(name, c);
  };
  add("linear", Kind::linear, [](krope::Scaling& s) { s.factor = 4; });
  add("ntk", Kind::ntk, [](krope::Scaling& s) { s.factor = 2; });
  add("dynamic_ntk", Kind::dynamic_ntk, [](krope::Scaling& s) {
    s.factor = 2;
    s.max_positions = 64;
  });
  add("yarn", Kind::yarn, [](krope::Scaling& s) {
    s.factor = 4;
    s.original_max_positions = 32;
  });
  add("llama3", Kind::llama3, [](krope::Scaling& s) {
    s.factor = 8;
    s.original_max_positions = 32;
  });
  add("longrope", Kind::longrope, [](krope::Scaling& s) {
    s.factor = 4;
    s.original_max_positions = 16;
    for (int i = 0; i < 32; ++i) {
      s.short_factor.push_back(1.0 + 0.05 * i);
      s.long_factor.push_back(1.0 + 0.4 * i);
    }
  });
  add("truncated", Kind::truncated, [](krope::Scaling&) {});
  add("custom", Kind::custom, [](krope::Scaling& s) {
    for (int i = 0; i < 32; ++i) s.inv_freq.push_back(1.0 / (1.0 + 3.0 * i));
    s.attention_factor = 1.25;
  });
  return out;
}

/// Every schedule through the kernels (table and table-free), attention factor included, against
/// the fp64 reference built from the same spectrum.
template <class T>
void schedules_through_kernels() {
  int seed = 0;
  for (const auto& [name, config] : schedule_configs())
    for (AngleSource angles : {AngleSource::table, AngleSource::computed})
      for (Positioning positioning : {Positioning::contiguous, Positioning::position_ids}) {
        CaseSpec spec;
        spec.config = config;
        spec.angles = angles;
        spec.positioning = positioning;
        spec.batch = 2;
        spec.seq = 24;
        spec.q_heads = 4;
        spec.k_heads = 4;
        spec.offset = 90;
        spec.seed = 7000 + seed++;
        SCOPED_TRACE(testing::Message() << name << " angles " << int(angles));
        const krope::Spectrum s = krope::spectrum(config, 90 + 24 + 3);
        const CaseResult r = run_case<TEST_EXECSPACE, T>(spec);
        EXPECT_LE(r.q_error, 1.5 * error_bound<T>());
        EXPECT_LE(r.k_error, 1.5 * error_bound<T>());
        // The magnitude scale is applied exactly once: norms grow by the attention factor.
        double in = 0, out = 0;
        for (std::size_t i = 0; i < r.q_in.size(); ++i) {
          in += r.q_in[i] * r.q_in[i];
          out += r.q_out[i] * r.q_out[i];
        }
        EXPECT_NEAR(std::sqrt(out / in), s.attention_factor, 4 * error_bound<T>()) << name;
      }
}

TEST(TEST_CATEGORY, schedules_through_kernels_float) { schedules_through_kernels<float>(); }
TEST(TEST_CATEGORY, schedules_through_kernels_bfloat16) {
  schedules_through_kernels<krope::bfloat16>();
}

}  // namespace
