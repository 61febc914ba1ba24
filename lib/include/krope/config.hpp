#pragma once
/// \file config.hpp
/// What a rotary embedding is: head size, rotated lanes, pairing, base and frequency schedule.

#include <cstdint>
#include <vector>

namespace krope {

/// How the rotated lanes of a head are paired.
enum class Pairing {
  half_split,   ///< (x[i], x[i + R/2]) for i < R/2: GPT-NeoX / Llama `rotate_half`
  interleaved,  ///< (x[2i], x[2i + 1]): GPT-J / RoFormer
};

/// Rotation sense: backward rotates by -angle (the gradient, and the inverse, of forward).
enum class Direction { forward, backward };

/// Frequency schedule. `Kind::none` is the plain theta^(-2i/R); the others follow the rope
/// initialisation functions of HuggingFace transformers (see spectrum.hpp for the formulas).
/// Field names follow the model-config names users know; fields a kind does not use are ignored.
struct Scaling {
  enum class Kind { none, linear, ntk, dynamic_ntk, yarn, llama3, longrope, truncated, custom };
  Kind kind = Kind::none;

  double factor = 1.0;  ///< linear, ntk, dynamic_ntk, yarn, llama3 (HF `factor`)
  std::int64_t original_max_positions = 0;  ///< HF `original_max_position_embeddings`
  std::int64_t max_positions = 0;           ///< HF `max_position_embeddings`
  double beta_fast = 32.0;                  ///< yarn
  double beta_slow = 1.0;                   ///< yarn
  double mscale = 0.0;                      ///< yarn (0 = unset)
  double mscale_all_dim = 0.0;              ///< yarn (0 = unset)
  double attention_factor = 0.0;     ///< yarn, longrope: explicit magnitude scale (0 = derive)
  bool truncate = true;              ///< yarn: round the correction range to whole pairs
  double low_freq_factor = 1.0;      ///< llama3
  double high_freq_factor = 4.0;     ///< llama3
  std::vector<double> short_factor;  ///< longrope, one per pair
  std::vector<double> long_factor;   ///< longrope, one per pair
  std::vector<double> inv_freq;      ///< custom: the inverse frequencies, one per pair
};

/// Which rotated pairs follow which position axis (multi-axis RoPE).
enum class AxisLayout {
  chunked,      ///< axis 0 owns pairs [0, n0), axis 1 the next n1, ...: Qwen2-VL, Qwen2.5-VL
  interleaved,  ///< pair j: axis 1 if j % 3 == 1 and j < 3 n1, axis 2 if j % 3 == 2 and j < 3 n2,
                ///< else axis 0 (three axes): Qwen3-VL
};

/// Where the pairs' inverse frequencies come from when there are several axes.
enum class AxisSpectrum {
  shared,    ///< f(j) = theta^(-2j/R) over all pairs, as with one axis (M-RoPE); schedules apply
  per_axis,  ///< the k-th pair of axis a: theta^(-k/n_a), its own spectrum over its own width
             ///< (vision towers, FLUX-style N-D RoPE); only Scaling::Kind::none
};

/// Multi-axis RoPE: a token carries A positions (t, h, w, ...) and pair j turns by the position
/// of its axis a(j) times its frequency f(j). Empty `pairs` = one axis: plain RoPE.
struct Axes {
  static constexpr int max_axes = 4;
  std::vector<int> pairs;  ///< pairs per axis, summing to R/2 (HF `mrope_section`)
  AxisLayout layout = AxisLayout::chunked;
  AxisSpectrum spectrum = AxisSpectrum::shared;

  /// A, the positions each token carries (1 for plain RoPE).
  int count() const { return pairs.empty() ? 1 : static_cast<int>(pairs.size()); }
};

/// A rotary embedding. `rotary_dim` = 0 means the whole head rotates.
struct Config {
  int head_dim = 0;
  int rotary_dim = 0;
  Pairing pairing = Pairing::half_split;
  double theta = 10000.0;
  Scaling scaling = {};
  Axes axes = {};

  /// The number of rotated lanes R (rotary_dim, or head_dim when rotary_dim is 0).
  int rotated_lanes() const { return rotary_dim == 0 ? head_dim : rotary_dim; }
};

}  // namespace krope
