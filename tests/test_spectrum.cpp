// Frequency schedules: HuggingFace reference values, identities between schedules, and bad input.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <krope/huggingface.hpp>
#include <krope/spectrum.hpp>
#include "support/json_data.hpp"

#ifndef KROPE_TEST_DATA_DIR
#error "KROPE_TEST_DATA_DIR must name the tests/data folder"
#endif

namespace {

using krope::Config;
using krope::HuggingFaceRope;
using krope::Scaling;
using krope::Spectrum;
using krope::test::as_double;
using krope::test::as_doubles;
using krope::test::as_int64;
using krope::test::Json;
using Kind = Scaling::Kind;
using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const Json& reference_data() {
  static const Json data = krope::test::load_json(KROPE_TEST_DATA_DIR "/rope_vectors.json");
  return data;
}

// The HF config of one `frequencies` entry: model-level fields plus its rope_parameters.
HuggingFaceRope hf_config_of(const Json& entry) {
  const Json& p = entry.at("rope_parameters");
  HuggingFaceRope rope;
  rope.rope_type = p.at("rope_type").get<std::string>();
  rope.rope_theta = as_double(p.at("rope_theta"));
  rope.head_dim = static_cast<int>(as_int64(entry.at("head_dim")));
  rope.max_position_embeddings = as_int64(entry.at("max_position_embeddings"));
  auto number = [&](const char* key, std::optional<double>& field) {
    if (p.contains(key) && !p.at(key).is_null()) field = as_double(p.at(key));
  };
  number("factor", rope.factor);
  number("attention_factor", rope.attention_factor);
  number("beta_fast", rope.beta_fast);
  number("beta_slow", rope.beta_slow);
  number("mscale", rope.mscale);
  number("mscale_all_dim", rope.mscale_all_dim);
  number("low_freq_factor", rope.low_freq_factor);
  number("high_freq_factor", rope.high_freq_factor);
  if (p.contains("partial_rotary_factor"))
    rope.partial_rotary_factor = as_double(p.at("partial_rotary_factor"));
  if (p.contains("original_max_position_embeddings"))
    rope.original_max_position_embeddings = as_int64(p.at("original_max_position_embeddings"));
  if (p.contains("truncate")) rope.truncate = p.at("truncate").get<bool>();
  if (p.contains("short_factor")) rope.short_factor = as_doubles(p.at("short_factor"));
  if (p.contains("long_factor")) rope.long_factor = as_doubles(p.at("long_factor"));
  return rope;
}

double relative_deviation(double value, double reference) {
  return std::fabs(value - reference) / std::fabs(reference);
}

// Every `frequencies` entry (computed by transformers in fp32) is reproduced in fp64 within
// 1e-6 relative per inverse frequency and 1e-9 absolute for the attention factor.
TEST(SpectrumReference, MatchesHuggingFaceTransformers) {
  const Json& cases = reference_data().at("frequencies");
  ASSERT_TRUE(cases.is_array());
  ASSERT_GT(cases.size(), 0u);
  for (const Json& entry : cases) {
    const std::string name = entry.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const std::int64_t seq_len = entry.at("seq_len").is_null() ? 0 : as_int64(entry.at("seq_len"));
    const Spectrum got = krope::spectrum(krope::from_huggingface(hf_config_of(entry)), seq_len);
    const std::vector<double> want = as_doubles(entry.at("inv_freq"));

    ASSERT_EQ(got.inv_freq.size(), want.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double deviation = relative_deviation(got.inv_freq[i], want[i]);
      EXPECT_LE(deviation, 1e-6) << "inv_freq[" << i << "] = " << got.inv_freq[i] << ", reference "
                                 << want[i];
      worst = std::max(worst, deviation);
    }
    const double attention_deviation =
        std::fabs(got.attention_factor - as_double(entry.at("attention_factor")));
    EXPECT_LE(attention_deviation, 1e-9) << "attention_factor = " << got.attention_factor;

    std::ostringstream line;
    line << std::scientific << std::setprecision(2) << "max rel inv_freq dev " << worst
         << ", attention_factor dev " << attention_deviation;
    RecordProperty(name, line.str());
    std::cout << "[ reference ] " << std::left << std::setw(26) << name << line.str() << "\n";
  }
}

Config plain_config(int head_dim, int rotary_dim = 0, double theta = 10000.0) {
  Config c;
  c.head_dim = head_dim;
  c.rotary_dim = rotary_dim;
  c.theta = theta;
  return c;
}

Config with_kind(Config c, Kind kind) {
  c.scaling.kind = kind;
  return c;
}

void expect_same_spectrum(const Spectrum& got, const Spectrum& want, double tolerance) {
  ASSERT_EQ(got.inv_freq.size(), want.inv_freq.size());
  for (std::size_t i = 0; i < want.inv_freq.size(); ++i)
    EXPECT_NEAR(got.inv_freq[i], want.inv_freq[i], tolerance * want.inv_freq[i]) << "pair " << i;
  EXPECT_NEAR(got.attention_factor, want.attention_factor, tolerance);
}

TEST(Spectrum, NoneIsThetaToTheMinusTwoIOverR) {
  const Spectrum s = krope::spectrum(plain_config(64, 0, 500000.0));
  ASSERT_EQ(s.inv_freq.size(), 32u);
  for (int i = 0; i < 32; ++i)
    EXPECT_NEAR(s.inv_freq[i], std::pow(500000.0, -2.0 * i / 64), 1e-15 * s.inv_freq[i]);
  EXPECT_EQ(s.inv_freq[0], 1.0);
  EXPECT_EQ(s.attention_factor, 1.0);
}

TEST(Spectrum, FactorOneEqualsNone) {
  const Config base = plain_config(128);
  const Spectrum none = krope::spectrum(base);

  for (Kind kind : {Kind::linear, Kind::ntk, Kind::dynamic_ntk, Kind::yarn}) {
    SCOPED_TRACE(static_cast<int>(kind));
    Config c = with_kind(base, kind);
    c.scaling.factor = 1.0;
    c.scaling.max_positions = 4096;
    c.scaling.original_max_positions = 4096;
    // dynamic_ntk stretches the base by seq_len / max_positions even at factor 1, so it equals
    // none only up to the trained context; the others ignore seq_len.
    expect_same_spectrum(krope::spectrum(c, 4096), none, 1e-15);
  }
}

TEST(Spectrum, LinearDividesByFactor) {
  Config c = with_kind(plain_config(64), Kind::linear);
  c.scaling.factor = 4.0;
  const Spectrum none = krope::spectrum(plain_config(64));
  const Spectrum linear = krope::spectrum(c);
  for (std::size_t i = 0; i < none.inv_freq.size(); ++i)
    EXPECT_DOUBLE_EQ(linear.inv_freq[i], none.inv_freq[i] / 4.0);
}

TEST(Spectrum, NtkChangesTheBase) {
  Config c = with_kind(plain_config(64), Kind::ntk);
  c.scaling.factor = 8.0;
  const double base = 10000.0 * std::pow(8.0, 64.0 / 62.0);
  const Spectrum s = krope::spectrum(c);
  EXPECT_EQ(s.inv_freq[0], 1.0);
  for (int i = 0; i < 32; ++i)
    EXPECT_NEAR(s.inv_freq[i], std::pow(base, -2.0 * i / 64), 1e-14 * s.inv_freq[i]);
}

TEST(Spectrum, DynamicNtkBelowTheContextEqualsNone) {
  Config c = with_kind(plain_config(128), Kind::dynamic_ntk);
  c.scaling.factor = 2.0;
  c.scaling.max_positions = 4096;
  const Spectrum none = krope::spectrum(plain_config(128));
  for (std::int64_t seq_len : {0, 1, 2048, 4096}) {
    SCOPED_TRACE(seq_len);
    expect_same_spectrum(krope::spectrum(c, seq_len), none, 1e-15);
  }
  // Past the context the base grows: theta * (2 * 8192 / 4096 - 1)^(128/126).
  const double base = 10000.0 * std::pow(3.0, 128.0 / 126.0);
  const Spectrum stretched = krope::spectrum(c, 8192);
  EXPECT_NEAR(stretched.inv_freq[63], std::pow(base, -126.0 / 128), 1e-14 * stretched.inv_freq[63]);
}

TEST(Spectrum, RotaryDimBelowHeadDimUsesRotatedLanes) {
  // R = 32 of head_dim 80: 16 frequencies theta^(-2i/32), not theta^(-2i/80).
  const Spectrum s = krope::spectrum(plain_config(80, 32));
  ASSERT_EQ(s.inv_freq.size(), 16u);
  for (int i = 0; i < 16; ++i)
    EXPECT_NEAR(s.inv_freq[i], std::pow(10000.0, -2.0 * i / 32), 1e-15 * s.inv_freq[i]);

  // Same through HF's partial_rotary_factor (int(80 * 0.4) = 32) and for a scaled kind.
  HuggingFaceRope rope;
  rope.rope_type = "linear";
  rope.head_dim = 80;
  rope.partial_rotary_factor = 0.4;
  rope.factor = 2.0;
  const Config c = krope::from_huggingface(rope);
  EXPECT_EQ(c.rotated_lanes(), 32);
  const Spectrum linear = krope::spectrum(c);
  ASSERT_EQ(linear.inv_freq.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_DOUBLE_EQ(linear.inv_freq[i], s.inv_freq[i] / 2.0);
}

TEST(Spectrum, TruncatedSchedule) {
  for (int lanes : {8, 12, 64, 128}) {
    SCOPED_TRACE(lanes);
    const int rotating = lanes / 4;
    const Spectrum s = krope::spectrum(with_kind(plain_config(lanes), Kind::truncated));
    ASSERT_EQ(s.inv_freq.size(), static_cast<std::size_t>(lanes / 2));
    for (int j = 0; j < rotating; ++j)
      EXPECT_DOUBLE_EQ(s.inv_freq[j], std::pow(10000.0, -static_cast<double>(j) / (rotating - 1)));
    EXPECT_EQ(s.inv_freq[0], 1.0);
    EXPECT_DOUBLE_EQ(s.inv_freq[rotating - 1], 1e-4);  // the exponent reaches exactly 1
    for (int j = rotating; j < lanes / 2; ++j) EXPECT_EQ(s.inv_freq[j], 0.0) << "pair " << j;
    EXPECT_EQ(s.attention_factor, 1.0);
  }
  // R/4 == 1: a single frequency 1.0, then zeros; R = 2: nothing rotates.
  EXPECT_EQ(krope::spectrum(with_kind(plain_config(6), Kind::truncated)).inv_freq,
            (std::vector<double>{1.0, 0.0, 0.0}));
  EXPECT_EQ(krope::spectrum(with_kind(plain_config(2), Kind::truncated)).inv_freq,
            (std::vector<double>{0.0}));
  // Partial rotary: computed with R, not head_dim.
  EXPECT_EQ(krope::spectrum(with_kind(plain_config(64, 8), Kind::truncated)).inv_freq,
            (std::vector<double>{1.0, 1e-4, 0.0, 0.0}));
}

TEST(Spectrum, CustomPassesThrough) {
  Config c = with_kind(plain_config(8), Kind::custom);
  c.scaling.inv_freq = {1.0, 0.5, 0.0, 1e-300};
  Spectrum s = krope::spectrum(c);
  EXPECT_EQ(s.inv_freq, c.scaling.inv_freq);
  EXPECT_EQ(s.attention_factor, 1.0);
  c.scaling.attention_factor = 1.25;
  EXPECT_EQ(krope::spectrum(c).attention_factor, 1.25);
}

TEST(Spectrum, YarnAttentionFactor) {
  Config c = with_kind(plain_config(128), Kind::yarn);
  c.scaling.factor = 40.0;
  c.scaling.original_max_positions = 4096;
  EXPECT_DOUBLE_EQ(krope::spectrum(c).attention_factor, 0.1 * std::log(40.0) + 1.0);
  // DeepSeek-V3 style: mscale == mscale_all_dim cancels.
  c.scaling.mscale = 1.0;
  c.scaling.mscale_all_dim = 1.0;
  EXPECT_DOUBLE_EQ(krope::spectrum(c).attention_factor, 1.0);
  c.scaling.mscale = 0.707;
  EXPECT_DOUBLE_EQ(krope::spectrum(c).attention_factor,
                   (0.0707 * std::log(40.0) + 1.0) / (0.1 * std::log(40.0) + 1.0));
  c.scaling.attention_factor = 1.5;  // explicit wins
  EXPECT_EQ(krope::spectrum(c).attention_factor, 1.5);
}

TEST(Spectrum, YarnKeepsFastPairsAndInterpolatesSlowOnes) {
  Config c = with_kind(plain_config(128), Kind::yarn);
  c.scaling.factor = 4.0;
  c.scaling.original_max_positions = 4096;
  const Spectrum none = krope::spectrum(plain_config(128));
  for (bool truncate : {true, false}) {
    SCOPED_TRACE(truncate);
    c.scaling.truncate = truncate;
    const Spectrum s = krope::spectrum(c);
    EXPECT_EQ(s.inv_freq[0], none.inv_freq[0]);
    EXPECT_DOUBLE_EQ(s.inv_freq[63], none.inv_freq[63] / 4.0);
    for (int i = 0; i < 64; ++i) {
      EXPECT_LE(s.inv_freq[i], none.inv_freq[i]);
      EXPECT_GE(s.inv_freq[i], none.inv_freq[i] / 4.0 * (1 - 1e-15));
    }
  }
}

TEST(Spectrum, LongropePicksFactorsBySeqLen) {
  Config c = with_kind(plain_config(8), Kind::longrope);
  c.scaling.short_factor = {1.0, 2.0, 3.0, 4.0};
  c.scaling.long_factor = {5.0, 6.0, 7.0, 8.0};
  c.scaling.original_max_positions = 4096;
  c.scaling.factor = 32.0;
  const Spectrum none = krope::spectrum(plain_config(8));
  for (std::int64_t seq_len : {0, 4096, 4097}) {
    SCOPED_TRACE(seq_len);
    const auto& ext = seq_len > 4096 ? c.scaling.long_factor : c.scaling.short_factor;
    const Spectrum s = krope::spectrum(c, seq_len);
    for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(s.inv_freq[i], none.inv_freq[i] / ext[i]);
    EXPECT_DOUBLE_EQ(s.attention_factor, std::sqrt(1 + std::log(32.0) / std::log(4096.0)));
  }
  c.scaling.factor = 1.0;
  EXPECT_EQ(krope::spectrum(c).attention_factor, 1.0);
}

TEST(HuggingFace, RopeTypesMapToKinds) {
  HuggingFaceRope rope;
  rope.head_dim = 64;
  rope.max_position_embeddings = 8192;
  EXPECT_EQ(krope::from_huggingface(rope).scaling.kind, Kind::none);
  rope.factor = 2.0;
  rope.low_freq_factor = 1.0;
  rope.high_freq_factor = 4.0;
  rope.original_max_position_embeddings = 2048;
  rope.short_factor.assign(32, 1.0);
  rope.long_factor.assign(32, 2.0);
  const std::pair<const char*, Kind> types[] = {
      {"default", Kind::none}, {"linear", Kind::linear}, {"dynamic", Kind::dynamic_ntk},
      {"yarn", Kind::yarn},    {"llama3", Kind::llama3}, {"longrope", Kind::longrope}};
  for (const auto& [type, kind] : types) {
    rope.rope_type = type;
    const Config c = krope::from_huggingface(rope, krope::Pairing::interleaved);
    EXPECT_EQ(c.scaling.kind, kind) << type;
    EXPECT_EQ(c.pairing, krope::Pairing::interleaved);
  }
}

TEST(HuggingFace, MultiAxisSections) {
  HuggingFaceRope rope;  // Qwen2-VL-7B's text model
  rope.head_dim = 128;
  rope.rope_theta = 1e6;
  rope.max_position_embeddings = 32768;
  rope.mrope_section = {16, 24, 24};
  Config c = krope::from_huggingface(rope);
  EXPECT_EQ(c.axes.pairs, (std::vector<int>{16, 24, 24}));
  EXPECT_EQ(c.axes.layout, krope::AxisLayout::chunked);
  EXPECT_EQ(c.axes.spectrum, krope::AxisSpectrum::shared);
  EXPECT_EQ(c.scaling.kind, Kind::none);
  rope.rope_type = "mrope";  // older configs: {"type": "mrope", "mrope_section": [...]}
  EXPECT_EQ(krope::from_huggingface(rope).axes.pairs, c.axes.pairs);
  rope.rope_type = "default";
  rope.mrope_section = {24, 20, 20};  // Qwen3-VL
  rope.mrope_interleaved = true;
  c = krope::from_huggingface(rope);
  EXPECT_EQ(c.axes.layout, krope::AxisLayout::interleaved);
  EXPECT_EQ(c.axes.count(), 3);
  // Shared spectrum: the one-axis frequencies, whatever the sections.
  Config plain = c;
  plain.axes = {};
  EXPECT_EQ(krope::spectrum(c).inv_freq, krope::spectrum(plain).inv_freq);

  HuggingFaceRope vision;  // Qwen2-VL's vision tower: head_dim 80, (h, w) axes
  vision.rope_type = "axial";
  vision.head_dim = 80;
  c = krope::from_huggingface(vision);
  EXPECT_EQ(c.axes.pairs, (std::vector<int>{20, 20}));
  EXPECT_EQ(c.axes.spectrum, krope::AxisSpectrum::per_axis);
  const auto s = krope::spectrum(c);  // each axis theta^(-4k/D), k < D/4
  ASSERT_EQ(s.inv_freq.size(), 40u);
  for (int k = 0; k < 20; ++k) {
    EXPECT_DOUBLE_EQ(s.inv_freq[k], std::pow(1e4, -4.0 * k / 80)) << k;
    EXPECT_EQ(s.inv_freq[20 + k], s.inv_freq[k]) << k;
  }
}

TEST(Spectrum, PerAxisCountsPairsOfEachAxisInOrder) {
  Config c;  // interleaved, per_axis: pair j is the k-th of its axis, k counted in pair order
  c.head_dim = 24;
  c.axes = {{4, 4, 4}, krope::AxisLayout::interleaved, krope::AxisSpectrum::per_axis};
  const auto s = krope::spectrum(c);
  // axes of pairs 0..11: 0 1 2 0 1 2 0 1 2 0 1 2; every axis has 4 pairs: theta^(-k/4)
  for (int j = 0; j < 12; ++j) EXPECT_DOUBLE_EQ(s.inv_freq[j], 1.0 / std::pow(1e4, (j / 3) / 4.0));
  c.axes = {{2, 10}, krope::AxisLayout::chunked, krope::AxisSpectrum::per_axis};
  const auto t = krope::spectrum(c);
  EXPECT_DOUBLE_EQ(t.inv_freq[1], 1.0 / std::pow(1e4, 1 / 2.0));
  EXPECT_DOUBLE_EQ(t.inv_freq[2], 1.0);
  EXPECT_DOUBLE_EQ(t.inv_freq[7], 1.0 / std::pow(1e4, 5 / 10.0));
}

TEST(HuggingFace, AppliesHuggingFaceDefaults) {
  HuggingFaceRope rope;
  rope.rope_type = "yarn";
  rope.head_dim = 128;
  rope.max_position_embeddings = 32768;
  rope.original_max_position_embeddings = 4096;
  rope.beta_fast = 0.0;  // HF reads `beta_fast or 32`
  Config c = krope::from_huggingface(rope);
  EXPECT_EQ(c.scaling.factor, 8.0);  // absent factor: the context extension ratio
  EXPECT_EQ(c.scaling.beta_fast, 32.0);
  EXPECT_EQ(c.scaling.beta_slow, 1.0);
  EXPECT_TRUE(c.scaling.truncate);

  rope.rope_type = "longrope";  // Phi-3: no `factor`, ratio of the two contexts
  rope.short_factor.assign(64, 1.0);
  rope.long_factor.assign(64, 1.0);
  c = krope::from_huggingface(rope);
  EXPECT_EQ(c.scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(krope::spectrum(c).attention_factor,
                   std::sqrt(1 + std::log(8.0) / std::log(4096.0)));

  rope.rope_type = "llama3";  // absent original context: max_position_embeddings
  rope.original_max_position_embeddings.reset();
  rope.factor = 8.0;
  rope.low_freq_factor = 1.0;
  rope.high_freq_factor = 4.0;
  EXPECT_EQ(krope::from_huggingface(rope).scaling.original_max_positions, 32768);
}

// --- bad input -----------------------------------------------------------------------------

// Runs `call` and expects std::invalid_argument whose message names `argument`.
void expect_rejected(const std::function<void()>& call, const std::string& argument) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected std::invalid_argument naming " << argument;
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr(argument));
    EXPECT_THAT(e.what(), HasSubstr("krope: "));
  } catch (...) {
    ADD_FAILURE() << "wrong exception type; expected std::invalid_argument naming " << argument;
  }
}

void expect_spectrum_rejects(const Config& c, const std::string& argument,
                             std::int64_t seq_len = 0) {
  expect_rejected([&] { krope::spectrum(c, seq_len); }, argument);
}

TEST(SpectrumRejects, ConfigShape) {
  for (int head_dim : {7, 0, -2}) {
    expect_spectrum_rejects(plain_config(head_dim), "head_dim");
    expect_rejected([&] { krope::validate(plain_config(head_dim)); }, "head_dim");
  }
  for (int rotary_dim : {7, -2, 66}) {
    expect_spectrum_rejects(plain_config(64, rotary_dim), "rotary_dim");
    expect_rejected([&] { krope::validate(plain_config(64, rotary_dim)); }, "rotary_dim");
  }
  for (double theta : {0.0, -1.0, kInf, kNaN}) {
    expect_spectrum_rejects(plain_config(64, 0, theta), "theta");
    expect_rejected([&] { krope::validate(plain_config(64, 0, theta)); }, "theta");
  }
  EXPECT_NO_THROW(krope::validate(plain_config(64, 32)));
  expect_spectrum_rejects(plain_config(64), "seq_len", -1);
}

TEST(SpectrumRejects, Factor) {
  for (Kind kind : {Kind::linear, Kind::ntk, Kind::dynamic_ntk, Kind::yarn, Kind::llama3}) {
    for (double factor : {0.0, -2.0, kNaN, kInf}) {
      Config c = with_kind(plain_config(64), kind);
      c.scaling.factor = factor;
      c.scaling.max_positions = 4096;
      c.scaling.original_max_positions = 4096;
      SCOPED_TRACE(static_cast<int>(kind));
      expect_spectrum_rejects(c, "factor");
    }
  }
}

TEST(SpectrumRejects, NtkNeedsFourLanes) {
  for (Kind kind : {Kind::ntk, Kind::dynamic_ntk}) {
    Config c = with_kind(plain_config(2), kind);
    c.scaling.factor = 2.0;
    c.scaling.max_positions = 4096;
    expect_spectrum_rejects(c, "rotary_dim");
  }
}

TEST(SpectrumRejects, DynamicNtkNeedsMaxPositions) {
  Config c = with_kind(plain_config(64), Kind::dynamic_ntk);
  c.scaling.factor = 2.0;
  expect_spectrum_rejects(c, "max_positions");
}

TEST(SpectrumRejects, YarnParameters) {
  Config good = with_kind(plain_config(64), Kind::yarn);
  good.scaling.factor = 4.0;
  good.scaling.original_max_positions = 4096;
  EXPECT_NO_THROW(krope::spectrum(good));

  Config c = good;
  c.scaling.beta_fast = 1.0;  // == beta_slow
  expect_spectrum_rejects(c, "beta_fast");
  c.scaling.beta_fast = 0.5;
  expect_spectrum_rejects(c, "beta_fast");
  c = good;
  c.scaling.beta_slow = 0.0;
  expect_spectrum_rejects(c, "beta_slow");
  c = good;
  c.scaling.original_max_positions = 0;
  expect_spectrum_rejects(c, "original_max_positions");
  c = good;
  c.scaling.attention_factor = -1.0;
  expect_spectrum_rejects(c, "attention_factor");
  c = good;
  c.scaling.mscale = kNaN;
  expect_spectrum_rejects(c, "mscale");
  c = good;
  c.theta = 1.0;
  expect_spectrum_rejects(c, "theta");
}

TEST(SpectrumRejects, Llama3Parameters) {
  Config good = with_kind(plain_config(128, 0, 500000.0), Kind::llama3);
  good.scaling.factor = 8.0;
  good.scaling.original_max_positions = 8192;
  EXPECT_NO_THROW(krope::spectrum(good));

  Config c = good;
  c.scaling.high_freq_factor = c.scaling.low_freq_factor;
  expect_spectrum_rejects(c, "high_freq_factor");
  c.scaling.high_freq_factor = 0.5;
  expect_spectrum_rejects(c, "high_freq_factor");
  c = good;
  c.scaling.low_freq_factor = 0.0;
  expect_spectrum_rejects(c, "low_freq_factor");
  c = good;
  c.scaling.original_max_positions = 0;
  expect_spectrum_rejects(c, "original_max_positions");
  c.scaling.original_max_positions = -8192;
  expect_spectrum_rejects(c, "original_max_positions");
}

TEST(SpectrumRejects, LongropeParameters) {
  Config good = with_kind(plain_config(96, 0), Kind::longrope);
  good.scaling.short_factor.assign(48, 1.0);
  good.scaling.long_factor.assign(48, 2.0);
  good.scaling.original_max_positions = 4096;
  EXPECT_NO_THROW(krope::spectrum(good));

  Config c = good;
  c.scaling.short_factor.pop_back();
  expect_spectrum_rejects(c, "short_factor");
  c = good;
  c.scaling.long_factor.push_back(1.0);
  expect_spectrum_rejects(c, "long_factor");
  c = good;
  c.scaling.long_factor[3] = 0.0;
  expect_spectrum_rejects(c, "long_factor");
  c = good;
  c.rotary_dim = 48;  // the lists must match R/2, not head_dim/2
  expect_spectrum_rejects(c, "short_factor");
  c = good;
  c.scaling.original_max_positions = 0;
  expect_spectrum_rejects(c, "original_max_positions");
  c = good;
  c.scaling.factor = 0.0;
  expect_spectrum_rejects(c, "factor");
}

TEST(SpectrumRejects, CustomInverseFrequencies) {
  Config c = with_kind(plain_config(8), Kind::custom);
  c.scaling.inv_freq = {1.0, 0.5, 0.25};
  expect_spectrum_rejects(c, "inv_freq");
  c.scaling.inv_freq = {1.0, 0.5, 0.25, -1.0};
  expect_spectrum_rejects(c, "inv_freq");
  c.scaling.inv_freq = {1.0, 0.5, kNaN, 0.1};
  expect_spectrum_rejects(c, "inv_freq");
}

TEST(HuggingFaceRejects, BadConfigs) {
  HuggingFaceRope rope;
  rope.head_dim = 64;
  rope.max_position_embeddings = 4096;
  rope.rope_type = "su";
  expect_rejected([&] { krope::from_huggingface(rope); }, "rope_type");
  rope.rope_type = "";
  expect_rejected([&] { krope::from_huggingface(rope); }, "rope_type");

  rope.rope_type = "linear";  // factor required
  expect_rejected([&] { krope::from_huggingface(rope); }, "factor");
  rope.rope_type = "llama3";
  rope.factor = 8.0;
  expect_rejected([&] { krope::from_huggingface(rope); }, "low_freq_factor");
  rope.rope_type = "longrope";
  expect_rejected([&] { krope::from_huggingface(rope); }, "short_factor");

  rope.rope_type = "default";
  rope.partial_rotary_factor = 1.5;
  expect_rejected([&] { krope::from_huggingface(rope); }, "partial_rotary_factor");
  rope.partial_rotary_factor = 0.01;  // int(64 * 0.01) == 0
  expect_rejected([&] { krope::from_huggingface(rope); }, "partial_rotary_factor");
  rope.partial_rotary_factor = 1.0;
  rope.head_dim = 7;
  expect_rejected([&] { krope::from_huggingface(rope); }, "head_dim");
  rope.head_dim = 64;
  rope.rope_theta = -1.0;
  expect_rejected([&] { krope::from_huggingface(rope); }, "theta");
  rope.rope_theta = 1e4;

  rope.rope_type = "mrope";
  expect_rejected([&] { krope::from_huggingface(rope); }, "requires mrope_section");
  rope.rope_type = "default";
  rope.mrope_interleaved = true;
  expect_rejected([&] { krope::from_huggingface(rope); }, "requires mrope_section");
  rope.mrope_section = {8, 12, 10};
  expect_rejected([&] { krope::from_huggingface(rope); }, "sum to 30");
  rope.rope_type = "axial";
  rope.mrope_interleaved = false;
  expect_rejected([&] { krope::from_huggingface(rope); }, "takes no mrope_section");
  rope.mrope_section.clear();
  rope.head_dim = 70;
  expect_rejected([&] { krope::from_huggingface(rope); }, "multiple of 4");
}

// --- reading the JSON data (nlohmann-json and the strict number readers) -------------------

TEST(Json, ParsesEveryKind) {
  const Json j = Json::parse(
      R"( {"a": [1, -2.5e3, 0, 1E-2], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "t": true,
           "f": false, "n": null, "o": {"k": []}} )");
  EXPECT_EQ(j.size(), 6u);
  EXPECT_EQ(as_doubles(j.at("a")), (std::vector<double>{1.0, -2500.0, 0.0, 0.01}));
  EXPECT_EQ(as_double(j.at("a").at(1)), -2500.0);
  EXPECT_EQ(j.at("s").get<std::string>(), "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_TRUE(j.at("t").get<bool>());
  EXPECT_FALSE(j.at("f").get<bool>());
  EXPECT_TRUE(j.at("n").is_null());
  EXPECT_TRUE(j.contains("o"));
  EXPECT_FALSE(j.contains("missing"));
  EXPECT_EQ(j.at("o").at("k").size(), 0u);
  EXPECT_EQ(as_double(Json::parse("0.1")), 0.1);  // correctly rounded
  EXPECT_EQ(as_int64(Json::parse("[4096]").at(0)), 4096);
  EXPECT_EQ(as_int64(Json::parse("-9223372036854775808")),
            std::numeric_limits<std::int64_t>::min());
}

TEST(Json, RejectsMalformedInput) {
  for (const char* bad : {"", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "[1] 2",
                          "\"abc", "{\"a\":1,}", "\"\\ud800\"", "nan"}) {
    Json parsed;
    EXPECT_THROW(parsed = Json::parse(bad), Json::parse_error) << bad;
  }
  const Json j = Json::parse("{\"a\": 1.5, \"t\": true, \"n\": null, \"i\": [1, 2.5]}");
  EXPECT_THROW(j.at("b"), Json::out_of_range);
  EXPECT_THROW(j.at("a").get<std::string>(), Json::type_error);
  EXPECT_THROW(as_int64(j.at("a")), std::runtime_error);
  EXPECT_THROW(j.at(0), Json::type_error);
  // Stricter than get<>(): no boolean or null as a number, no fraction or overflow as int64.
  EXPECT_THROW(as_double(j.at("t")), std::runtime_error);
  EXPECT_THROW(as_double(j.at("n")), std::runtime_error);
  EXPECT_THROW(as_int64(j.at("t")), std::runtime_error);
  EXPECT_THROW(krope::test::as_int64s(j.at("i")), std::runtime_error);
  EXPECT_THROW(as_int64(Json::parse("9223372036854775808")), std::runtime_error);
  EXPECT_THROW(as_doubles(j.at("a")), std::runtime_error);
  EXPECT_THROW(krope::test::load_json(KROPE_TEST_DATA_DIR "/missing.json"), std::runtime_error);
}

}  // namespace
