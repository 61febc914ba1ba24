#pragma once
/// \file huggingface.hpp
/// Builds a krope::Config from the RoPE fields of a HuggingFace transformers model config.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <krope/config.hpp>

namespace krope {

/// The RoPE fields of a HuggingFace model config (config.json / `rope_parameters`, formerly
/// `rope_scaling`), under HF's names. Absent keys stay std::nullopt (empty for the factor lists);
/// from_huggingface() then applies HF's defaults.
struct HuggingFaceRope {
  /// "default", "linear", "dynamic", "yarn", "llama3", "longrope"; "mrope" (older Qwen2-VL
  /// configs: "default" with mrope_section); "axial" (vision towers: two position axes, h and w,
  /// of R/4 pairs each with their own frequencies)
  std::string rope_type = "default";
  double rope_theta = 10000.0;
  int head_dim = 0;                    ///< or hidden_size / num_attention_heads
  double partial_rotary_factor = 1.0;  ///< rotated fraction of head_dim
  std::int64_t max_position_embeddings = 0;

  std::optional<double> factor;
  std::optional<std::int64_t> original_max_position_embeddings;
  std::optional<double> attention_factor;
  std::optional<double> beta_fast;
  std::optional<double> beta_slow;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<bool> truncate;
  std::optional<double> low_freq_factor;
  std::optional<double> high_freq_factor;
  std::vector<double> short_factor;
  std::vector<double> long_factor;
  /// Multi-axis RoPE (Qwen2-VL, Qwen2.5-VL, Qwen3-VL text models): pairs per (t, h, w) axis.
  std::vector<int> mrope_section;
  bool mrope_interleaved = false;  ///< Qwen3-VL: the axes interleave (AxisLayout::interleaved)
};

/// The Config transformers would build from `rope`: rotary_dim = int(head_dim *
/// partial_rotary_factor); original_max_position_embeddings defaults to max_position_embeddings;
/// yarn and longrope take `factor` = max_position_embeddings / original_max_position_embeddings
/// when it is absent; yarn's beta_fast / beta_slow default to 32 / 1 (also when 0, as in HF).
/// `mrope_section` gives Config::axes (chunked, or interleaved with `mrope_interleaved`, shared
/// spectrum); rope_type "axial" two per_axis axes of R/4 pairs.
/// Throws std::invalid_argument for an unknown rope_type, a key the type requires that is absent
/// (factor; low_freq_factor, high_freq_factor; short_factor, long_factor) and any value that
/// spectrum() would reject.
Config from_huggingface(const HuggingFaceRope& rope, Pairing pairing = Pairing::half_split);

}  // namespace krope
