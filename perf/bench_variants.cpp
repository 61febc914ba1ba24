/// \file bench_variants.cpp
/// Variants at the Llama-3-8B prefill shape (B=8 T=4096 Hq=32 Hk=8 D=128), bf16 in place with
/// a table and contiguous positions except for the one thing each changes. fp32 is in
/// bench_shapes.cpp (it is one of the shapes). Position ids, offsets and varlen run
/// with check_range = false: the timed call is the rotation, not the optional range check.

#include "support/runner.hpp"

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace krope::perf {

namespace {
using Device = Kokkos::DefaultExecutionSpace;
using bf16 = bfloat16;
const std::vector<Path> all_paths{Path::copy, Path::naive, Path::generic, Path::apply};

Case llama(const std::string& variant) {
  Case c;
  c.group = "variants";
  c.variant = variant;
  c.batch = 8;
  c.seq = 4096;
  c.q_heads = 32;
  c.k_heads = 8;
  c.head_dim = 128;
  return c;
}
}  // namespace

void register_variants() {
  Case interleaved = llama("interleaved");
  interleaved.pairing = Pairing::interleaved;
  register_case<Device, Kind<bf16>>(interleaved, all_paths);

  Case partial = llama("partial R=64");
  partial.rotary_dim = 64;
  register_case<Device, Kind<bf16>>(partial, all_paths);

  register_case<Device, Kind<float16>>(llama(""), all_paths);

  register_case<Device, Kind<bf16, Layout::bshd, PositionMode::position_ids>>(llama("position_ids"),
                                                                              all_paths);

  register_case<Device, Kind<bf16, Layout::bshd, PositionMode::varlen>>(llama("varlen"), all_paths);

  register_case<Device, Kind<bf16, Layout::bshd, PositionMode::sequence_offsets>>(llama("offsets"),
                                                                                  all_paths);

  Case backward = llama("backward");
  backward.direction = Direction::backward;
  register_case<Device, Kind<bf16>>(backward, all_paths);

  register_case<Device, Kind<bf16, Layout::bshd, PositionMode::contiguous, AngleMode::frequencies>>(
      llama("table-free"), all_paths);

  register_case<Device, Kind<bf16, Layout::bhsd>>(llama("strided bhsd"), all_paths);

  register_case<Device, Kind<bf16, Layout::bshd, PositionMode::contiguous, AngleMode::table, true>>(
      llama("out of place"), all_paths);

  // Partial rotary whose half is not whole 16-byte vectors (StableLM / Pythia: 0.25 of head 80;
  // 0.5 of head 80; 0.25 and 0.75 of head 96): the public path, which the CUDA specialization
  // hands to the portable kernel (R/2 is not a multiple of 8 lanes), whose chunks then shrink to
  // 4 bytes (R = 20) or 8 bytes (R = 40, 24, 72).
  for (const auto& [head_dim, rotary_dim] : {std::pair{80, 20}, {80, 40}, {96, 24}, {96, 72}}) {
    Case c = llama("partial R=" + std::to_string(rotary_dim));
    c.head_dim = head_dim;
    c.rotary_dim = rotary_dim;
    register_case<Device, Kind<bf16>>(c, {Path::copy, Path::apply});
  }

  // Multi-axis RoPE at the same shape, (t, h, w) positions of a text-image-text prompt:
  // Qwen2-VL's chunked M-RoPE sections and Qwen3-VL's interleaved ones.
  using Axial = Kind<bf16, Layout::bshd, PositionMode::axis_positions>;
  Case qwen2 = llama("M-RoPE 16,24,24");
  qwen2.axes = {{16, 24, 24}, AxisLayout::chunked, AxisSpectrum::shared};
  register_case<Device, Axial>(qwen2, {Path::copy, Path::generic, Path::apply});
  Case qwen3 = llama("interleaved M-RoPE 24,20,20");
  qwen3.axes = {{24, 20, 20}, AxisLayout::interleaved, AxisSpectrum::shared};
  register_case<Device, Axial>(qwen3, {Path::copy, Path::generic, Path::apply});

  // A vision tower's 2-D RoPE (Qwen2-VL: 16 heads of 80, (h, w) axes of 20 pairs each) over
  // 4096 patches, beside the same shape with one axis.
  Case vision = make_shape("variants", 1, 4096, 16, 16, 80);
  register_case<Device, Kind<bf16>>(vision, {Path::copy, Path::generic, Path::apply});
  vision.variant = "2-D vision 20,20";
  vision.axes = {{20, 20}, AxisLayout::chunked, AxisSpectrum::per_axis};
  register_case<Device, Axial>(vision, {Path::copy, Path::generic, Path::apply});
}

}  // namespace krope::perf
