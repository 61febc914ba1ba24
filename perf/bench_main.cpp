/// \file bench_main.cpp
/// krope_bench: the device suite (shapes, decode, reports, sweep, variants) on the default
/// execution space. Run perf/run_h100.sh for the documented command and the charts.

#include "support/main.hpp"

#include <Kokkos_Core.hpp>

namespace krope::perf {
void register_shapes();
void register_variants();
}  // namespace krope::perf

int main(int argc, char** argv) {
  return krope::perf::benchmark_main<Kokkos::DefaultExecutionSpace>(argc, argv, [] {
    krope::perf::register_shapes();
    krope::perf::register_variants();
  });
}
