#include "fail.hpp"

#include <krope/multimodal_positions.hpp>

#include <algorithm>
#include <cmath>

namespace krope {

MultimodalPositions multimodal_positions(const std::vector<PromptSegment>& segments) {
  MultimodalPositions out;
  std::int64_t start = 0;  // one past the largest position so far
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const PromptSegment& s = segments[i];
    const char* which = "multimodal_positions: segment ";
    const bool grid = s.grid_t > 0 || s.grid_h > 0 || s.grid_w > 0;
    if (s.text < 0 || (s.text > 0 && grid))
      Impl::fail(which, i, " must be text tokens (text >= 0) or a grid, not both");
    if (grid && (s.grid_t <= 0 || s.grid_h <= 0 || s.grid_w <= 0))
      Impl::fail(which, i, " is a grid of ", s.grid_t, " x ", s.grid_h, " x ", s.grid_w,
                 ": every extent must be positive");
    if (!std::isfinite(s.temporal_step) || s.temporal_step < 0)
      Impl::fail(which, i, " has temporal_step ", s.temporal_step, ": it must be finite and >= 0");
    if (!grid) {
      for (std::int64_t k = 0; k < s.text; ++k) out.ids.insert(out.ids.end(), 3, start + k);
      start += s.text;
      continue;
    }
    std::int64_t largest = start;
    for (std::int64_t f = 0; f < s.grid_t; ++f) {
      const auto t = start + static_cast<std::int64_t>(std::floor(f * s.temporal_step));
      for (std::int64_t r = 0; r < s.grid_h; ++r)
        for (std::int64_t c = 0; c < s.grid_w; ++c) {
          out.ids.insert(out.ids.end(), {t, start + r, start + c});
          largest = std::max({largest, t, start + r, start + c});
        }
    }
    start = largest + 1;
  }
  out.next = start;
  return out;
}

}  // namespace krope
