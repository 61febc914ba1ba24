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
  // 0.25 and 0.75 of head 96) and one that is (R = 40: 20 pairs): the public path, which the CUDA
  // specialization hands to the portable kernel when R/2 is not a multiple of 8 lanes.
  for (const auto& [head_dim, rotary_dim] : {std::pair{80, 20}, {80, 40}, {96, 24}, {96, 72}}) {
    Case c = llama("partial R=" + std::to_string(rotary_dim));
    c.head_dim = head_dim;
    c.rotary_dim = rotary_dim;
    register_case<Device, Kind<bf16>>(c, {Path::copy, Path::apply});
  }
}

}  // namespace krope::perf
