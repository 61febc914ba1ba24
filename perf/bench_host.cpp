/// \file bench_host.cpp
/// krope_bench_host: krope::apply on the host execution spaces (Serial, and OpenMP when Kokkos
/// has it) against the naive baseline and a same-run host copy (Kokkos::deep_copy, memcpy on
/// Serial) of the same bytes. On the host krope::apply is the generic kernel, so there is no
/// separate generic path. Shapes are smaller than the device suite's: a host call on the
/// Llama-3-8B prefill shape moves 671 MB.

#include "support/main.hpp"
#include "support/runner.hpp"

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

namespace krope::perf {
namespace {

template <class Space>
void register_host(const std::string& group) {
  const std::vector<Path> paths{Path::copy, Path::naive, Path::apply};
  register_case<Space, Kind<bfloat16>>(make_shape(group, 1, 1024, 32, 8, 128), paths);
  register_case<Space, Kind<float>>(make_shape(group, 1, 1024, 32, 8, 128), paths);
  register_case<Space, Kind<bfloat16>>(make_shape(group, 2, 256, 16, 16, 128), paths);
  register_case<Space, Kind<bfloat16>>(make_shape(group, 1, 8192, 1, 1, 128), paths);
  Case decode = make_shape(group, 64, 1, 32, 8, 128);
  decode.variant = "offsets";
  register_case<Space, Kind<bfloat16, Layout::bshd, PositionMode::sequence_offsets>>(decode, paths);
}

}  // namespace
}  // namespace krope::perf

int main(int argc, char** argv) {
  return krope::perf::benchmark_main<Kokkos::DefaultHostExecutionSpace>(argc, argv, [] {
#ifdef KOKKOS_ENABLE_SERIAL
    krope::perf::register_host<Kokkos::Serial>("host-serial");
#endif
#ifdef KOKKOS_ENABLE_OPENMP
    krope::perf::register_host<Kokkos::OpenMP>("host-openmp");
#endif
  });
}
