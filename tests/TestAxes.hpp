// Multi-axis RoPE (Config::axes, krope::axis_positions): HF transformers' own multi-axis
// outputs (tests/data/mrope_vectors.json: Qwen2-VL M-RoPE, Qwen3-VL interleaved M-RoPE, the
// Qwen2-VL vision tower's 2-D RoPE) on this backend; one axis and equal axes give today's RoPE
// bit for bit; a grid of layouts, spectra, pairings, types and angle sources against the fp64
// reference through both kernels.

#include "support/apply_case.hpp"
#include "support/json_data.hpp"
#include "support/pair_ulps.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;

/// The Config of one mrope_vectors.json case, as HF's code for its kind lays out the axes.
Config config_of(const Json& entry, int head_dim) {
  Config config;
  config.head_dim = head_dim;
  config.theta = as_double(entry.at("theta"));
  const std::string kind = entry.at("kind").get<std::string>();
  if (kind == "vision2d") {  // Qwen2VLVisionRotaryEmbedding: (h, w), D/4 pairs each, own spectra
    config.axes.pairs = {head_dim / 4, head_dim / 4};
    config.axes.spectrum = AxisSpectrum::per_axis;
  } else {
    for (auto n : as_int64s(entry.at("mrope_section")))
      config.axes.pairs.push_back(static_cast<int>(n));
    config.axes.layout = kind == "imrope" ? AxisLayout::interleaved : AxisLayout::chunked;
  }
  return config;
}

/// Compares q and k (both loaded with x) with y, in fp32 ulps of each pair's norm.
template <class View>
void expect_outputs(const Json& entry, const Config& config, const View& q, const View& k,
                    const char* how) {
  Space().fence();
  const auto x = as_doubles(entry.at("x")), y = as_doubles(entry.at("y"));
  const double ulps = std::max(max_pair_ulps(to_doubles(q), y, x, config),
                               max_pair_ulps(to_doubles(k), y, x, config));
  std::printf("[krope] HF multi-axis vector %-22s %-26s max distance %.2f fp32 ulp\n",
              entry.at("name").get<std::string>().c_str(), how, ulps);
  EXPECT_LE(ulps, 2.0) << entry.at("name").get<std::string>() << " " << how;
}

/// One case through a Table and through Frequencies, as packed [tokens][heads][dim] data with
/// [tokens][axes] ids (LayoutLeft: the file's [axes][tokens] memory), and as [1][tokens] batches
/// whose [1][tokens][axes] ids view HF's [axes][batch][seq] position_ids in place.
template <class Rotary>
void run_entry(const Json& entry, const Rotary& rotary, const char* source) {
  const auto shape = as_int64s(entry.at("shape"));
  const auto x = as_doubles(entry.at("x"));
  const Json& positions = entry.at("positions");
  const std::int64_t tokens = shape[0], heads = shape[1], dim = shape[2];
  const int axes = static_cast<int>(positions.size());
  const Config config = config_of(entry, static_cast<int>(dim));

  Kokkos::View<std::int64_t**, Kokkos::LayoutLeft, Memory> ids("ids", tokens, axes);
  auto host = Kokkos::create_mirror_view(ids);
  for (int a = 0; a < axes; ++a) {
    const auto row = as_int64s(positions.at(a));
    ASSERT_EQ(static_cast<std::int64_t>(row.size()), tokens);
    for (std::int64_t t = 0; t < tokens; ++t) host(t, a) = row[t];
  }
  Kokkos::deep_copy(ids, host);

  Kokkos::View<float***, Kokkos::LayoutRight, Memory> q("q", tokens, heads, dim),
      k("k", tokens, heads, dim);
  load_into(q, x);
  load_into(k, x);
  krope::apply(Space(), rotary, q, k, krope::axis_positions{ids});
  expect_outputs(entry, config, q, k, (std::string(source) + ", packed").c_str());

  Kokkos::View<float****, Kokkos::LayoutRight, Memory> q4("q4", 1, tokens, heads, dim),
      k4("k4", 1, tokens, heads, dim);
  load_into(q4, x);
  load_into(k4, x);
  Kokkos::View<const std::int64_t***, Kokkos::LayoutStride, Memory> hf_ids(
      ids.data(), Kokkos::LayoutStride(1, tokens * axes, tokens, 1, axes, tokens));
  krope::apply(Space(), rotary, q4, k4, krope::axis_positions{hf_ids});
  expect_outputs(entry, config, q4, k4, (std::string(source) + ", [3][b][t] ids").c_str());
}

TEST(TEST_CATEGORY, hf_multi_axis_reference_vectors) {
  const Json data = load_json(std::string(KROPE_TEST_DATA_DIR) + "/mrope_vectors.json");
  const Json& cases = data.at("cases");
  ASSERT_EQ(cases.size(), 7u);
  for (const Json& entry : cases) {
    const Config config = config_of(entry, static_cast<int>(as_int64s(entry.at("shape"))[2]));
    run_entry(entry, make_table<Memory>(config, 8192), "table");
    run_entry(entry, make_frequencies<Memory>(config), "table-free");
  }
}

/// The outputs of `a` and `b` have the same bits.
void expect_same_bits(const CaseResult& a, const CaseResult& b, const std::string& what) {
  ASSERT_EQ(a.q_out.size(), b.q_out.size());
  EXPECT_EQ(std::memcmp(a.q_out.data(), b.q_out.data(), a.q_out.size() * sizeof(double)), 0)
      << what;
  EXPECT_EQ(std::memcmp(a.k_out.data(), b.k_out.data(), a.k_out.size() * sizeof(double)), 0)
      << what;
}

/// Three equal positions per token, or one position through a multi-axis table, give the
/// one-axis result bit for bit (shared spectrum), in every type, through both kernels.
template <class T>
void equal_axes_are_plain_rope() {
  const Axes sections[] = {{{16, 24, 24}, AxisLayout::chunked, AxisSpectrum::shared},
                           {{24, 20, 20}, AxisLayout::interleaved, AxisSpectrum::shared},
                           {{5, 3, 0, 56}, AxisLayout::chunked, AxisSpectrum::shared}};
  int seed = 300;
  for (const Axes& axes : sections)
    for (AngleSource angles : {AngleSource::table, AngleSource::computed})
      for (Impl::KernelChoice kernel : {Impl::KernelChoice::best, Impl::KernelChoice::portable}) {
        CaseSpec plain;
        plain.config.head_dim = 128;
        plain.config.theta = 1e6;
        plain.positioning = Positioning::position_ids;
        plain.angles = angles;
        plain.kernel = kernel;
        plain.q_heads = 4;
        plain.seq = 19;
        plain.offset = 4000;
        plain.seed = seed++;
        CaseSpec multi = plain;
        multi.config.axes = axes;
        multi.positioning = Positioning::axis_positions;
        multi.equal_axes = true;
        const CaseResult want = run_case<Space, T>(plain);
        expect_same_bits(want, run_case<Space, T>(multi), "equal axis_positions");
        CaseSpec one = plain;  // the multi-axis table with one position per token
        one.config.axes = axes;
        expect_same_bits(want, run_case<Space, T>(one), "position_ids on a multi-axis table");
      }
}

TEST(TEST_CATEGORY, equal_axes_are_plain_rope) {
  equal_axes_are_plain_rope<float>();
  equal_axes_are_plain_rope<double>();
  equal_axes_are_plain_rope<bfloat16>();
  equal_axes_are_plain_rope<float16>();
}

/// Random positions per axis against the fp64 reference: both layouts and spectra, sections of
/// whole chunks and not, partial rotary, four axes, both pairings and directions, every data
/// layout, both angle sources, both kernels.
template <class T>
void multi_axis_grid() {
  struct Shape {
    int rotary_dim;
    Axes axes;
  };
  const Shape shapes[] = {
      {0, {{16, 24, 24}, AxisLayout::chunked, AxisSpectrum::shared}},      // Qwen2-VL
      {0, {{24, 20, 20}, AxisLayout::interleaved, AxisSpectrum::shared}},  // Qwen3-VL
      {0, {{32, 32}, AxisLayout::chunked, AxisSpectrum::per_axis}},        // vision tower
      {80, {{10, 15, 15}, AxisLayout::chunked, AxisSpectrum::shared}},     // uneven sections
      {80, {{14, 13, 13}, AxisLayout::interleaved, AxisSpectrum::per_axis}},
      {96, {{8, 8, 16, 16}, AxisLayout::chunked, AxisSpectrum::per_axis}},  // four axes
  };
  int seed = 500, index = 0;
  for (const Shape& shape : shapes)
    for (Pairing pairing : {Pairing::half_split, Pairing::interleaved})
      for (AngleSource angles : {AngleSource::table, AngleSource::computed})
        for (Layout layout : {Layout::bshd, Layout::bhsd, Layout::fused_qkv})
          for (Impl::KernelChoice kernel :
               {Impl::KernelChoice::best, Impl::KernelChoice::portable}) {
            CaseSpec spec;
            spec.config.head_dim = 128;
            spec.config.rotary_dim = shape.rotary_dim;
            spec.config.pairing = pairing;
            spec.config.theta = 1e6;
            spec.config.axes = shape.axes;
            spec.positioning = Positioning::axis_positions;
            spec.angles = angles;
            spec.layout = layout;
            spec.kernel = kernel;
            spec.direction = index % 3 == 2 ? Direction::backward : Direction::forward;
            spec.in_place = index % 2 == 0;
            spec.offset = 9000;
            // Enough elements that the norm-wise error is near its expectation (the bf16
            // bound is within a few percent of it).
            spec.seq = 16;
            // Odd q heads now and then: the CUDA row kernel then rotates one row a thread
            // where it otherwise takes two.
            spec.q_heads = index % 4 == 3 ? 5 : 4;
            spec.k_heads = 4;
            spec.seed = seed + index++;
            const CaseResult r = run_case<Space, T>(spec);
            EXPECT_LE(r.q_error, error_bound<T>()) << "case " << index;
            EXPECT_LE(r.k_error, error_bound<T>()) << "case " << index;
          }
}

TEST(TEST_CATEGORY, multi_axis_grid_against_reference) {
  multi_axis_grid<float>();
  multi_axis_grid<double>();
  multi_axis_grid<bfloat16>();
  multi_axis_grid<float16>();
}

}  // namespace
