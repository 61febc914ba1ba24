#pragma once
/// \file main.hpp
/// The main() of each benchmark executable: Kokkos up,
/// default statistics (5 repetitions, medians, aggregates only, 0.1 s per repetition) unless
/// the command line sets them, context in the JSON, the suite's registrations, then the run;
/// exit status 1 when a case failed.

#include "case_data.hpp"
#include "device.hpp"
#include "runner.hpp"

#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace krope::perf {

template <class ExecSpace>
int benchmark_main(int argc, char** argv, const std::function<void()>& register_benchmarks) {
  Kokkos::initialize(argc, argv);
  int status = 0;
  {
    std::vector<char*> args(argv, argv + argc);
    auto given = [&](const char* flag) {
      for (int i = 1; i < argc; ++i)
        if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) return true;
      return false;
    };
    static char repetitions[] = "--benchmark_repetitions=5";
    static char aggregates[] = "--benchmark_report_aggregates_only=true";
    static char min_time[] = "--benchmark_min_time=0.1";
    if (!given("--benchmark_repetitions")) args.push_back(repetitions);
    if (!given("--benchmark_report_aggregates_only") && !given("--benchmark_display_aggregates"))
      args.push_back(aggregates);
    if (!given("--benchmark_min_time")) args.push_back(min_time);
    int count = static_cast<int>(args.size());
    args.push_back(nullptr);
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) {
      status = 1;
    } else {
      benchmark::AddCustomContext("krope_device", device_name<ExecSpace>());
      benchmark::AddCustomContext("krope_exec_space", ExecSpace::name());
      benchmark::AddCustomContext("krope_last_level_cache_bytes",
                                  std::to_string(last_level_cache_bytes<ExecSpace>()));
      benchmark::AddCustomContext(
          "krope_bytes", "q and k read once and written once; tables, ids, offsets ignored");
      register_benchmarks();
      benchmark::RunSpecifiedBenchmarks();
      if (suite_failed()) status = 1;
    }
    benchmark::Shutdown();
    release_fixtures();
  }
  Kokkos::finalize();
  return status;
}

}  // namespace krope::perf
