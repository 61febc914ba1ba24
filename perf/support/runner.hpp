#pragma once
/// \file runner.hpp
/// The body of every benchmark: build (or reuse) the case's data, check the path once against
/// the fp64 reference and measure its extra memory, then time single calls over the ring
/// (manual time from CUDA events or fenced host clocks) and report counters.
///
/// Counters (medians over repetitions in the JSON's "median" aggregate):
///   time_us            median time per call within the repetition
///   GB/s               bytes / time_us (bytes = q and k read + written once)
///   bytes_per_second   the same from the mean (kIsRate, Google Benchmark's own)
///   percent_of_copy    copy time / this time, copy of the same bytes measured in this run
///   speedup_vs_naive   naive time / this time, same run
///   rel_error          ||out - ref|| / ||ref|| on sampled tokens, ref in fp64 on the host
///   extra_bytes        device memory the call allocates (naive: its temporaries + outputs)
///   working_set_MB     bytes of the ring the timed calls rotate over (> 2 x last-level cache)

#include "case_data.hpp"
#include "device.hpp"
#include "generic_path.hpp"
#include "memory.hpp"
#include "reference.hpp"
#include "rope_case.hpp"
#include "same_run.hpp"

#include <krope/krope.hpp>

#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

namespace krope::perf {

/// Set when a case fails (an exception, or a krope path's result off the fp64 reference): the
/// executable then exits non-zero, so that the CTest smoke run can fail.
inline bool& suite_failed() {
  static bool failed = false;
  return failed;
}

/// A sanity bound on a krope path's norm-wise error against fp64: four units of the storage
/// type's rounding (the test suite holds the kernels to far tighter bounds on its own data).
template <class Value>
double sanity_bound() {
  if constexpr (std::is_same<Value, double>::value)
    return 1e-10;  // positions up to 63488: the fp64 angle's own rounding, with room
  else if constexpr (std::is_same<Value, float>::value)
    return 4.0 / (1 << 24);
  else if constexpr (std::is_same<Value, bfloat16>::value)
    return 4.0 / (1 << 8);
  else
    return 4.0 / (1 << 11);
}

/// Marks the case failed and reports why.
inline void fail_case(benchmark::State& state, const std::string& why) {
  suite_failed() = true;
  state.SkipWithError(why.c_str());
}

/// Working set the rings must exceed: twice the last-level cache.
template <class ExecSpace>
std::size_t working_set_bytes() {
  return 2 * last_level_cache_bytes<ExecSpace>();
}

/// q or k at `data` as the View type the case's Kind gives krope::apply.
template <class Kind, class MemorySpace, class Value>
auto make_view(Value* data, const Case& c, int heads) {
  if constexpr (Kind::positions == PositionMode::varlen) {
    return Kokkos::View<Value***, Kokkos::LayoutRight, MemorySpace>(data, c.tokens(), heads,
                                                                    c.head_dim);
  } else if constexpr (Kind::layout == Layout::bhsd) {
    // [batch][heads][seq][dim] memory, indexed [batch][seq][heads][dim].
    const std::size_t D = c.head_dim, T = c.seq, H = heads;
    const Kokkos::LayoutStride layout(c.batch, H * T * D, c.seq, D, heads, T * D, c.head_dim, 1);
    return Kokkos::View<Value****, Kokkos::LayoutStride, MemorySpace>(data, layout);
  } else {
    return Kokkos::View<Value****, Kokkos::LayoutRight, MemorySpace>(data, c.batch, c.seq, heads,
                                                                     c.head_dim);
  }
}

template <class Kind, class Data>
auto positions_of(const Data& d) {
  using M = typename Data::memory_space;
  if constexpr (Kind::positions == PositionMode::contiguous)
    return krope::contiguous{0};
  else if constexpr (Kind::positions == PositionMode::position_ids)
    return krope::position_ids<M>{d.ids, false};
  else if constexpr (Kind::positions == PositionMode::sequence_offsets)
    return krope::sequence_offsets<M>{d.offsets, false};
  else if constexpr (Kind::positions == PositionMode::axis_positions)
    return krope::axis_positions<M, 3>{d.axis_ids, false};
  else
    return krope::varlen<M>{d.cu_seqlens, {}, false};
}

template <class Kind, class Data>
const auto& rotary_of(const Data& d) {
  if constexpr (Kind::angles == AngleMode::table)
    return d.table;
  else
    return d.frequencies;
}

/// One call of `path` on ring slot `slot`.
template <class ExecSpace, class Kind>
void call_path(Path path, const ExecSpace& space, CaseData<ExecSpace, typename Kind::value_type>& d,
               int slot) {
  using M = typename ExecSpace::memory_space;
  const Case& c = d.c;
  if (path == Path::copy) return d.run_copy(space, slot);
  if constexpr (CaseData<ExecSpace, typename Kind::value_type>::host_space)
    if (path == Path::touch) return d.run_touch(space, slot);
  if (path == Path::naive) return d.run_naive(space, slot);
  const auto q = make_view<Kind, M>(d.q(slot), c, c.q_heads);
  const auto k = make_view<Kind, M>(d.k(slot), c, c.k_heads);
  const auto positions = positions_of<Kind>(d);
  const auto& rotary = rotary_of<Kind>(d);
  if constexpr (Kind::out_of_place) {
    const auto q_out = make_view<Kind, M>(d.q_out(slot), c, c.q_heads);
    const auto k_out = make_view<Kind, M>(d.k_out(slot), c, c.k_heads);
    if (path == Path::apply)
      krope::apply(space, rotary, q, k, q_out, k_out, positions, c.direction);
    else
      apply_generic_path(space, rotary, q, k, q_out, k_out, positions, c.direction);
  } else {
    if (path == Path::apply)
      krope::apply(space, rotary, q, k, positions, c.direction);
    else
      apply_generic_path(space, rotary, q, k, q, k, positions, c.direction);
  }
}

/// Runs `path` once on slot 0 from a host snapshot of its inputs and compares with the fp64
/// reference; measures extra memory on a warm call on slot 1 first.
template <class ExecSpace, class Kind>
PathCheck check_path(Path path, const ExecSpace& space,
                     CaseData<ExecSpace, typename Kind::value_type>& d) {
  using Value = typename Kind::value_type;
  using M = typename ExecSpace::memory_space;
  const Case& c = d.c;
  PathCheck check;
  if (path == Path::copy || path == Path::touch) return check;
  call_path<ExecSpace, Kind>(path, space, d, 1);  // warm: first-call setup is not "per call"
  check.extra_bytes =
      path == Path::naive
          ? static_cast<std::int64_t>(d.naive().bytes())
          : extra_bytes_of(space, [&] { call_path<ExecSpace, Kind>(path, space, d, 1); });

  space.fence();
  const auto q_in = to_host<M>(d.q(0), c.q_elements());
  const auto k_in = to_host<M>(d.k(0), c.k_elements());
  call_path<ExecSpace, Kind>(path, space, d, 0);
  space.fence();
  std::vector<Value> q_out, k_out;
  TensorIndex q_out_index = q_index(c), k_out_index = k_index(c);
  if (path == Path::naive) {  // new contiguous [tokens][heads][dim] tensors
    q_out = to_host<M>(d.naive().q_out().data(), c.q_elements());
    k_out = to_host<M>(d.naive().k_out().data(), c.k_elements());
    q_out_index.layout = k_out_index.layout = Layout::bshd;
  } else if (c.out_of_place) {
    q_out = to_host<M>(d.q_out(0), c.q_elements());
    k_out = to_host<M>(d.k_out(0), c.k_elements());
  } else {
    q_out = to_host<M>(d.q(0), c.q_elements());
    k_out = to_host<M>(d.k(0), c.k_elements());
  }
  const auto rows = sample_tokens(c.tokens());
  support::RelativeError error;
  add_sampled_error(error, c, d.spectrum, d.host_position, rows, c.q_heads, q_in, q_index(c), q_out,
                    q_out_index);
  add_sampled_error(error, c, d.spectrum, d.host_position, rows, c.k_heads, k_in, k_index(c), k_out,
                    k_out_index);
  check.relative_error = error.relative();
  return check;
}

/// The path's check (run once per fixture), or a failed case (returns false) when a krope
/// path's result is off the fp64 reference.
template <class ExecSpace, class Kind>
bool checked_path(benchmark::State& state, Path path, const ExecSpace& space,
                  CaseData<ExecSpace, typename Kind::value_type>& d, PathCheck& check) {
  using Value = typename Kind::value_type;
  auto found = d.checks.find(path);
  if (found == d.checks.end())
    found = d.checks.emplace(path, check_path<ExecSpace, Kind>(path, space, d)).first;
  check = found->second;
  if ((path == Path::apply || path == Path::generic) &&
      !(check.relative_error <= sanity_bound<Value>())) {
    fail_case(state, "relative error " + std::to_string(check.relative_error) +
                         " against fp64, above " + std::to_string(sanity_bound<Value>()));
    return false;
  }
  return true;
}

/// The median of `values` (reorders them).
inline double median_of(std::vector<double>& values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

/// The counters every case reports (runner.hpp's header), from its median time per call.
inline void report(benchmark::State& state, const Case& c, double median, const PathCheck& check) {
  const double bytes = static_cast<double>(c.bytes());
  state.SetBytesProcessed(static_cast<std::int64_t>(c.bytes()) * state.iterations());
  auto& counters = state.counters;
  counters["time_us"] = median * 1e6;
  counters["GB/s"] = bytes / median * 1e-9;
  const double copy = SameRun::median(c.key() + "/copy");
  if (copy > 0) counters["percent_of_copy"] = 100.0 * copy / median;
  counters["rel_error"] = check.relative_error;
  counters["extra_bytes"] = static_cast<double>(check.extra_bytes);
  counters["bytes"] = bytes;
  counters["B"] = c.batch;
  counters["T"] = c.seq;
  counters["Hq"] = c.q_heads;
  counters["Hk"] = c.k_heads;
  counters["D"] = c.head_dim;
  counters["R"] = c.rotated();
}

/// `c` with the element type, layout and modes of Kind filled in.
template <class Kind>
Case of_kind(Case c) {
  using Value = typename Kind::value_type;
  c.dtype = support::type_name<Value>();
  c.value_bytes = sizeof(Value);
  c.layout = Kind::layout;
  c.positions = Kind::positions;
  c.angles = Kind::angles;
  c.out_of_place = Kind::out_of_place;
  return c;
}

template <class ExecSpace, class Kind>
void run_case(benchmark::State& state, const Case& c, Path path) {
  using Value = typename Kind::value_type;
  try {
    const ExecSpace space;
    auto& d = fixture<ExecSpace, Value>(c, working_set_bytes<ExecSpace>());
    const bool baseline = path == Path::copy || path == Path::touch;
    if (baseline) d.ensure_copy_rings(working_set_bytes<ExecSpace>());
    PathCheck check;
    if (!checked_path<ExecSpace, Kind>(state, path, space, d, check)) return;
    const int slots = baseline ? d.copy_source.slots() : d.inputs.slots();
    const std::size_t working_set = path == Path::touch ? d.copy_source.total_bytes()
                                    : path == Path::copy
                                        ? 2 * d.copy_source.total_bytes()
                                        : d.inputs.total_bytes() + d.outputs.total_bytes();

    CallTimer<ExecSpace> timer(space);
    std::vector<double> times;
    std::vector<double> host_times;
    times.reserve(state.max_iterations);
    host_times.reserve(state.max_iterations);
    for (auto _ : state) {
      const int slot = d.next_slot++ % slots;
      timer.start();
      call_path<ExecSpace, Kind>(path, space, d, slot);
      const double seconds = timer.stop();
      state.SetIterationTime(seconds);
      times.push_back(seconds);
      host_times.push_back(timer.host_seconds());
    }
    if (times.empty()) return;
    const double median = median_of(times);
    if (path == Path::copy) SameRun::record(c.key() + "/copy", median);
    if (path == Path::touch) SameRun::record(c.key() + "/touch", median);
    if (path == Path::naive) SameRun::record(c.key() + "/naive", median);

    report(state, c, median, check);
    auto& counters = state.counters;
    const double naive = SameRun::median(c.key() + "/naive");
    const double touch = SameRun::median(c.key() + "/touch");
    if (touch > 0) counters["percent_of_touch"] = 100.0 * touch / median;
    if (naive > 0) counters["speedup_vs_naive"] = naive / median;
    if (is_cuda<ExecSpace>()) counters["host_us"] = median_of(host_times) * 1e6;
    counters["working_set_MB"] = static_cast<double>(working_set) / (1 << 20);
  } catch (const std::exception& e) {
    fail_case(state, e.what());
  }
}

/// Registers `paths` of case `c` (names "<group>/<path>/<label>") in the given order.
template <class ExecSpace, class Kind>
void register_case(Case kindless, const std::vector<Path>& paths) {
  const Case c = of_kind<Kind>(kindless);
  for (const Path path : paths) {
    const std::string name =
        c.group + "/" + path_name(path, is_cuda<ExecSpace>()) + "/" + c.label();
    benchmark::RegisterBenchmark(
        name.c_str(),
        [c, path](benchmark::State& state) { run_case<ExecSpace, Kind>(state, c, path); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace krope::perf
