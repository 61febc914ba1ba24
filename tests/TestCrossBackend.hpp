// Bit-identity across backends. Every backend's fp32 / fp64 results equal the rotation evaluated
// on the host with each product and sum rounded on its own (so no backend fuses or reorders
// them, whatever the linker keeps of the kernel's copies), and the same seeded inputs on this
// backend and on the reference backend (Serial where the build has it) give the same bits in
// every type, table-free fp64, multi-axis positions and partial rotary included.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace {

using namespace krope;
using namespace krope::test;

/// a b - c d and a b + c d, each product and the sum rounded on its own: volatile keeps the
/// compiler from fusing them.
template <class Real>
Real rounded_difference(Real a, Real b, Real c, Real d) {
  volatile Real p = a * b;
  volatile Real q = c * d;
  return p - q;
}
template <class Real>
Real rounded_sum(Real a, Real b, Real c, Real d) {
  volatile Real p = a * b;
  volatile Real q = c * d;
  return p + q;
}

/// The part both grids share: head_dim 128, theta 5e5, positions from 70000, two k heads, in
/// place on even case numbers, the seed counted from `first_seed`.
inline CaseSpec grid_case(Pairing pairing, int rotary_dim, Positioning positioning, int first_seed,
                          int index) {
  CaseSpec spec;
  spec.config.head_dim = 128;
  spec.config.rotary_dim = rotary_dim;
  spec.config.pairing = pairing;
  spec.config.theta = 5e5;
  spec.positioning = positioning;
  spec.k_heads = 2;
  spec.offset = 70000;
  spec.in_place = index % 2 == 0;
  spec.seed = first_seed + index;
  return spec;
}

/// Elements of q and k whose bits differ from the separately rounded rotation by the table's
/// own cos/sin (pass-through lanes: from the input), over both pairings, full and partial
/// rotary (R/2 of whole 16-byte chunks, of 8-byte and of 4-byte ones: 64, 20, 18 for fp32),
/// two position modes, both directions, in place and out of place.
template <class T>
std::int64_t differences_from_rounded_rotation() {
  std::int64_t differences = 0;
  int seed = 0;
  for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
    for (int rotary_dim : {0, 64, 20, 18})
      for (Positioning positioning : {Positioning::contiguous, Positioning::position_ids})
        for (Direction direction : {Direction::forward, Direction::backward}) {
          CaseSpec spec = grid_case(pairing, rotary_dim, positioning, 7000, seed++);
          spec.direction = direction;
          spec.batch = 2;
          spec.seq = 21;
          spec.q_heads = 4;
          const CaseResult result = run_case<TEST_EXECSPACE, T>(spec);
          const HostPositions h = make_positions(spec);
          const auto table = make_table<Kokkos::HostSpace, T>(spec.config, h.max_position + 3);
          const int d = spec.config.head_dim, r = spec.config.rotated_lanes();
          auto count = [&](const std::vector<double>& in, const std::vector<double>& out,
                           int heads) {
            for (std::size_t row = 0; row * d < in.size(); ++row) {
              const std::int64_t pos = h.row_position[row / heads];
              const double* x_in = &in[row * d];
              const double* x_out = &out[row * d];
              for (int p = 0; p < r / 2; ++p) {
                int l0 = 0, l1 = 0;
                Impl::pair_lanes(pairing, r, p, l0, l1);
                const T x = static_cast<T>(x_in[l0]), y = static_cast<T>(x_in[l1]);
                const T c = table.cos()(pos, p);
                const T s =
                    direction == Direction::forward ? table.sin()(pos, p) : -table.sin()(pos, p);
                differences += x_out[l0] != rounded_difference(x, c, y, s);
                differences += x_out[l1] != rounded_sum(x, s, y, c);
              }
              for (int lane = r; lane < d; ++lane) differences += x_out[lane] != x_in[lane];
            }
          };
          count(result.q_in, result.q_out, spec.q_heads);
          count(result.k_in, result.k_out, spec.k_heads);
        }
  return differences;
}

/// Largest distance in ulp between `spec` run on this backend and on the reference backend.
template <class T>
double distance_to_reference(const CaseSpec& spec) {
  const CaseResult here = run_case<TEST_EXECSPACE, T>(spec);
  const CaseResult reference = run_case<ReferenceSpace, T>(spec);
  return std::max(max_ulp_distance<T>(here.q_out, reference.q_out),
                  max_ulp_distance<T>(here.k_out, reference.k_out));
}

template <class T>
double worst_distance_to_serial() {
  double worst = 0;
  int seed = 0;
  for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
    for (int rotary_dim : {0, 64})
      for (Positioning positioning :
           {Positioning::contiguous, Positioning::sequence_offsets, Positioning::position_ids,
            Positioning::varlen, Positioning::axis_positions})
        for (AngleSource angles : {AngleSource::table, AngleSource::computed})
          for (Layout layout : {Layout::bshd, Layout::fused_qkv}) {
            CaseSpec spec = grid_case(pairing, rotary_dim, positioning, 9000, seed++);
            if (positioning == Positioning::axis_positions)  // M-RoPE; interleaved, per-axis
              spec.config.axes =
                  rotary_dim == 0
                      ? Axes{{16, 24, 24}, AxisLayout::chunked, AxisSpectrum::shared}
                      : Axes{{12, 10, 10}, AxisLayout::interleaved, AxisSpectrum::per_axis};
            spec.angles = angles;
            spec.layout = layout;
            spec.batch = 3;
            spec.seq = 37;
            spec.q_heads = 8;
            worst = std::max(worst, distance_to_reference<T>(spec));
          }
  return worst;
}

/// The same against Serial for partial rotary whose R/2 is not whole 16-byte chunks: GPUs
/// rotate it in chunks of 8 or 4 bytes (R = 24, 20 for 16-bit lanes; 20, 18 for fp32 and fp64),
/// or lane by lane (R = 18 for 16-bit lanes, and interleaved pairs), heads of 80 lanes.
template <class T>
double worst_partial_distance_to_serial() {
  double worst = 0;
  int seed = 0;
  for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
    for (int rotary_dim : {24, 20, 18})
      for (Positioning positioning : {Positioning::contiguous, Positioning::position_ids})
        for (AngleSource angles : {AngleSource::table, AngleSource::computed})
          for (Layout layout : {Layout::bshd, Layout::fused_qkv}) {
            CaseSpec spec = grid_case(pairing, rotary_dim, positioning, 5000, seed++);
            spec.config.head_dim = 80;
            spec.direction = seed % 3 == 0 ? Direction::backward : Direction::forward;
            spec.angles = angles;
            spec.layout = layout;
            spec.batch = 2;
            spec.seq = 29;
            spec.q_heads = 6;
            worst = std::max(worst, distance_to_reference<T>(spec));
          }
  return worst;
}

TEST(TEST_CATEGORY, rounds_every_product_and_sum) {
  EXPECT_EQ(differences_from_rounded_rotation<float>(), 0);
  EXPECT_EQ(differences_from_rounded_rotation<double>(), 0);
}

/// Every element type's largest distance to the reference backend over `grid`, printed with
/// `what`; each must be 0.
template <template <class> class Grid>
void expect_bit_identical(const char* what) {
  if (std::is_same<TEST_EXECSPACE, ReferenceSpace>::value)
    GTEST_SKIP() << "this is the reference backend itself";
  const double d = Grid<double>::run(), f = Grid<float>::run(), b = Grid<krope::bfloat16>::run(),
               h = Grid<krope::float16>::run();
  std::printf(
      "[krope] %s vs Serial, largest distance in ulp: double %.2f float %.2f bfloat16 %.2f "
      "float16 %.2f\n",
      what, d, f, b, h);
  EXPECT_EQ(d, 0.0);
  EXPECT_EQ(f, 0.0);
  EXPECT_EQ(b, 0.0);
  EXPECT_EQ(h, 0.0);
}
template <class T>
struct EveryModeGrid {
  static double run() { return worst_distance_to_serial<T>(); }
};
template <class T>
struct PartialRotaryGrid {
  static double run() { return worst_partial_distance_to_serial<T>(); }
};

TEST(TEST_CATEGORY, matches_serial_bit_for_bit) {
  expect_bit_identical<EveryModeGrid>("every mode");
}

TEST(TEST_CATEGORY, partial_rotary_matches_serial_bit_for_bit) {
  expect_bit_identical<PartialRotaryGrid>("partial rotary");
}

}  // namespace
