#pragma once
// What every example needs besides krope itself: a size argument, fenced timing, seeded data, the
// fp64 host reference rotation and a tally of checks that becomes the exit code; values, errors
// and the device check come from the support library shared with the tests (tests/common/).

#include <common/device.hpp>
#include <common/errors.hpp>
#include <common/values.hpp>
#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace krope_example {

namespace support = krope::support;
using support::device_visible;
using support::from_double;
using support::relative_error;
using support::to_double;
using support::to_doubles;
using support::type_name;

/// Kokkos' math functions: Kokkos:: since 3.7, Kokkos::Experimental:: before (gone in 4.x).
#if KOKKOS_VERSION >= 30700
namespace kokkos_math = Kokkos;
#else
namespace kokkos_math = Kokkos::Experimental;
#endif

/// main's exit status in a CUDA build on a machine with no visible GPU (device_visible() false).
inline int skipped(const char* program) {
  std::printf("%s: no CUDA device visible: skipped (exit %d)\n", program,
              support::skipped_exit_code);
  return support::skipped_exit_code;
}

/// The first command-line argument as a positive integer, or `fallback` when there is none.
/// CTest passes a small value so the examples stay quick on 2 CPU cores.
inline std::int64_t size_argument(int argc, char* argv[], std::int64_t fallback) {
  if (argc < 2) return fallback;
  const long long value = std::atoll(argv[1]);
  if (value < 1) {
    std::fprintf(stderr, "usage: %s [size > 0]\n", argv[0]);
    std::exit(2);
  }
  return value;
}

/// Where the kernels run: printed first, so a log says which backend produced the numbers.
inline void print_execution_space() {
  using Space = Kokkos::DefaultExecutionSpace;
  std::printf("Kokkos execution space: %s (concurrency %d), memory space: %s\n", Space::name(),
              static_cast<int>(Space().concurrency()), Space::memory_space::name());
}

/// printf-style formatting of one number into a std::string, for check messages.
inline std::string format(const char* spec, double value) {
  char text[64];
  std::snprintf(text, sizeof text, spec, value);
  return text;
}

/// Counts failed checks; main returns exit_code(), so CTest fails when any check fails.
class Checks {
 public:
  bool expect(bool ok, const std::string& what) {
    std::printf("  [%s] %s\n", ok ? "PASS" : "FAIL", what.c_str());
    if (!ok) ++failed_;
    return ok;
  }
  int failed() const { return failed_; }
  int exit_code() const {
    if (failed_ == 0)
      std::printf("\nall checks passed\n");
    else
      std::printf("\n%d check(s) FAILED\n", failed_);
    return failed_ == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  }

 private:
  int failed_ = 0;
};

/// Median wall time in seconds of `reps` calls of f(), each fenced on both sides so the time
/// covers the kernels and not just their launch. One untimed warm-up call comes first.
template <class ExecSpace, class F>
double median_seconds(const ExecSpace& space, int reps, F&& f) {
  f();
  space.fence();
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    space.fence();
    Kokkos::Timer timer;
    f();
    space.fence();
    times.push_back(timer.seconds());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// Fills a contiguous View (LayoutRight, any rank) with seeded N(0, 1) values rounded to its
/// element type, and returns those values (as stored) in memory order.
template <class View>
std::vector<double> fill_gaussian(const View& v, std::uint64_t seed) {
  using T = typename View::non_const_value_type;
  auto host = Kokkos::create_mirror_view(v);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> stored(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    host.data()[i] = from_double<T>(normal(rng));
    stored[i] = to_double(host.data()[i]);
  }
  Kokkos::deep_copy(v, host);
  return stored;
}

/// fp64 reference RoPE (krope::reference_rope) of the rows of `x` ([rows][head_dim], row r at
/// positions[r]) with the spectrum of `config`: what every krope result is compared with.
inline std::vector<double> reference_rope(const krope::Config& config, const std::vector<double>& x,
                                          const std::vector<std::int64_t>& positions) {
  return krope::reference_rope(config, krope::spectrum(config), x, positions);
}

}  // namespace krope_example
