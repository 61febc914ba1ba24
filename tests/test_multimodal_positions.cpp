// krope::multimodal_positions: the (t, h, w) layout of HF transformers' Qwen2-VL get_rope_index,
// checked against the positions HF produced for tests/data/mrope_vectors.json and against
// hand-counted prompts (a Qwen2.5-VL video with a temporal step).

#include "support/json_data.hpp"

#include <krope/multimodal_positions.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using krope::PromptSegment;

TEST(MultimodalPositions, MatchesHuggingFaceGetRopeIndex) {
  // mrope_qwen2vl_d128: 6 text tokens, a 1 x 3 x 4 image grid, 6 text tokens.
  const auto data =
      krope::test::load_json(std::string(KROPE_TEST_DATA_DIR) + "/mrope_vectors.json");
  const krope::test::Json& entry = data.at("cases").at(0);
  ASSERT_EQ(entry.at("name").get<std::string>(), "mrope_qwen2vl_d128");
  const auto got = krope::multimodal_positions(
      {PromptSegment::text_tokens(6), PromptSegment::grid(1, 3, 4), PromptSegment::text_tokens(6)});
  const krope::test::Json& axes = entry.at("positions");
  ASSERT_EQ(got.tokens(), 24);
  for (int a = 0; a < 3; ++a) {
    const auto want = krope::test::as_int64s(axes.at(a));
    for (std::int64_t t = 0; t < got.tokens(); ++t)
      EXPECT_EQ(got.ids[3 * t + a], want[t]) << "token " << t << " axis " << a;
  }
  EXPECT_EQ(got.next, 16);
}

TEST(MultimodalPositions, VideoFramesStepInTime) {
  // 1 text token, then 2 frames of 2 x 2 at two positions per frame (Qwen2.5-VL:
  // second_per_grid_t * tokens_per_second = 2), then text one past the largest position.
  const auto got =
      krope::multimodal_positions({PromptSegment::text_tokens(1), PromptSegment::grid(2, 2, 2, 2.0),
                                   PromptSegment::text_tokens(1)});
  const std::vector<std::int64_t> want = {0, 0, 0,                             // text
                                          1, 1, 1, 1, 1, 2, 1, 2, 1, 1, 2, 2,  // frame 0
                                          3, 1, 1, 3, 1, 2, 3, 2, 1, 3, 2, 2,  // frame 1
                                          4, 4, 4};                            // text
  EXPECT_EQ(got.ids, want);
  EXPECT_EQ(got.next, 5);
  EXPECT_EQ(krope::multimodal_positions({}).next, 0);
}

TEST(MultimodalPositions, RejectsMalformedSegments) {
  auto expect_rejected = [](const std::vector<PromptSegment>& segments, const std::string& needle) {
    try {
      krope::multimodal_positions(segments);
      ADD_FAILURE() << "no exception; expected one naming '" << needle << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_rejected({PromptSegment{3, 1, 2, 2, 1.0}}, "not both");
  expect_rejected({PromptSegment::text_tokens(-1)}, "text >= 0");
  expect_rejected({PromptSegment::grid(1, 0, 4)}, "every extent must be positive");
  expect_rejected({PromptSegment::grid(2, 2, 2, -1.0)}, "temporal_step");
}

}  // namespace
