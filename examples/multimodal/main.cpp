// krope multimodal: M-RoPE for a vision-language prompt, as Qwen2-VL and Qwen3-VL run it.
//
// The prompt is text, an image and text again. Its (t, h, w) positions come from
// krope::multimodal_positions, laid out as HF transformers' get_rope_index lays them out: text
// tokens on the diagonal t = h = w, the image's tokens at (start, start + row, start + column).
// q and k are rotated in place with krope::axis_positions, each pair by the position of its own
// axis: Qwen2-VL's chunked sections {16, 24, 24} and Qwen3-VL's interleaved {24, 20, 20}. Then
// one decode step rotates the next token by a single position, which every axis takes. Every
// result is checked against the fp64 reference (krope::reference_rope).
//
//   ./multimodal [image_rows]    (default 32 x 24 merged patches, a 896 x 672 image; CTest 8)
//
// Exits non-zero when a result misses the library's accuracy contract.

#include <example_support.hpp>

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Memory = Space::memory_space;
using T = krope::bfloat16;
using Heads = Kokkos::View<T****, Kokkos::LayoutRight, Memory>;  // [batch][seq][heads][dim]
using krope_example::Checks;

constexpr int q_heads = 28, k_heads = 4, head_dim = 128;  // Qwen2-VL-7B's language model
constexpr double bf16_bound = 1.7e-3;                     // the contract's norm-wise bound

/// Each row's three positions repeated for its `heads` head rows: the reference's rows.
std::vector<std::int64_t> per_head(const std::vector<std::int64_t>& ids, int heads) {
  std::vector<std::int64_t> rows;
  for (std::size_t token = 0; token < ids.size(); token += 3)
    for (int h = 0; h < heads; ++h)
      rows.insert(rows.end(), ids.begin() + token, ids.begin() + token + 3);
  return rows;
}

/// Rotates q and k of the prompt in place by their (t, h, w) positions under `config`, then one
/// decode token at `next`; returns the largest norm-wise error against the fp64 reference.
double run_model(const char* model, const krope::Config& config,
                 const krope::MultimodalPositions& prompt) {
  const Space space;
  const std::int64_t tokens = prompt.tokens();
  const auto table = krope::make_table<Memory>(config, prompt.next + 1);

  Heads q("q", 1, tokens, q_heads, head_dim), k("k", 1, tokens, k_heads, head_dim);
  const std::vector<double> q_in = krope_example::fill_gaussian(q, 1);
  const std::vector<double> k_in = krope_example::fill_gaussian(k, 2);
  Kokkos::View<std::int64_t***, Kokkos::LayoutRight, Memory> ids("ids", 1, tokens, 3);
  auto ids_host = Kokkos::create_mirror_view(ids);
  for (std::int64_t i = 0; i < tokens * 3; ++i) ids_host.data()[i] = prompt.ids[i];
  Kokkos::deep_copy(ids, ids_host);

  // The call this example is about: every pair turns by the position of its own axis.
  krope::apply(space, table, q, k, krope::axis_positions{ids});
  space.fence();

  const double prefill_error =
      std::max(krope_example::relative_error(
                   krope_example::to_doubles(q),
                   krope_example::reference_rope(config, q_in, per_head(prompt.ids, q_heads))),
               krope_example::relative_error(
                   krope_example::to_doubles(k),
                   krope_example::reference_rope(config, k_in, per_head(prompt.ids, k_heads))));

  // Decode: the generated token sits at `next` on every axis, a one-position call.
  Heads q1("q1", 1, 1, q_heads, head_dim), k1("k1", 1, 1, k_heads, head_dim);
  const std::vector<double> q1_in = krope_example::fill_gaussian(q1, 3);
  const std::vector<double> k1_in = krope_example::fill_gaussian(k1, 4);
  krope::apply(space, table, q1, k1, krope::contiguous{prompt.next});
  space.fence();
  const std::vector<std::int64_t> next(3, prompt.next);
  const double decode_error =
      std::max(krope_example::relative_error(
                   krope_example::to_doubles(q1),
                   krope_example::reference_rope(config, q1_in, per_head(next, q_heads))),
               krope_example::relative_error(
                   krope_example::to_doubles(k1),
                   krope_example::reference_rope(config, k1_in, per_head(next, k_heads))));

  std::printf("| %-9s | %-12s | %-11s | %6lld | %9.2e | %9.2e |\n", model,
              config.axes.layout == krope::AxisLayout::chunked ? "chunked" : "interleaved",
              config.axes.layout == krope::AxisLayout::chunked ? "16, 24, 24" : "24, 20, 20",
              static_cast<long long>(tokens), prefill_error, decode_error);
  return std::max(prefill_error, decode_error);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (!krope_example::device_visible()) return krope_example::skipped(argv[0]);
  Kokkos::ScopeGuard kokkos(argc, argv);
  krope_example::print_execution_space();
  const std::int64_t rows = krope_example::size_argument(argc, argv, 32);
  const std::int64_t columns = rows * 3 / 4;

  // "<|im_start|>user ... Describe this image." around one image of rows x columns merged patches.
  const krope::MultimodalPositions prompt = krope::multimodal_positions({
      krope::PromptSegment::text_tokens(15),
      krope::PromptSegment::grid(1, rows, columns),
      krope::PromptSegment::text_tokens(9),
  });
  const std::int64_t image_start = 15, image_end = 15 + rows * columns;
  std::printf("prompt: 15 text tokens, a %lld x %lld image grid, 9 text tokens: %lld tokens\n",
              static_cast<long long>(rows), static_cast<long long>(columns),
              static_cast<long long>(prompt.tokens()));
  auto show = [&](const char* what, std::int64_t i) {
    std::printf("  %-22s token %5lld at (t, h, w) = (%lld, %lld, %lld)\n", what,
                static_cast<long long>(i), static_cast<long long>(prompt.ids[3 * i]),
                static_cast<long long>(prompt.ids[3 * i + 1]),
                static_cast<long long>(prompt.ids[3 * i + 2]));
  };
  show("last text before:", image_start - 1);
  show("first image patch:", image_start);
  show("last image patch:", image_end - 1);
  show("first text after:", image_end);
  std::printf("  next generated token at %lld on every axis\n\n",
              static_cast<long long>(prompt.next));

  // Qwen2-VL-7B-Instruct: rope_theta 1e6, mrope_section [16, 24, 24].
  krope::HuggingFaceRope qwen2;
  qwen2.head_dim = head_dim;
  qwen2.rope_theta = 1e6;
  qwen2.mrope_section = {16, 24, 24};
  // Qwen3-VL: rope_theta 5e6, mrope_section [24, 20, 20], mrope_interleaved.
  krope::HuggingFaceRope qwen3 = qwen2;
  qwen3.rope_theta = 5e6;
  qwen3.mrope_section = {24, 20, 20};
  qwen3.mrope_interleaved = true;

  std::printf(
      "bf16 q [1][%lld][%d][%d], k [1][%lld][%d][%d], float table; errors norm-wise vs fp64\n",
      static_cast<long long>(prompt.tokens()), q_heads, head_dim,
      static_cast<long long>(prompt.tokens()), k_heads, head_dim);
  std::printf("| %-9s | %-12s | %-11s | %6s | %9s | %9s |\n", "model", "axes", "sections", "tokens",
              "prefill", "decode");
  std::printf("|-----------|--------------|-------------|--------|-----------|-----------|\n");
  Checks checks;
  const double e2 = run_model("Qwen2-VL", krope::from_huggingface(qwen2), prompt);
  const double e3 = run_model("Qwen3-VL", krope::from_huggingface(qwen3), prompt);
  std::printf("\nchecks:\n");
  checks.expect(prompt.ids[3 * image_start] == 15 && prompt.ids[3 * image_start + 1] == 15 &&
                    prompt.ids[3 * (image_end - 1) + 2] == 15 + columns - 1 &&
                    prompt.ids[3 * image_end] == 15 + rows,
                "positions laid out as get_rope_index lays them out");
  checks.expect(e2 <= bf16_bound, "Qwen2-VL M-RoPE within the bf16 contract");
  checks.expect(e3 <= bf16_bound, "Qwen3-VL interleaved M-RoPE within the bf16 contract");
  return checks.exit_code();
}
