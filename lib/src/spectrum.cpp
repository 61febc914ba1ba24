// Frequency schedules. The formulas follow HuggingFace transformers' rope initialisation functions
// (modeling_rope_utils.py); they compute in fp32, we compute in fp64 (see spectrum.hpp).

#include "fail.hpp"

#include <krope/impl/axis_map.hpp>
#include <krope/spectrum.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace krope {
namespace {

using Kind = Scaling::Kind;

constexpr double kPi = 3.14159265358979323846;

using Impl::fail;

bool positive_finite(double x) { return std::isfinite(x) && x > 0.0; }

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::none:
      return "none";
    case Kind::linear:
      return "linear";
    case Kind::ntk:
      return "ntk";
    case Kind::dynamic_ntk:
      return "dynamic_ntk";
    case Kind::yarn:
      return "yarn";
    case Kind::llama3:
      return "llama3";
    case Kind::longrope:
      return "longrope";
    case Kind::truncated:
      return "truncated";
    case Kind::custom:
      return "custom";
  }
  return "unknown";
}

void check_factor(const Scaling& s) {
  if (!positive_finite(s.factor))
    fail("scaling.factor must be positive and finite for ", kind_name(s.kind), " (got ", s.factor,
         ")");
}

// 0 means "derive it"; a negative or non-finite explicit value is a mistake.
void check_attention_factor(const Scaling& s) {
  if (!std::isfinite(s.attention_factor) || s.attention_factor < 0.0)
    fail("scaling.attention_factor must be finite and >= 0 (0 = derive) (got ", s.attention_factor,
         ")");
}

// The pretraining context `ctx` that yarn, llama3 and longrope measure wavelengths against.
double pretrained_context(const Scaling& s) {
  if (s.original_max_positions <= 0)
    fail("scaling.original_max_positions must be positive for ", kind_name(s.kind), " (got ",
         s.original_max_positions, ")");
  return static_cast<double>(s.original_max_positions);
}

// The NTK exponent R/(R-2) has a pole at R = 2.
void check_ntk_lanes(const Scaling& s, int lanes) {
  if (lanes < 4)
    fail("rotary_dim (or head_dim when rotary_dim is 0) must be at least 4 for ", kind_name(s.kind),
         " scaling (got ", lanes, ")");
}

void check_per_pair(const std::vector<double>& values, const char* name, std::size_t pairs,
                    bool zero_allowed) {
  if (values.size() != pairs)
    fail(name, " must have one entry per rotated pair, rotary_dim / 2 = ", pairs, " (got ",
         values.size(), ")");
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v) || v < 0.0 || (!zero_allowed && v == 0.0))
      fail(name, "[", i, "] must be finite and ", zero_allowed ? ">= 0" : "> 0", " (got ", v, ")");
  }
}

// theta^(-2i/R), written as HF writes it: 1 / base^(2i/R).
std::vector<double> plain(double base, int lanes) {
  std::vector<double> inv_freq(lanes / 2);
  for (int i = 0; i < lanes / 2; ++i)
    inv_freq[i] = 1.0 / std::pow(base, static_cast<double>(2 * i) / lanes);
  return inv_freq;
}

// Base change shared by ntk and dynamic_ntk: base * stretch^(R/(R-2)).
std::vector<double> ntk_rebased(double theta, double stretch, int lanes) {
  const double exponent = static_cast<double>(lanes) / (lanes - 2);
  return plain(theta * std::pow(stretch, exponent), lanes);
}

Spectrum dynamic_ntk(const Config& c, std::int64_t seq_len) {
  const Scaling& s = c.scaling;
  check_factor(s);
  check_ntk_lanes(s, c.rotated_lanes());
  if (s.max_positions <= 0)
    fail("scaling.max_positions must be positive for dynamic_ntk (got ", s.max_positions, ")");
  // Below the trained context the stretch is exactly 1: plain frequencies.
  const double length = static_cast<double>(std::max(seq_len, s.max_positions));
  const double stretch =
      s.factor * length / static_cast<double>(s.max_positions) - (s.factor - 1.0);
  return {ntk_rebased(c.theta, stretch, c.rotated_lanes()), 1.0};
}

// YaRN's magnitude scale m(s, k).
double yarn_mscale(double scale, double k) {
  return scale <= 1.0 ? 1.0 : 0.1 * k * std::log(scale) + 1.0;
}

Spectrum yarn(const Config& c) {
  const Scaling& s = c.scaling;
  check_factor(s);
  check_attention_factor(s);
  if (!positive_finite(s.beta_slow))
    fail("scaling.beta_slow must be positive and finite (got ", s.beta_slow, ")");
  if (!std::isfinite(s.beta_fast) || s.beta_fast <= s.beta_slow)
    fail("scaling.beta_fast must be greater than scaling.beta_slow (got beta_fast ", s.beta_fast,
         ", beta_slow ", s.beta_slow, ")");
  if (!std::isfinite(s.mscale) || !std::isfinite(s.mscale_all_dim))
    fail("scaling.mscale and scaling.mscale_all_dim must be finite (got ", s.mscale, ", ",
         s.mscale_all_dim, ")");
  if (c.theta == 1.0)
    fail("theta must not be 1 for yarn (its correction range divides by ln theta)");
  const double context = pretrained_context(s);
  const int lanes = c.rotated_lanes();
  const double dim = lanes;

  // The (fractional) pair index whose wavelength fits `turns` times into the pretrained context.
  auto pair_turning = [&](double turns) {
    return dim * std::log(context / (turns * 2.0 * kPi)) / (2.0 * std::log(c.theta));
  };
  double low = pair_turning(s.beta_fast);
  double high = pair_turning(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, dim - 1.0);
  if (low == high) high += 0.001;  // as HF: avoid a zero-width ramp

  Spectrum out{plain(c.theta, lanes), 1.0};
  for (int i = 0; i < lanes / 2; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    const double extrapolated = out.inv_freq[i];
    const double interpolated = extrapolated / s.factor;
    out.inv_freq[i] = interpolated * ramp + extrapolated * (1.0 - ramp);
  }

  if (s.attention_factor > 0.0)
    out.attention_factor = s.attention_factor;
  else if (s.mscale != 0.0 && s.mscale_all_dim != 0.0)
    out.attention_factor =
        yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim);
  else
    out.attention_factor = yarn_mscale(s.factor, 1.0);
  return out;
}

Spectrum llama3(const Config& c) {
  const Scaling& s = c.scaling;
  check_factor(s);
  if (!positive_finite(s.low_freq_factor))
    fail("scaling.low_freq_factor must be positive and finite (got ", s.low_freq_factor, ")");
  if (!std::isfinite(s.high_freq_factor) || s.high_freq_factor <= s.low_freq_factor)
    fail("scaling.high_freq_factor must be greater than scaling.low_freq_factor (got ",
         s.high_freq_factor, " <= ", s.low_freq_factor, ")");
  const double context = pretrained_context(s);
  const double low_freq_wavelength = context / s.low_freq_factor;
  const double high_freq_wavelength = context / s.high_freq_factor;

  Spectrum out{plain(c.theta, c.rotated_lanes()), 1.0};
  for (double& inv_freq : out.inv_freq) {
    const double wavelength = 2.0 * kPi / inv_freq;
    if (wavelength < high_freq_wavelength) continue;  // high frequency: unchanged
    if (wavelength > low_freq_wavelength) {           // low frequency: interpolated
      inv_freq /= s.factor;
      continue;
    }
    const double smooth =
        (context / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    inv_freq = (1.0 - smooth) * inv_freq / s.factor + smooth * inv_freq;
  }
  return out;
}

Spectrum longrope(const Config& c, std::int64_t seq_len) {
  const Scaling& s = c.scaling;
  const std::size_t pairs = static_cast<std::size_t>(c.rotated_lanes() / 2);
  check_per_pair(s.short_factor, "scaling.short_factor", pairs, false);
  check_per_pair(s.long_factor, "scaling.long_factor", pairs, false);
  check_factor(s);
  check_attention_factor(s);
  const double context = pretrained_context(s);
  if (s.original_max_positions < 2)  // ln(ctx) divides the attention factor
    fail("scaling.original_max_positions must be at least 2 for longrope (got ",
         s.original_max_positions, ")");

  const std::vector<double>& extension =
      seq_len > s.original_max_positions ? s.long_factor : s.short_factor;
  Spectrum out{plain(c.theta, c.rotated_lanes()), 1.0};
  for (std::size_t i = 0; i < pairs; ++i) out.inv_freq[i] /= extension[i];

  if (s.attention_factor > 0.0)
    out.attention_factor = s.attention_factor;
  else if (s.factor > 1.0)
    out.attention_factor = std::sqrt(1.0 + std::log(s.factor) / std::log(context));
  return out;
}

Spectrum truncated(const Config& c) {
  const int pairs = c.rotated_lanes() / 2;
  const int rotating = c.rotated_lanes() / 4;
  Spectrum out{std::vector<double>(pairs, 0.0), 1.0};
  for (int j = 0; j < rotating; ++j) {
    const double exponent = rotating == 1 ? 0.0 : static_cast<double>(j) / (rotating - 1);
    out.inv_freq[j] = std::pow(c.theta, -exponent);
  }
  return out;
}

Spectrum custom(const Config& c) {
  const Scaling& s = c.scaling;
  check_per_pair(s.inv_freq, "scaling.inv_freq", static_cast<std::size_t>(c.rotated_lanes() / 2),
                 true);
  check_attention_factor(s);
  return {s.inv_freq, s.attention_factor > 0.0 ? s.attention_factor : 1.0};
}

void validate_axes(const Config& config) {
  const Axes& axes = config.axes;
  if (axes.pairs.empty()) return;
  const int half = config.rotated_lanes() / 2;
  if (axes.count() > Axes::max_axes)
    fail("axes.pairs has ", axes.count(), " axes, at most ", Axes::max_axes, " are supported");
  long long sum = 0;
  for (std::size_t a = 0; a < axes.pairs.size(); ++a) {
    if (axes.pairs[a] < 0) fail("axes.pairs[", a, "] is negative (", axes.pairs[a], ")");
    sum += axes.pairs[a];
  }
  if (sum != half)
    fail("axes.pairs sum to ", sum, " pairs, the rotary dim ", config.rotated_lanes(), " has ",
         half);
  if (axes.layout == AxisLayout::interleaved) {
    if (axes.count() != 3)
      fail("AxisLayout::interleaved needs 3 axes (t, h, w), axes.pairs has ", axes.count());
    for (int a = 1; a < 3; ++a)
      if (3 * axes.pairs[a] > half)
        fail("AxisLayout::interleaved: 3 * axes.pairs[", a, "] = ", 3 * axes.pairs[a],
             " exceeds the ", half, " pairs");
  } else if (axes.layout != AxisLayout::chunked) {
    fail("axes.layout is not an AxisLayout (got ", static_cast<int>(axes.layout), ")");
  }
  if (axes.spectrum == AxisSpectrum::per_axis) {
    if (config.scaling.kind != Kind::none)
      fail("AxisSpectrum::per_axis takes no frequency schedule (scaling.kind is ",
           kind_name(config.scaling.kind), ")");
  } else if (axes.spectrum != AxisSpectrum::shared) {
    fail("axes.spectrum is not an AxisSpectrum (got ", static_cast<int>(axes.spectrum), ")");
  }
}

// Each axis its own plain spectrum over its own pairs: the k-th pair of axis a gets
// plain(theta, 2 n_a)[k] = theta^(-2k / (2 n_a)), k counted in pair order (either layout).
Spectrum per_axis(const Config& config) {
  const Impl::AxisMap map = Impl::axis_map(config.axes);
  const int half = config.rotated_lanes() / 2;
  std::vector<std::vector<double>> of_axis;
  for (int n : config.axes.pairs) of_axis.push_back(plain(config.theta, 2 * n));
  Spectrum out{std::vector<double>(half), 1.0};
  int seen[Axes::max_axes] = {};
  for (int j = 0; j < half; ++j) {
    const int a = map.axis_of(j);
    out.inv_freq[j] = of_axis[a][seen[a]++];
  }
  return out;
}

}  // namespace

void validate(const Config& config) {
  if (config.head_dim <= 0 || config.head_dim % 2 != 0)
    fail("head_dim must be even and positive (got ", config.head_dim, ")");
  if (config.rotary_dim < 0 || config.rotary_dim % 2 != 0 || config.rotary_dim > config.head_dim)
    fail("rotary_dim must be even, >= 0 and <= head_dim (got ", config.rotary_dim, ", head_dim ",
         config.head_dim, ")");
  if (!positive_finite(config.theta))
    fail("theta must be positive and finite (got ", config.theta, ")");
  validate_axes(config);
}

void validate_angle_source(const char* owner, int head_dim, int rotary_dim, std::int64_t pairs,
                           const Axes& axes) {
  if (rotary_dim <= 0) fail(owner, ": rotary_dim must be positive (got ", rotary_dim, ")");
  if (pairs != rotary_dim / 2)
    fail(owner, ": ", pairs, " values per position, rotary_dim ", rotary_dim, " has ",
         rotary_dim / 2, " pairs");
  Config c;
  c.head_dim = head_dim;
  c.rotary_dim = rotary_dim;
  c.axes = axes;
  validate(c);
}

Spectrum spectrum(const Config& config, std::int64_t seq_len) {
  validate(config);
  if (seq_len < 0) fail("seq_len must be >= 0 (got ", seq_len, ")");
  const Scaling& s = config.scaling;
  const int lanes = config.rotated_lanes();
  if (config.axes.count() > 1 && config.axes.spectrum == AxisSpectrum::per_axis)
    return per_axis(config);
  switch (s.kind) {
    case Kind::none:
      return {plain(config.theta, lanes), 1.0};
    case Kind::linear: {
      check_factor(s);
      Spectrum out{plain(config.theta, lanes), 1.0};
      for (double& f : out.inv_freq) f /= s.factor;
      return out;
    }
    case Kind::ntk:
      check_factor(s);
      check_ntk_lanes(s, lanes);
      return {ntk_rebased(config.theta, s.factor, lanes), 1.0};
    case Kind::dynamic_ntk:
      return dynamic_ntk(config, seq_len);
    case Kind::yarn:
      return yarn(config);
    case Kind::llama3:
      return llama3(config);
    case Kind::longrope:
      return longrope(config, seq_len);
    case Kind::truncated:
      return truncated(config);
    case Kind::custom:
      return custom(config);
  }
  fail("scaling.kind is not a Scaling::Kind (got ", static_cast<int>(s.kind), ")");
}

}  // namespace krope
