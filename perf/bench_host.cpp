/// \file bench_host.cpp
/// krope_bench_host: krope::apply on the host execution spaces (Serial, and OpenMP when Kokkos
/// has it) against a same-run parallel memcpy and an in-place touch of the same bytes, and the
/// naive baseline. On the host krope::apply is the portable kernel, so there is no separate
/// generic path. Shapes are smaller than the device suite's: a host call on the Llama-3-8B
/// prefill shape moves 671 MB.

#include "support/main.hpp"
#include "support/runner.hpp"

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <string>
#include <vector>

namespace krope::perf {
namespace {

template <class Space, class Value>
void register_dtype(const std::string& group, const std::vector<Path>& paths) {
  register_case<Space, Kind<Value>>(make_shape(group, 1, 4096, 32, 8, 128), paths);
  Case decode = make_shape(group, 64, 1, 32, 8, 128);
  decode.variant = "offsets";
  register_case<Space, Kind<Value, Layout::bshd, PositionMode::sequence_offsets>>(decode, paths);
  register_case<Space, Kind<Value>>(make_shape(group, 4, 1024, 16, 16, 64), paths);
}

/// In place, every dtype, against a same-run parallel memcpy (copy) and in-place read + write
/// (touch) of the same bytes; the naive baseline for 16 bits (fp32 as a check of the method).
template <class Space>
void register_host(const std::string& group) {
  register_dtype<Space, float>(group, {Path::copy, Path::touch, Path::apply});
  register_dtype<Space, bfloat16>(group, {Path::copy, Path::touch, Path::naive, Path::apply});
  register_dtype<Space, float16>(group, {Path::copy, Path::touch, Path::apply});
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
