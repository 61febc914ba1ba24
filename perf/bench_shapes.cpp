/// \file bench_shapes.cpp
/// Shapes, bf16 in place with contiguous positions unless the label says otherwise:
///   shapes   the table (B, T, Hq, Hk, D), plus Llama-3-8B prefill in fp32
///   decode   (64, 1, 32, 8, 128), each sequence at its own KV-cache offset: time per call
///   decode-graph  the same call captured into a CUDA graph: time per replay (CUDA builds)
///   reports  the original reports' B x H x T x D shapes (Hq = Hk = H)
///   sweep    N x 128 for N = 2048 ... 63488 step 4096 (B = 1, H = 1, T = N), table and table-free
/// Each on every path: copy ceiling, naive baseline, generic Kokkos kernel, krope::apply.

#include "support/graph_replay.hpp"
#include "support/runner.hpp"

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <string>
#include <type_traits>
#include <vector>

namespace krope::perf {

namespace {
using Device = Kokkos::DefaultExecutionSpace;

const std::vector<Path> all_paths{Path::copy, Path::naive, Path::generic, Path::apply};
}  // namespace

void register_shapes() {
  // The table.
  register_case<Device, Kind<bfloat16>>(make_shape("shapes", 8, 4096, 32, 8, 128), all_paths);
  register_case<Device, Kind<bfloat16>>(make_shape("shapes", 4, 4096, 16, 16, 256), all_paths);
  register_case<Device, Kind<bfloat16>>(make_shape("shapes", 1, 63488, 1, 1, 128), all_paths);
  // Its table is as large as q + k at this shape; table-free angles read no table.
  Case long_free = make_shape("shapes", 1, 63488, 1, 1, 128);
  long_free.variant = "table-free";
  register_case<Device,
                Kind<bfloat16, Layout::bshd, PositionMode::contiguous, AngleMode::frequencies>>(
      long_free, all_paths);
  register_case<Device, Kind<float>>(make_shape("shapes", 8, 4096, 32, 8, 128), all_paths);
  // One long sequence with many heads.
  register_case<Device, Kind<bfloat16>>(make_shape("shapes", 1, 16384, 32, 8, 128), all_paths);
  Case decode = make_shape("decode", 64, 1, 32, 8, 128);
  decode.variant = "offsets";
  using Decode = Kind<bfloat16, Layout::bshd, PositionMode::sequence_offsets>;
  register_case<Device, Decode>(decode, all_paths);
#ifdef KOKKOS_ENABLE_CUDA
  if constexpr (std::is_same<Device, Kokkos::Cuda>::value) {
    Case graph = decode;
    graph.group = "decode-graph";
    register_graph_case<Decode>(graph, {Path::copy, Path::generic, Path::apply});
  }
#endif

  // The original reports' shapes, B x H x T x D.
  struct Report {
    int batch, heads, seq, head_dim;
  };
  const Report reports[] = {{1, 8, 128, 64},    {2, 8, 256, 64},   {4, 12, 512, 64},
                            {8, 16, 1024, 64},  {1, 8, 2048, 128}, {2, 16, 512, 128},
                            {4, 16, 1024, 128}, {4, 16, 4096, 256}};
  for (const Report& r : reports)
    register_case<Device, Kind<bfloat16>>(
        make_shape("reports", r.batch, r.seq, r.heads, r.heads, r.head_dim), all_paths);

  // N x 128, with a table and table-free (above N ~ 30000 the table, as large as q + k, no
  // longer stays in L2).
  for (int n = 2048; n <= 63488; n += 4096) {
    register_case<Device, Kind<bfloat16>>(make_shape("sweep", 1, n, 1, 1, 128), all_paths);
    Case free = make_shape("sweep", 1, n, 1, 1, 128);
    free.variant = "table-free";
    register_case<Device,
                  Kind<bfloat16, Layout::bshd, PositionMode::contiguous, AngleMode::frequencies>>(
        free, {Path::copy, Path::apply});
  }
}

}  // namespace krope::perf
