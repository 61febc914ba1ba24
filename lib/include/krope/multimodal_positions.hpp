#pragma once
/// \file multimodal_positions.hpp
/// The (t, h, w) positions of a vision-language prompt for M-RoPE, laid out as HF transformers'
/// Qwen2-VL / Qwen2.5-VL get_rope_index lays them out: host-side, for krope::axis_positions.

#include <cstdint>
#include <vector>

namespace krope {

/// One run of a prompt: `text` text tokens, or (text = 0) a grid of grid_t x grid_h x grid_w
/// vision tokens as the language model sees them (after the vision encoder's spatial merge).
struct PromptSegment {
  std::int64_t text = 0;
  std::int64_t grid_t = 0, grid_h = 0, grid_w = 0;
  /// Temporal positions per frame of the grid: 1 for Qwen2-VL and images; Qwen2.5-VL videos use
  /// second_per_grid_t * tokens_per_second (frame f sits at floor(f * temporal_step)).
  double temporal_step = 1.0;

  static PromptSegment text_tokens(std::int64_t n) { return {n, 0, 0, 0, 1.0}; }
  static PromptSegment grid(std::int64_t t, std::int64_t h, std::int64_t w, double step = 1.0) {
    return {0, t, h, w, step};
  }
};

/// Positions of a whole prompt: token i at (t, h, w) = (ids[3i], ids[3i + 1], ids[3i + 2]).
struct MultimodalPositions {
  std::vector<std::int64_t> ids;  ///< [tokens][3], row-major
  /// The position of the first generated token, on every axis (HF's rope_deltas + prompt
  /// length): decode steps rotate by one position, next + step, with the same table.
  std::int64_t next = 0;
  std::int64_t tokens() const { return static_cast<std::int64_t>(ids.size() / 3); }
};

/// Text tokens continue one past the largest position so far, on all three axes; a grid starts
/// there and adds (frame, row, column) to it: frame f at floor(f * temporal_step), row r, col c.
/// Throws std::invalid_argument for a segment that is neither text nor a whole grid, or a
/// temporal_step that is negative or not finite.
MultimodalPositions multimodal_positions(const std::vector<PromptSegment>& segments);

}  // namespace krope
