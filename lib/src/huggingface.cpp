#include "fail.hpp"

#include <krope/huggingface.hpp>
#include <krope/spectrum.hpp>

#include <cmath>
#include <string>

namespace krope {
namespace {

using Kind = Scaling::Kind;

using Impl::fail;

template <class T>
T required(const std::optional<T>& value, const char* key, const std::string& rope_type) {
  if (!value) fail("rope_type \"" + rope_type + "\" requires " + key);
  return *value;
}

Kind kind_of(const std::string& rope_type) {
  if (rope_type == "default" || rope_type == "mrope" || rope_type == "axial") return Kind::none;
  if (rope_type == "linear") return Kind::linear;
  if (rope_type == "dynamic") return Kind::dynamic_ntk;
  if (rope_type == "yarn") return Kind::yarn;
  if (rope_type == "llama3") return Kind::llama3;
  if (rope_type == "longrope") return Kind::longrope;
  fail("rope_type \"" + rope_type +
       "\" is unknown (expected default, linear, dynamic, yarn, llama3, longrope, mrope or "
       "axial)");
}

// HF reads beta_fast/beta_slow with `or`, so an explicit 0 also means the default.
double or_default(const std::optional<double>& value, double fallback) {
  return value && *value != 0.0 ? *value : fallback;
}

}  // namespace

Config from_huggingface(const HuggingFaceRope& rope, Pairing pairing) {
  Config config;
  config.head_dim = rope.head_dim;
  config.pairing = pairing;
  config.theta = rope.rope_theta;

  const double fraction = rope.partial_rotary_factor;
  if (!(fraction > 0.0 && fraction <= 1.0))
    fail("partial_rotary_factor must be in (0, 1] (got " + std::to_string(fraction) + ")");
  const int rotated = static_cast<int>(rope.head_dim * fraction);  // Python's int(): truncates
  if (rope.head_dim > 0 && rotated == 0)
    fail("partial_rotary_factor " + std::to_string(fraction) +
         " leaves no rotated lanes of head_dim " + std::to_string(rope.head_dim));
  config.rotary_dim = rotated;

  Scaling& s = config.scaling;
  s.kind = kind_of(rope.rope_type);
  s.max_positions = rope.max_position_embeddings;
  // HF's standardize_rope_params: the pretraining context defaults to max_position_embeddings.
  s.original_max_positions =
      rope.original_max_position_embeddings.value_or(rope.max_position_embeddings);
  // Where HF derives `factor`, it is the context extension ratio.
  const double extension_ratio = s.original_max_positions > 0
                                     ? static_cast<double>(rope.max_position_embeddings) /
                                           static_cast<double>(s.original_max_positions)
                                     : 1.0;

  switch (s.kind) {
    case Kind::linear:
    case Kind::dynamic_ntk:
      s.factor = required(rope.factor, "factor", rope.rope_type);
      break;
    case Kind::yarn:
      s.factor = rope.factor.value_or(extension_ratio);
      s.attention_factor = rope.attention_factor.value_or(0.0);
      s.beta_fast = or_default(rope.beta_fast, 32.0);
      s.beta_slow = or_default(rope.beta_slow, 1.0);
      s.mscale = rope.mscale.value_or(0.0);
      s.mscale_all_dim = rope.mscale_all_dim.value_or(0.0);
      s.truncate = rope.truncate.value_or(true);
      break;
    case Kind::llama3:
      s.factor = required(rope.factor, "factor", rope.rope_type);
      s.low_freq_factor = required(rope.low_freq_factor, "low_freq_factor", rope.rope_type);
      s.high_freq_factor = required(rope.high_freq_factor, "high_freq_factor", rope.rope_type);
      break;
    case Kind::longrope:
      if (rope.short_factor.empty()) fail("rope_type \"longrope\" requires short_factor");
      if (rope.long_factor.empty()) fail("rope_type \"longrope\" requires long_factor");
      s.short_factor = rope.short_factor;
      s.long_factor = rope.long_factor;
      s.factor = rope.factor.value_or(extension_ratio);
      s.attention_factor = rope.attention_factor.value_or(0.0);
      break;
    default:
      break;
  }

  if (rope.rope_type == "axial") {
    if (!rope.mrope_section.empty()) fail("rope_type \"axial\" takes no mrope_section");
    if (rotated % 4 != 0)
      fail("rope_type \"axial\" splits the rotary dim into two axes: " + std::to_string(rotated) +
           " is not a multiple of 4");
    config.axes.pairs = {rotated / 4, rotated / 4};
    config.axes.spectrum = AxisSpectrum::per_axis;
  } else if (!rope.mrope_section.empty()) {
    config.axes.pairs = rope.mrope_section;
    config.axes.layout = rope.mrope_interleaved ? AxisLayout::interleaved : AxisLayout::chunked;
  } else if (rope.rope_type == "mrope") {
    fail("rope_type \"mrope\" requires mrope_section");
  } else if (rope.mrope_interleaved) {
    fail("mrope_interleaved requires mrope_section");
  }

  (void)spectrum(config);  // reject a bad model config here rather than at first use
  return config;
}

}  // namespace krope
