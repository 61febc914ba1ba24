// The CUDA specialization (krope::apply[cuda_vec16]) against the generic Kokkos kernel on the
// same device and against Serial, on the same inputs: every element type, pairing, partial
// rotary, position mode, angle source, in/out of place, strided layout and odd head counts; the
// multi-head-per-thread launch shapes; and cases that must fall back to the generic kernel.
// Only meaningful for the Cuda backend: on any other backend every test is skipped.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(KOKKOS_ENABLE_CUDA)

namespace {

using namespace krope;
using namespace krope::test;

template <class Space, class F>
void on_cuda(F&& body) {
  if constexpr (std::is_same<Space, Kokkos::Cuda>::value)
    body(Space{});
  else
    GTEST_SKIP() << "CUDA specialization tests run on the Cuda backend only";
}

template <class T>
const char* type_name() {
  return std::is_same<T, double>::value     ? "double"
         : std::is_same<T, float>::value    ? "float"
         : std::is_same<T, bfloat16>::value ? "bfloat16"
                                            : "float16";
}

template <class T>
int mantissa_bits() {
  return std::is_same<T, double>::value    ? 53
         : std::is_same<T, float>::value   ? 24
         : std::is_same<T, float16>::value ? 11
                                           : 8;
}

/// Worst |a - b| over elements, in units of `1 ulp of T at max(|a|, |b|) + FMA slack`: two
/// kernels computing x*c - y*s in the arithmetic precision may contract differently, which moves
/// the unrounded result by up to a few arithmetic ulps of |x| + |y| (the head row's largest input
/// bounds that); a correct pair of kernels stays <= 1.
template <class T>
double worst_distance(const std::vector<double>& a, const std::vector<double>& b,
                      const std::vector<double>& input, int head_dim) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  using Real = Impl::arithmetic_t<T>;
  const double arithmetic_eps = std::numeric_limits<Real>::epsilon();
  double worst = 0;
  for (std::size_t row = 0; row < a.size() / head_dim; ++row) {
    double row_max = 0;
    for (int d = 0; d < head_dim; ++d) row_max = std::max(row_max, std::abs(input[row * head_dim + d]));
    for (int d = 0; d < head_dim; ++d) {
      const std::size_t i = row * head_dim + d;
      if (std::isnan(a[i]) || std::isnan(b[i])) return std::numeric_limits<double>::infinity();
      int exponent;
      std::frexp(std::max({std::abs(a[i]), std::abs(b[i]), 1e-30}), &exponent);
      const double ulp = std::ldexp(1.0, exponent - mantissa_bits<T>());
      const double slack = 8 * arithmetic_eps * row_max;
      worst = std::max(worst, std::abs(a[i] - b[i]) / (ulp + slack));
    }
  }
  return worst;
}

/// Sets Impl::cuda_force_generic for one scope.
struct ForceGeneric {
  explicit ForceGeneric(bool on) { Impl::cuda_force_generic = on; }
  ~ForceGeneric() { Impl::cuda_force_generic = false; }
};

template <class T>
CaseResult run_cuda(const CaseSpec& spec, bool force_generic, Impl::CudaPath& path) {
  ForceGeneric force(force_generic);
  Impl::cuda_last_path = Impl::CudaPath::none;
  CaseResult r = run_case<Kokkos::Cuda, T>(spec);
  path = Impl::cuda_last_path.load();
  return r;
}

struct Worst {
  double vs_generic = 0, vs_serial = 0;
};

/// Runs `spec` through the specialization, the generic kernel and Serial; compares all three.
template <class T>
void check_three_ways(const CaseSpec& spec, bool expect_vec16, Worst& worst) {
  Impl::CudaPath fast_path, generic_path;
  const CaseResult fast = run_cuda<T>(spec, false, fast_path);
  const CaseResult generic = run_cuda<T>(spec, true, generic_path);
  const CaseResult serial = run_case<Kokkos::Serial, T>(spec);
  EXPECT_EQ(int(fast_path), int(expect_vec16 ? Impl::CudaPath::vec16 : Impl::CudaPath::generic));
  EXPECT_EQ(int(generic_path), int(Impl::CudaPath::generic));
  const int d = spec.config.head_dim;
  const double q_gen = worst_distance<T>(fast.q_out, generic.q_out, fast.q_in, d);
  const double k_gen = worst_distance<T>(fast.k_out, generic.k_out, fast.k_in, d);
  const double q_ser = worst_distance<T>(fast.q_out, serial.q_out, fast.q_in, d);
  const double k_ser = worst_distance<T>(fast.k_out, serial.k_out, fast.k_in, d);
  EXPECT_LE(q_gen, 1.0);
  EXPECT_LE(k_gen, 1.0);
  EXPECT_LE(q_ser, 1.0);
  EXPECT_LE(k_ser, 1.0);
  const double bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
  EXPECT_LE(fast.q_error, bound);
  EXPECT_LE(fast.k_error, bound);
  // Inputs identical across the three runs (same seed), so pass-through lanes are exact copies.
  const int r = spec.config.rotated_lanes();
  for (std::size_t row = 0; row < fast.q_in.size() / d; ++row)
    for (int lane = r; lane < d; ++lane)
      ASSERT_EQ(fast.q_out[row * d + lane], fast.q_in[row * d + lane]);
  worst.vs_generic = std::max({worst.vs_generic, q_gen, k_gen});
  worst.vs_serial = std::max({worst.vs_serial, q_ser, k_ser});
}

template <class T>
void paths_grid() {
  int cases = 0;
  Worst worst;
  for (int head_dim : {64, 128})
    for (int rotary_dim : {0, head_dim / 2})
      for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
        for (Positioning positioning : {Positioning::contiguous, Positioning::sequence_offsets,
                                        Positioning::position_ids, Positioning::varlen})
          for (AngleSource angles : {AngleSource::table, AngleSource::computed})
            for (bool in_place : {true, false})
              for (Layout layout : {Layout::bshd, Layout::bhsd, Layout::fused_qkv}) {
                if (positioning == Positioning::varlen && layout != Layout::bshd) continue;
                if (head_dim == 64 && (angles == AngleSource::computed || rotary_dim != 0))
                  continue;  // head_dim 64 samples the smaller rows only
                CaseSpec spec;
                spec.config.head_dim = head_dim;
                spec.config.rotary_dim = rotary_dim;
                spec.config.pairing = pairing;
                spec.config.theta = cases % 2 ? 5e5 : 1e4;
                spec.positioning = positioning;
                spec.angles = angles;
                spec.in_place = in_place;
                spec.layout = layout;
                spec.direction = cases % 3 == 1 ? Direction::backward : Direction::forward;
                spec.batch = 3;
                spec.seq = 5 + cases % 3;
                spec.q_heads = cases % 2 ? 5 : 7;  // odd head counts, GQA
                spec.k_heads = cases % 2 ? 3 : 1;
                spec.offset = 100 + 37 * cases;
                spec.seed = 9000 + cases;
                SCOPED_TRACE(testing::Message()
                             << type_name<T>() << " head_dim " << head_dim << " rotary_dim "
                             << rotary_dim << " pairing " << int(pairing) << " positioning "
                             << int(positioning) << " angles " << int(angles) << " in_place "
                             << in_place << " layout " << int(layout) << " direction "
                             << int(spec.direction));
                check_three_ways<T>(spec, true, worst);
                ++cases;
                if (::testing::Test::HasFailure()) return;
              }
  std::printf("[krope] cuda_vec16 %s: %d cases, worst distance vs generic %.3f, vs Serial %.3f "
              "(units: 1 ulp + FMA slack)\n",
              type_name<T>(), cases, worst.vs_generic, worst.vs_serial);
}

TEST(TEST_CATEGORY, cuda_paths_grid_float) {
  on_cuda<TEST_EXECSPACE>([](auto) { paths_grid<float>(); });
}
TEST(TEST_CATEGORY, cuda_paths_grid_bfloat16) {
  on_cuda<TEST_EXECSPACE>([](auto) { paths_grid<bfloat16>(); });
}
TEST(TEST_CATEGORY, cuda_paths_grid_float16) {
  on_cuda<TEST_EXECSPACE>([](auto) { paths_grid<float16>(); });
}
TEST(TEST_CATEGORY, cuda_paths_grid_double) {
  on_cuda<TEST_EXECSPACE>([](auto) { paths_grid<double>(); });
}

/// Decode-like and many-heads shapes through the public entry (default launch shapes).
TEST(TEST_CATEGORY, cuda_paths_shapes) {
  on_cuda<TEST_EXECSPACE>([](auto) {
    Worst worst;
    struct Shape {
      int batch, seq, q_heads, k_heads, head_dim;
    };
    for (Shape s : {Shape{64, 1, 32, 8, 128}, Shape{1, 40, 1, 1, 128}, Shape{2, 33, 13, 1, 256},
                    Shape{5, 3, 3, 3, 16}})
      for (Pairing pairing : {Pairing::half_split, Pairing::interleaved}) {
        CaseSpec spec;
        spec.config.head_dim = s.head_dim;
        spec.config.pairing = pairing;
        spec.batch = s.batch;
        spec.seq = s.seq;
        spec.q_heads = s.q_heads;
        spec.k_heads = s.k_heads;
        spec.positioning = Positioning::sequence_offsets;
        spec.offset = 4000;
        SCOPED_TRACE(testing::Message() << "shape " << s.batch << "x" << s.seq << "x" << s.q_heads
                                        << "/" << s.k_heads << "x" << s.head_dim);
        check_three_ways<bfloat16>(spec, true, worst);
      }
  });
}

/// Cases the specialization must hand to the generic kernel; results still right.
template <class T>
void fallback_cases() {
  using M = Kokkos::CudaSpace;
  const Kokkos::Cuda space;
  auto expect_generic = [&](const CaseSpec& spec, const HostPositions& h, auto q, auto k,
                            const char* what) {
    SCOPED_TRACE(what);
    Impl::cuda_last_path = Impl::CudaPath::none;
    const CaseResult r = run_on_views<Kokkos::Cuda, T>(space, spec, h, q, k);
    EXPECT_EQ(int(Impl::cuda_last_path.load()), int(Impl::CudaPath::generic));
    const double bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
    EXPECT_LE(r.q_error, bound);
    EXPECT_LE(r.k_error, bound);
  };
  CaseSpec spec;
  spec.config.head_dim = 64;
  spec.batch = 2;
  spec.seq = 6;
  spec.q_heads = 3;
  spec.k_heads = 1;
  const HostPositions h = make_positions(spec);
  const int b = spec.batch, t = spec.seq, hq = spec.q_heads, hk = spec.k_heads, d = 64;
  constexpr int V = 16 / sizeof(T);
  for (bool in_place : {true, false}) {
    spec.in_place = in_place;
    {  // innermost dimension shifted by one element: data not 16-byte aligned
      Kokkos::View<T****, Kokkos::LayoutRight, M> qb("qb", b, t, hq, d + V), kb("kb", b, t, hk, d + V);
      Kokkos::View<T****, Kokkos::LayoutStride, M> q =
          Kokkos::subview(qb, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL, std::make_pair(1, d + 1));
      Kokkos::View<T****, Kokkos::LayoutStride, M> k =
          Kokkos::subview(kb, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL, std::make_pair(1, d + 1));
      expect_generic(spec, h, q, k, "misaligned data");
    }
    {  // LayoutLeft: the innermost dimension is strided
      Kokkos::View<T****, Kokkos::LayoutLeft, M> q("q", b, t, hq, d), k("k", b, t, hk, d);
      expect_generic(spec, h, q, k, "LayoutLeft");
    }
    if (sizeof(T) < 8) {  // head stride not a multiple of 16 bytes
      Kokkos::View<T****, Kokkos::LayoutRight, M> qb("qb", b, t, hq, d + 1), kb("kb", b, t, hk, d + 1);
      Kokkos::View<T****, Kokkos::LayoutStride, M> q =
          Kokkos::subview(qb, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL, std::make_pair(0, d));
      Kokkos::View<T****, Kokkos::LayoutStride, M> k =
          Kokkos::subview(kb, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL, std::make_pair(0, d));
      expect_generic(spec, h, q, k, "head stride not 16-byte multiple");
    }
  }
  // Rotary halves that are not whole vectors (R/2 = 15).
  for (Pairing pairing : {Pairing::half_split, Pairing::interleaved}) {
    CaseSpec odd = spec;
    odd.config.rotary_dim = 30;
    odd.config.pairing = pairing;
    Worst worst;
    check_three_ways<T>(odd, false, worst);
  }
}

TEST(TEST_CATEGORY, cuda_paths_fallback_float) {
  on_cuda<TEST_EXECSPACE>([](auto) { fallback_cases<float>(); });
}
TEST(TEST_CATEGORY, cuda_paths_fallback_bfloat16) {
  on_cuda<TEST_EXECSPACE>([](auto) { fallback_cases<bfloat16>(); });
}

/// Tuning that batches every head of a token on one thread and loads plainly: exercises the
/// heads_unroll loop (with a ragged last batch) and the non-streaming accessors.
struct BatchedTuning : Impl::cuda::RotaryTuning {
  static constexpr int waves = 0;
  static constexpr bool streaming = false;
};

template <class T, class Source>
void batched_heads(const Source& source, Pairing pairing, int rotary_dim, bool in_place,
                   Direction direction) {
  using M = Kokkos::CudaSpace;
  using View4 = Kokkos::View<T****, Kokkos::LayoutRight, M>;
  const Kokkos::Cuda space;
  const int b = 3, t = 17, hq = 7, hk = 3, d = 128;
  View4 q("q", b, t, hq, d), k("k", b, t, hk, d);
  fill_gaussian(q, 71);
  fill_gaussian(k, 72);
  View4 q_fast("q_fast", b, t, hq, d), k_fast("k_fast", b, t, hk, d);
  View4 q_gen("q_gen", b, t, hq, d), k_gen("k_gen", b, t, hk, d);
  if (in_place) {
    Kokkos::deep_copy(q_fast, q);
    Kokkos::deep_copy(k_fast, k);
    Kokkos::deep_copy(q_gen, q);
    Kokkos::deep_copy(k_gen, k);
  } else {
    poison(q_fast);
    poison(k_fast);
    poison(q_gen);
    poison(k_gen);
  }
  auto angles = Impl::angles_of<Impl::arithmetic_t<T>>(source);
  using R = Impl::Rotation<decltype(angles), Impl::ContiguousTokens, View4, View4, View4, View4>;
  const Impl::ContiguousTokens tokens{t, 5};
  auto rotation = [&](View4 qi, View4 qo, View4 ki, View4 ko) {
    return R{angles, tokens, qi, qo, ki, ko, b * t, hq, hk, d, rotary_dim, pairing, direction,
             in_place};
  };
  const R fast = in_place ? rotation(q_fast, q_fast, k_fast, k_fast) : rotation(q, q_fast, k, k_fast);
  const R generic = in_place ? rotation(q_gen, q_gen, k_gen, k_gen) : rotation(q, q_gen, k, k_gen);
  ASSERT_TRUE(Impl::cuda::launch_vec16<BatchedTuning>(space, fast));
  Impl::apply_generic(space, generic);
  space.fence();
  const std::vector<double> in_q = to_doubles(q), in_k = to_doubles(k);
  EXPECT_LE(worst_distance<T>(to_doubles(q_fast), to_doubles(q_gen), in_q, d), 1.0);
  EXPECT_LE(worst_distance<T>(to_doubles(k_fast), to_doubles(k_gen), in_k, d), 1.0);
}

TEST(TEST_CATEGORY, cuda_paths_batched_heads) {
  on_cuda<TEST_EXECSPACE>([](auto) {
    using M = Kokkos::CudaSpace;
    Config config;
    config.head_dim = 128;
    for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
      for (int rotary_dim : {128, 64})
        for (bool in_place : {true, false}) {
          config.pairing = pairing;
          config.rotary_dim = rotary_dim;
          SCOPED_TRACE(testing::Message() << "pairing " << int(pairing) << " rotary_dim "
                                          << rotary_dim << " in_place " << in_place);
          const auto table = make_table<M, float>(config, 64);
          const auto frequencies = make_frequencies<M>(config, 64);
          batched_heads<bfloat16>(table, pairing, rotary_dim, in_place, Direction::forward);
          batched_heads<float>(frequencies, pairing, rotary_dim, in_place, Direction::backward);
        }
    // The shapes the defaults pick: decode spreads heads, long prefill batches them.
    Impl::cuda::LaunchShape shape;
    using Tuning = Impl::cuda::RotaryTuning;
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 64, 8, 40, 0, shape));
    EXPECT_EQ(shape.head_groups, 40);
    EXPECT_GE(std::int64_t(shape.grid.x) * shape.grid.y, 2 * 132);
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 32768, 8, 40, 0, shape));
    EXPECT_EQ(shape.head_groups, 5);
    EXPECT_LE(shape.block.x * shape.block.y * shape.block.z, unsigned(Tuning::block_threads));
  });
}

}  // namespace

#endif  // KOKKOS_ENABLE_CUDA
