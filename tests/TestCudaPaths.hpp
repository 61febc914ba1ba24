// The CUDA specialization (krope::apply[cuda_vec16]) against the portable Kokkos kernel on the
// same device and against Serial, on the same inputs: every element type, pairing, partial
// rotary, position mode, angle source, in/out of place, strided layouts ([b][h][s][d] views, q/k
// head slices of a fused qkv buffer, aligned lane offsets) and odd head counts; the
// multi-head-per-thread launch shapes; and cases that must fall back to the portable kernel
// (misaligned data, head strides that are not 16-byte multiples, LayoutLeft, R/2 not a multiple
// of the vector width).
// Generated for the Cuda backend only (tests/CMakeLists.txt).

#include "support/apply_case.hpp"
#include "support/kernel_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#if defined(KOKKOS_ENABLE_CUDA)

namespace {

using namespace krope;
using namespace krope::test;

/// The kernels `body` ran, as KernelLog names them.
template <class F>
std::vector<std::string> kernels_of(F&& body) {
  KernelLog log;
  body();
  return log.kernels();
}
const std::vector<std::string> vec16_ran{"cuda_vec16"}, portable_ran{"portable"};

/// `spec` on Cuda through `kernel`; `ran` receives the kernels that ran.
template <class T>
CaseResult run_cuda(CaseSpec spec, Impl::KernelChoice kernel, std::vector<std::string>& ran) {
  spec.kernel = kernel;
  CaseResult r;
  ran = kernels_of([&] { r = run_case<Kokkos::Cuda, T>(spec); });
  return r;
}

struct Worst {
  double vs_portable = 0, vs_serial = 0;
};

/// Runs `spec` through the specialization, the portable kernel and Serial; compares all three.
template <class T>
void check_three_ways(const CaseSpec& spec, bool expect_vec16, Worst& worst) {
  std::vector<std::string> fast_ran, forced_ran;
  const CaseResult fast = run_cuda<T>(spec, Impl::KernelChoice::best, fast_ran);
  const CaseResult portable = run_cuda<T>(spec, Impl::KernelChoice::portable, forced_ran);
  const CaseResult serial = run_case<ReferenceSpace, T>(spec);
  EXPECT_EQ(fast_ran, expect_vec16 ? vec16_ran : portable_ran);
  EXPECT_EQ(forced_ran, portable_ran);
  const int d = spec.config.head_dim;
  // Bit for bit, fp64 table-free angles included: accurate_sincos rounds every step on its own.
  const double q_gen = max_ulp_distance<T>(fast.q_out, portable.q_out);
  const double k_gen = max_ulp_distance<T>(fast.k_out, portable.k_out);
  const double q_ser = max_ulp_distance<T>(fast.q_out, serial.q_out);
  const double k_ser = max_ulp_distance<T>(fast.k_out, serial.k_out);
  EXPECT_EQ(q_gen, 0.0);
  EXPECT_EQ(k_gen, 0.0);
  EXPECT_EQ(q_ser, 0.0);
  EXPECT_EQ(k_ser, 0.0);
  const double bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
  EXPECT_LE(fast.q_error, bound);
  EXPECT_LE(fast.k_error, bound);
  // Inputs identical across the three runs (same seed), so pass-through lanes are exact copies.
  const int r = spec.config.rotated_lanes();
  for (std::size_t row = 0; row < fast.q_in.size() / d; ++row)
    for (int lane = r; lane < d; ++lane)
      ASSERT_EQ(fast.q_out[row * d + lane], fast.q_in[row * d + lane]);
  worst.vs_portable = std::max({worst.vs_portable, q_gen, k_gen});
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
              for (Layout layout : {Layout::bshd, Layout::bhsd}) {
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
  std::printf(
      "[krope] cuda_vec16 %s: %d cases, largest distance in ulp vs portable %.2f, vs Serial "
      "%.2f\n",
      type_name<T>(), cases, worst.vs_portable, worst.vs_serial);
}

TEST(TEST_CATEGORY, cuda_paths_grid_float) { paths_grid<float>(); }
TEST(TEST_CATEGORY, cuda_paths_grid_bfloat16) { paths_grid<bfloat16>(); }
TEST(TEST_CATEGORY, cuda_paths_grid_float16) { paths_grid<float16>(); }
TEST(TEST_CATEGORY, cuda_paths_grid_double) { paths_grid<double>(); }

/// Decode-like, many-heads and many-tokens-per-block shapes through the public entry (default
/// launch shapes), table and computed angles.
TEST(TEST_CATEGORY, cuda_paths_shapes) {
  {
    Worst worst;
    struct Shape {
      int batch, seq, q_heads, k_heads, head_dim;
    };
    for (Shape s : {Shape{64, 1, 32, 8, 128}, Shape{1, 40, 1, 1, 128}, Shape{2, 33, 13, 1, 256},
                    Shape{5, 3, 3, 3, 16}, Shape{2, 100, 1, 1, 16}})
      for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
        for (AngleSource angles : {AngleSource::table, AngleSource::computed}) {
          CaseSpec spec;
          spec.config.head_dim = s.head_dim;
          spec.config.pairing = pairing;
          spec.angles = angles;  // computed with one q and one k head: the register-angle kernel
          spec.batch = s.batch;
          spec.seq = s.seq;
          spec.q_heads = s.q_heads;
          spec.k_heads = s.k_heads;
          spec.positioning = Positioning::sequence_offsets;
          spec.offset = 4000;
          SCOPED_TRACE(testing::Message()
                       << "shape " << s.batch << "x" << s.seq << "x" << s.q_heads << "/"
                       << s.k_heads << "x" << s.head_dim << " angles " << int(angles));
          check_three_ways<bfloat16>(spec, true, worst);
        }
  }
}

/// Many heads per token in large problems: table angles with Llama-3-70B's 64/8 bf16 heads (the
/// row kernel's blocks hold a fraction of a token's rows); computed angles with Llama-3-8B's 32/8
/// fp32 heads, which do not fit one block of the token kernel and are large enough (4 waves of
/// an H100) for q and k to get a launch each.
TEST(TEST_CATEGORY, cuda_paths_operands_apart) {
  {
    Worst worst;
    CaseSpec spec;
    spec.config.head_dim = 128;
    spec.batch = 2;
    spec.seq = 1000;
    spec.q_heads = 64;
    spec.k_heads = 8;
    spec.positioning = Positioning::sequence_offsets;
    spec.offset = 4000;
    check_three_ways<bfloat16>(spec, true, worst);
    spec.seq = 850;
    spec.q_heads = 32;
    spec.config.pairing = Pairing::interleaved;
    spec.angles = AngleSource::computed;
    check_three_ways<float>(spec, true, worst);
  }
}

/// q and k as slices of parent buffers [b][t][parent_heads][parent_dim]: q = heads [0, hq),
/// k = heads [hq, hq + hk), lanes [lane0, lane0 + head_dim). The parents are filled and read
/// back whole (contiguously), so any slicing works. Runs the public apply on Cuda (specialized,
/// then forced portable) and on Serial over identical data and compares the whole parents: the
/// rotated slices within 1 ulp, everything else bit-exact.
struct Slicing {
  int batch = 2, seq = 5, q_heads = 3, k_heads = 1, parent_heads = 6, parent_dim = 64, lane0 = 0;
};

template <class T, class Space, Impl::KernelChoice Kernel = Impl::KernelChoice::best>
std::vector<double> run_sliced(const Config& config, const Slicing& sl, bool in_place,
                               Direction direction, const std::vector<double>& data) {
  using M = typename Space::memory_space;
  using Parent = Kokkos::View<T****, Kokkos::LayoutRight, M>;
  using Slice = Kokkos::View<T****, Kokkos::LayoutStride, M>;
  const int d = config.head_dim;
  Parent in("in", sl.batch, sl.seq, sl.parent_heads, sl.parent_dim);
  Parent out("out", sl.batch, sl.seq, sl.parent_heads, sl.parent_dim);
  auto host = Kokkos::create_mirror(in);  // a copy even on the host: `in` keeps the data
  std::size_t n = 0;
  for_each_index(host, [&](auto... i) { host(i...) = from_double<T>(data[n++]); });
  Kokkos::deep_copy(in, host);
  for_each_index(host, [&](auto... i) { host(i...) = poison_value<T>(); });
  Kokkos::deep_copy(out, host);
  auto slice = [&](const Parent& p, int h0, int h1) -> Slice {
    return Kokkos::subview(p, Kokkos::ALL, Kokkos::ALL, std::make_pair(h0, h1),
                           std::make_pair(sl.lane0, sl.lane0 + d));
  };
  const Space space;
  const auto table = make_table<M, table_real_t<T>>(config, sl.seq + 40);
  const int hq = sl.q_heads, hk = sl.k_heads;
  const Slice q = slice(in, 0, hq), k = slice(in, hq, hq + hk);
  if (in_place)
    Impl::apply_rotary<Kernel>(space, table, q, k, q, k, krope::contiguous{7}, direction);
  else
    Impl::apply_rotary<Kernel>(space, table, q, k, slice(out, 0, hq), slice(out, hq, hq + hk),
                               krope::contiguous{7}, direction);
  space.fence();
  return to_doubles(in_place ? in : out);
}

template <class T>
void check_sliced(const Config& config, const Slicing& sl, bool in_place, Direction direction,
                  bool expect_vec16) {
  std::vector<double> data;
  std::mt19937_64 rng(4242 + sl.parent_dim + sl.lane0);
  std::normal_distribution<double> normal(0.0, 1.0);
  const std::size_t n = std::size_t(sl.batch) * sl.seq * sl.parent_heads * sl.parent_dim;
  for (std::size_t i = 0; i < n; ++i) data.push_back(to_double(from_double<T>(normal(rng))));
  std::vector<double> fast, portable;
  EXPECT_EQ(kernels_of(
                [&] { fast = run_sliced<T, Kokkos::Cuda>(config, sl, in_place, direction, data); }),
            expect_vec16 ? vec16_ran : portable_ran);
  EXPECT_EQ(kernels_of([&] {
              portable = run_sliced<T, Kokkos::Cuda, Impl::KernelChoice::portable>(
                  config, sl, in_place, direction, data);
            }),
            portable_ran);
  auto serial = run_sliced<T, ReferenceSpace>(config, sl, in_place, direction, data);
  // Elements outside the slices must be untouched (in place: the input, out of place: the
  // poison); then they are zeroed so the comparison below sees the slices only.
  const auto untouched = [&](const std::vector<double>& v, std::size_t i) {
    return in_place ? v[i] == data[i] : std::isnan(v[i]);
  };
  const int d = config.head_dim, pd = sl.parent_dim;
  for (std::size_t i = 0; i < n; ++i) {
    const int lane = int(i % pd), head = int((i / pd) % sl.parent_heads);
    const bool inside = head < sl.q_heads + sl.k_heads && lane >= sl.lane0 && lane < sl.lane0 + d;
    if (!inside) {
      ASSERT_TRUE(untouched(fast, i)) << "element " << i << " outside the slices was written";
      ASSERT_TRUE(untouched(portable, i)) << "element " << i;
      ASSERT_TRUE(untouched(serial, i)) << "element " << i;
      fast[i] = portable[i] = serial[i] = 0;
    }
  }
  EXPECT_EQ(max_ulp_distance<T>(fast, portable), 0.0);
  EXPECT_EQ(max_ulp_distance<T>(fast, serial), 0.0);
}

template <class T>
void sliced_cases() {
  constexpr int V = 16 / sizeof(T);
  for (bool in_place : {true, false})
    for (Pairing pairing : {Pairing::half_split, Pairing::interleaved}) {
      Config config;
      config.head_dim = 64;
      config.pairing = pairing;
      const Direction direction = in_place ? Direction::forward : Direction::backward;
      SCOPED_TRACE(testing::Message() << "in_place " << in_place << " pairing " << int(pairing));
      {  // fused qkv: q, k (and an untouched v) as head slices of one buffer
        SCOPED_TRACE("fused qkv");
        Slicing sl;
        sl.q_heads = 5;
        sl.k_heads = 3;
        sl.parent_heads = 5 + 2 * 3;
        check_sliced<T>(config, sl, in_place, direction, true);
      }
      {  // partial rotary inside a fused buffer
        SCOPED_TRACE("fused qkv, partial rotary");
        Config partial = config;
        partial.rotary_dim = 32;
        Slicing sl;
        sl.parent_heads = 3 + 2;
        check_sliced<T>(partial, sl, in_place, direction, true);
      }
      {  // lanes shifted by one element: data not 16-byte aligned -> portable
        SCOPED_TRACE("misaligned data");
        Slicing sl;
        sl.parent_heads = 4;
        sl.parent_dim = 64 + V;
        sl.lane0 = 1;
        check_sliced<T>(config, sl, in_place, direction, false);
      }
      if (sizeof(T) < 8) {  // head stride not a multiple of 16 bytes -> portable
        SCOPED_TRACE("head stride not a 16-byte multiple");
        Slicing sl;
        sl.parent_heads = 4;
        sl.parent_dim = 64 + 1;
        check_sliced<T>(config, sl, in_place, direction, false);
      }
      {  // wider rows, 16-byte aligned offset inside the row -> specialized
        SCOPED_TRACE("aligned lane offset");
        Slicing sl;
        sl.parent_heads = 4;
        sl.parent_dim = 64 + 2 * V;
        sl.lane0 = V;
        check_sliced<T>(config, sl, in_place, direction, true);
      }
    }
}

/// Cases the specialization must hand to the portable kernel; results still right.
template <class T>
void fallback_cases() {
  using M = Kokkos::CudaSpace;
  const Kokkos::Cuda space;
  CaseSpec spec;
  spec.config.head_dim = 64;
  spec.batch = 2;
  spec.seq = 6;
  spec.q_heads = 3;
  spec.k_heads = 1;
  const HostPositions h = make_positions(spec);
  for (bool in_place : {true, false}) {  // LayoutLeft: the innermost dimension is strided
    spec.in_place = in_place;
    SCOPED_TRACE(testing::Message() << "LayoutLeft, in_place " << in_place);
    Kokkos::View<T****, Kokkos::LayoutLeft, M> q("q", spec.batch, spec.seq, spec.q_heads, 64),
        k("k", spec.batch, spec.seq, spec.k_heads, 64);
    CaseResult r;
    EXPECT_EQ(kernels_of([&] { r = run_on_views<Kokkos::Cuda, T>(space, spec, h, q, k); }),
              portable_ran);
    const double bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
    EXPECT_LE(r.q_error, bound);
    EXPECT_LE(r.k_error, bound);
  }
  // Rotary halves that are not whole vectors (R/2 = 15).
  for (Pairing pairing : {Pairing::half_split, Pairing::interleaved}) {
    CaseSpec odd = spec;
    odd.config.rotary_dim = 30;
    odd.config.pairing = pairing;
    Worst worst;
    check_three_ways<T>(odd, false, worst);
  }
  sliced_cases<T>();
}

TEST(TEST_CATEGORY, cuda_paths_fallback_float) { fallback_cases<float>(); }
TEST(TEST_CATEGORY, cuda_paths_fallback_bfloat16) { fallback_cases<bfloat16>(); }
TEST(TEST_CATEGORY, cuda_paths_fallback_float16) { fallback_cases<float16>(); }
TEST(TEST_CATEGORY, cuda_paths_fallback_double) { fallback_cases<double>(); }

/// Tuning that batches up to 8 heads of a token on one thread and loads plainly: exercises the
/// token kernel's per-thread head batch (computed angles; ragged: 10 heads over 2 groups) and the
/// non-streaming accessors (both kernels).
struct BatchedTuning : Impl::cuda::RotaryTuning {
  static constexpr int waves = 0;
  static constexpr int max_heads_per_thread = 8;
  static constexpr int staged_max_heads_per_thread = 8;
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
  const Impl::ContiguousTokens tokens{Impl::SequenceSplit(t, b * t), 5};
  auto rotation = [&](View4 qi, View4 qo, View4 ki, View4 ko) {
    return R{angles, tokens, qi, qo,         ki,      ko,        b * t,
             hq,     hk,     d,  rotary_dim, pairing, direction, in_place};
  };
  const R fast =
      in_place ? rotation(q_fast, q_fast, k_fast, k_fast) : rotation(q, q_fast, k, k_fast);
  const R portable = in_place ? rotation(q_gen, q_gen, k_gen, k_gen) : rotation(q, q_gen, k, k_gen);
  ASSERT_TRUE(Impl::cuda::launch_vec16<BatchedTuning>(space, fast));
  Impl::Apply<Kokkos::Cuda, R, false>::run(space, portable);
  space.fence();
  EXPECT_EQ(max_ulp_distance<T>(to_doubles(q_fast), to_doubles(q_gen)), 0.0);
  EXPECT_EQ(max_ulp_distance<T>(to_doubles(k_fast), to_doubles(k_gen)), 0.0);
}

TEST(TEST_CATEGORY, cuda_paths_batched_heads) {
  {
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
    // The shapes the defaults pick. Table angles, token-major data: the row kernel's blocks
    // take runs of one operand's rows; decode shrinks them to spread over the SMs.
    using Tuning = Impl::cuda::RotaryTuning;
    Impl::cuda::RowShape rows;
    ASSERT_TRUE(Impl::cuda::choose_row_shape<Tuning>(132, 64 * 32, 64 * 8, 8, rows));
    EXPECT_GE(rows.grid.x, 2u * 132);
    EXPECT_EQ(rows.q_blocks, (64 * 32 + rows.block.y - 1) / rows.block.y);
    ASSERT_TRUE(Impl::cuda::choose_row_shape<Tuning>(132, 32768 * 32, 32768 * 8, 8, rows));
    EXPECT_EQ(rows.block.x * rows.block.y, unsigned(Tuning::block_threads));
    EXPECT_EQ(rows.q_blocks, 32768 * 32 / rows.block.y);
    EXPECT_EQ(rows.grid.x, 32768u * 40 / rows.block.y);
    // A tiny problem: one row per block, q's blocks first.
    ASSERT_TRUE(Impl::cuda::choose_row_shape<Tuning>(132, 15, 5, 64, rows));
    EXPECT_EQ(rows.block.y, 1u);
    EXPECT_EQ(rows.q_blocks, 15);
    // Staged angles: heads batched per thread, the token's cos/sin rows in shared memory.
    Impl::cuda::LaunchShape shape;
    const std::size_t row_bytes = 2 * 64 * sizeof(float);  // R/2 cos + R/2 sin, fp32
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 32768, 8, 40, row_bytes, shape));
    EXPECT_EQ(shape.head_groups, 40 / Tuning::staged_max_heads_per_thread);
    EXPECT_EQ(shape.shared_bytes, shape.block.z * row_bytes);
    EXPECT_LE(shape.block.x * shape.block.y * shape.block.z,
              unsigned(Tuning::staged_block_threads));
    // Two heads with staged angles: one head per thread, so a token's angles are split in two.
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 63488, 8, 2, row_bytes, shape));
    EXPECT_EQ(shape.head_groups, 2);
    EXPECT_FALSE(shape.tokens_inner);
    // Heads outermost ([b][h][t][d]): a few head groups per block, consecutive tokens in y.
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 32768, 8, 40, 0, shape, true));
    EXPECT_TRUE(shape.tokens_inner);
    EXPECT_EQ(shape.block.z, unsigned(Tuning::heads_outer_block_groups));
    EXPECT_EQ(shape.block.y, unsigned(Tuning::heads_outer_block_threads / (8 * shape.block.z)));
    EXPECT_EQ(shape.grid.y, 40u / shape.block.z);
    // cuda_paths_operands_apart's fp32 case (computed angles, 32 + 8 heads of 16 vector pairs):
    // they do not fit a block, split over grid.y (launch_vec16 then gives q and k a launch
    // each, whose heads fit), and the problem is large enough for that.
    const std::size_t fp32_row_bytes = 2 * 64 * sizeof(float);
    ASSERT_TRUE(
        Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 1700, 16, 40, fp32_row_bytes, shape));
    EXPECT_EQ(shape.grid.y, 2u);
    ASSERT_TRUE(
        Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 1700, 16, 32, fp32_row_bytes, shape));
    EXPECT_EQ(shape.grid.y, 1u);
    EXPECT_GE(std::int64_t(1700) * 16 * 40, Tuning::operands_apart_waves * 132 * 2048);
    // One vector pair per head row (R/2 = V): blockDim.z stays within its limit of 64 tokens.
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Tuning>(132, 2048, 1 << 20, 1, 2, 0, shape));
    EXPECT_LE(shape.block.z, 64u);
  }
}

/// The L1 / shared memory carveout of every kernel a call launches, read from a CUDA graph
/// captured around the call (Kokkos 3.4 prefers shared memory for the whole device when it
/// initialises; a launch that states nothing gets the smallest L1). Capturing also shows that a
/// call neither synchronises nor allocates. No KernelLog may be alive here: from Kokkos 3.5 on, a
/// profiling callback fences the device at every region and kernel, which a capture forbids.
template <class F>
std::vector<int> captured_carveouts(F&& call) {
  cudaStream_t stream;
  EXPECT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  std::vector<int> carveouts;
  {
    const Kokkos::Cuda space(stream);
    EXPECT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    // A call that throws must still end the capture: a capture left open fails every later
    // cudaFree of this thread, the instance's own at the end of this block first.
    try {
      call(space);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the captured call threw: " << e.what();
    }
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    std::size_t count = 0;
    if (graph != nullptr) EXPECT_EQ(cudaGraphGetNodes(graph, nullptr, &count), cudaSuccess);
    std::vector<cudaGraphNode_t> nodes(count);
    EXPECT_EQ(cudaGraphGetNodes(graph, nodes.data(), &count), cudaSuccess);
    for (cudaGraphNode_t node : nodes) {
      cudaGraphNodeType type;
      EXPECT_EQ(cudaGraphNodeGetType(node, &type), cudaSuccess);
      if (type != cudaGraphNodeTypeKernel) continue;
      cudaKernelNodeAttrValue value = {};
      EXPECT_EQ(cudaGraphKernelNodeGetAttribute(
                    node, cudaKernelNodeAttributePreferredSharedMemoryCarveout, &value),
                cudaSuccess);
      carveouts.push_back(int(value.sharedMemCarveout));
    }
    if (graph != nullptr) EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  }
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  return carveouts;
}

__global__ void carveout_probe_kernel(int* x) { x[threadIdx.x] = int(threadIdx.x); }

TEST(TEST_CATEGORY, cuda_paths_cache_carveout) {
  {
    using M = Kokkos::CudaSpace;
    using T = bfloat16;
    Config config;
    config.head_dim = 128;
    const int b = 2, t = 64, hq = 32, hk = 8, d = 128;
    const auto table = make_table<M, float>(config, t);
    const auto frequencies = make_frequencies<M>(config, t);
    Kokkos::View<T****, Kokkos::LayoutRight, M> q("q", b, t, hq, d), k("k", b, t, hk, d);
    fill_gaussian(q, 81);
    fill_gaussian(k, 82);
    const cudaDeviceProp& prop = Kokkos::Cuda().cuda_device_prop();

    // The capture reads back what a launch asked for (a check of the check).
    Kokkos::View<int*, M> scratch("scratch", 32);
    const std::vector<int> probe = captured_carveouts([&](const Kokkos::Cuda& space) {
      EXPECT_EQ(Impl::cuda::launch_with_carveout(&carveout_probe_kernel, dim3(1), dim3(32), 0,
                                                 space.cuda_stream(), 37, scratch.data()),
                cudaSuccess);
    });
    EXPECT_EQ(probe, std::vector<int>{37});

    // Table angles: no shared memory, all of it L1 (row kernel; [b][h][t][d] token kernel).
    EXPECT_EQ(captured_carveouts([&](const Kokkos::Cuda& space) {
                krope::apply(space, table, q, k, contiguous{0});
              }),
              std::vector<int>{0});
    using Strided = Kokkos::View<T****, Kokkos::LayoutStride, M>;
    const Strided qs(q.data(), Kokkos::LayoutStride(b, hq * t * d, t, d, hq, t * d, d, 1));
    const Strided ks(k.data(), Kokkos::LayoutStride(b, hk * t * d, t, d, hk, t * d, d, 1));
    EXPECT_EQ(kernels_of([&] { krope::apply(Kokkos::Cuda(), table, qs, ks, contiguous{0}); }),
              vec16_ran);
    EXPECT_EQ(captured_carveouts([&](const Kokkos::Cuda& space) {
                krope::apply(space, table, qs, ks, contiguous{0});
              }),
              std::vector<int>{0});

    // Computed angles over 40 heads: cos/sin staged in shared memory; the carveout leaves room
    // for a full SM of the launch's blocks.
    const std::size_t row_bytes = 2 * 64 * sizeof(float);
    Impl::cuda::LaunchShape shape;
    ASSERT_TRUE(Impl::cuda::choose_launch_shape<Impl::cuda::RotaryTuning>(
        prop.multiProcessorCount, prop.maxThreadsPerMultiProcessor, b * t, 8, hq + hk, row_bytes,
        shape));
    const int staged = Impl::cuda::shared_carveout_percent(shape.shared_bytes, shape.block, prop);
    EXPECT_GT(staged, 0);
    EXPECT_EQ(captured_carveouts([&](const Kokkos::Cuda& space) {
                krope::apply(space, frequencies, q, k, contiguous{0});
              }),
              std::vector<int>{staged});

    // The percent itself: none for no shared memory, rounded up, at most 100 (2048 threads per
    // SM: 8 blocks of 256, 4 of 512).
    cudaDeviceProp model{};
    model.sharedMemPerMultiprocessor = 228 * 1024;
    model.reservedSharedMemPerBlock = 1024;
    model.maxThreadsPerMultiProcessor = 2048;
    EXPECT_EQ(Impl::cuda::shared_carveout_percent(0, dim3(256), model), 0);
    EXPECT_EQ(Impl::cuda::shared_carveout_percent(1024, dim3(8, 64), model), 4);      // 8 of 228 KB
    EXPECT_EQ(Impl::cuda::shared_carveout_percent(48 * 1024, dim3(512), model), 86);  // 196 KB
    EXPECT_EQ(Impl::cuda::shared_carveout_percent(48 * 1024, dim3(256), model), 100);
  }
}

}  // namespace

#endif  // KOKKOS_ENABLE_CUDA
