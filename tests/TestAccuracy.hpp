// The numerics contract: norm-wise error bounds against fp64 on large Gaussian samples per
// element type, and cos/sin within 2 fp32 ulp (2.4e-7 absolute) at positions up to 2^24 from
// both the fp32 table and the table-free path.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;

template <class T>
void error_bound_on_large_sample() {
  for (AngleSource angles : {AngleSource::table, AngleSource::computed}) {
    CaseSpec spec;
    spec.config.head_dim = 128;
    spec.batch = 2;
    spec.seq = 64;
    spec.q_heads = 8;
    spec.k_heads = 8;
    spec.offset = 12345;
    spec.angles = angles;
    spec.seed = 2024;
    const CaseResult r = run_case<Space, T>(spec);
    RelativeError all;
    all.add(r.q_out, r.q_ref);
    all.add(r.k_out, r.k_ref);
    std::printf("[krope] %-8s %-8s norm-wise relative error vs fp64 %.3e (bound %.1e)\n",
                type_name<T>(), angles == AngleSource::table ? "table" : "computed", all.relative(),
                error_bound<T>());
    EXPECT_LE(all.relative(), error_bound<T>());
  }
}

TEST(TEST_CATEGORY, error_bounds_large_sample) {
  error_bound_on_large_sample<double>();
  error_bound_on_large_sample<float>();
  error_bound_on_large_sample<krope::bfloat16>();
  error_bound_on_large_sample<krope::float16>();
}

/// Rotating the unit pair (1, 0) yields (cos, sin): the kernel's own cos/sin at each position.
template <class Rotary>
double worst_sincos_error(const Rotary& rotary, const Config& config,
                          const std::vector<std::int64_t>& positions) {
  const int d = config.head_dim, half = d / 2;
  const int n = static_cast<int>(positions.size());
  Kokkos::View<float****, Kokkos::LayoutRight, Memory> q("q", 1, n, 1, d), k("k", 1, n, 0, d);
  auto q_host = Kokkos::create_mirror_view(q);
  for (int t = 0; t < n; ++t)
    for (int p = 0; p < half; ++p) {
      q_host(0, t, 0, p) = 1.0f;
      q_host(0, t, 0, p + half) = 0.0f;
    }
  Kokkos::deep_copy(q, q_host);
  Kokkos::View<std::int64_t**, Memory> ids("ids", 1, n);
  auto ids_host = Kokkos::create_mirror_view(ids);
  for (int t = 0; t < n; ++t) ids_host(0, t) = positions[t];
  Kokkos::deep_copy(ids, ids_host);
  krope::apply(Space(), rotary, q, k, krope::position_ids{ids});
  Kokkos::deep_copy(q_host, q);
  const Spectrum s = spectrum(config, positions.back() + 1);
  double worst = 0;
  for (int t = 0; t < n; ++t)
    for (int p = 0; p < half; ++p) {
      const long double angle = static_cast<long double>(positions[t]) * s.inv_freq[p];
      worst = std::max<double>(worst, std::abs(q_host(0, t, 0, p) - std::cos(angle)));
      worst = std::max<double>(worst, std::abs(q_host(0, t, 0, p + half) - std::sin(angle)));
    }
  return worst;
}

TEST(TEST_CATEGORY, long_context_sincos_within_two_ulp) {
  const std::vector<std::int64_t> positions{0,       1,       4095,    65537,    1000003,
                                            1 << 20, 9999991, 1 << 23, 16777213, (1 << 24) - 1};
  Config wide;  // the table-free path: any head size, any position
  wide.head_dim = 128;
  wide.theta = 5e5;
  const double computed = worst_sincos_error(make_frequencies<Memory>(wide), wide, positions);
  // A table up to 2^24 costs 2^24 rows: keep it to two pairs (inverse frequencies 1 and 1e-2).
  Config narrow;
  narrow.head_dim = 4;
  const double table =
      worst_sincos_error(make_table<Memory>(narrow, std::int64_t(1) << 24), narrow, positions);
  std::printf(
      "[krope] cos/sin at positions up to 2^24-1: table max error %.3e, table-free %.3e "
      "(contract 2.4e-7)\n",
      table, computed);
  EXPECT_LE(table, 2.4e-7);
  EXPECT_LE(computed, 2.4e-7);
}

}  // namespace
