#pragma once
/// \file spectrum.hpp
/// The inverse frequencies (and attention magnitude) of a rotary embedding: host-only, fp64.
///
/// Notation: R = config.rotated_lanes(), theta = config.theta, i = 0 .. R/2 - 1 indexes the pairs,
/// pair i turns by pos * inv_freq[i], none[i] = theta^(-2i/R) is the unscaled schedule, and
/// ctx = `original_max_positions`, the context the model was pretrained on. Each Scaling field
/// has one meaning; HF's fallbacks for absent config keys live in from_huggingface().
///
/// Scaling::Kind
/// - none:        none[i].  (HF rope_type "default"; `rope_theta`)
/// - linear:      none[i] / factor: position interpolation.  (HF "linear"; `factor`)
/// - ntk:         none[i] with base theta * factor^(R/(R-2)): static NTK-aware base change.
/// - dynamic_ntk: L = max(seq_len, max_positions), base theta * (factor L / max_positions -
///                (factor - 1))^(R/(R-2)); equals none while seq_len <= max_positions.
///                (HF "dynamic"; `factor`, `max_position_embeddings`)
/// - yarn:        d(b) = R ln(ctx / (2 pi b)) / (2 ln theta) is the pair that turns b times over
///                ctx; lo = max(floor(d(beta_fast)), 0), hi = min(ceil(d(beta_slow)), R - 1)
///                (no floor/ceil without `truncate`); ramp r = clamp((i - lo) / (hi - lo), 0, 1);
///                inv_freq = none[i] (r / factor + 1 - r): fast pairs keep none, slow pairs are
///                interpolated. attention_factor = the explicit value if > 0, else
///                m(factor, mscale) / m(factor, mscale_all_dim) when both are non-zero, else
///                m(factor, 1), with m(s, k) = s <= 1 ? 1 : 0.1 k ln(s) + 1.
///                (HF "yarn"; `factor`, `original_max_position_embeddings`, `beta_fast`,
///                `beta_slow`, `mscale`, `mscale_all_dim`, `attention_factor`, `truncate`)
/// - llama3:      wavelength w = 2 pi / none[i]: w < ctx / high_freq_factor keeps none[i],
///                w > ctx / low_freq_factor gives none[i] / factor, in between blends with
///                s = (ctx / w - low_freq_factor) / (high_freq_factor - low_freq_factor):
///                (1 - s) none[i] / factor + s none[i].  (HF "llama3"; `factor`, `low_freq_factor`,
///                `high_freq_factor`, `original_max_position_embeddings`)
/// - longrope:    none[i] / ext[i], ext = long_factor when seq_len > ctx, else short_factor.
///                attention_factor = the explicit value if > 0, else factor <= 1 ? 1 :
///                sqrt(1 + ln(factor) / ln(ctx)), factor being the context extension ratio
///                (HF: `factor`, or `max_position_embeddings` / ctx when absent, as in Phi-3).
///                (HF "longrope"; `short_factor`, `long_factor`,
///                `original_max_position_embeddings`, `attention_factor`)
/// - truncated:   n = R/4 frequencies theta^(-j/(n-1)), j = 0 .. n-1 (exponents linspace 0..1; a
///                single 1.0 when n == 1), then R/2 - n zeros: those pairs stay unrotated. The
///                schedule of the PyTorch model krope grew from.
/// - custom:      `inv_freq` as given (R/2 finite, non-negative entries); attention_factor is the
///                explicit value if > 0.
///
/// attention_factor is 1 for every other kind. Fields a kind does not use are ignored.

#include <cstdint>
#include <vector>

#include <krope/config.hpp>

namespace krope {

/// What a Config rotates by: one inverse frequency per rotated pair, and the magnitude factor
/// applied to the rotated lanes (cos and sin are multiplied by it).
struct Spectrum {
  std::vector<double> inv_freq;  ///< R/2 entries, R = config.rotated_lanes()
  double attention_factor = 1.0;
};

/// Checks the shape of a Config (head_dim, rotary_dim, theta); throws std::invalid_argument
/// naming the offending argument. Every public entry point calls it before touching memory.
void validate(const Config& config);

/// Checks what an angle source (Table, Frequencies) is built for, as validate does for a
/// Config: head_dim, its rotated lanes R (positive), `pairs` = R/2 values per position, and axes
/// that describe the R/2 pairs. Throws std::invalid_argument naming `owner` and the argument.
void validate_angle_source(const char* owner, int head_dim, int rotary_dim, std::int64_t pairs,
                           const Axes& axes);

/// The spectrum of `config` for a sequence of `seq_len` tokens (0 = unknown / at init time).
/// Only dynamic_ntk and longrope depend on seq_len. Throws std::invalid_argument naming the
/// argument when the Config or the scaling parameters of its kind are invalid.
Spectrum spectrum(const Config& config, std::int64_t seq_len = 0);

}  // namespace krope
