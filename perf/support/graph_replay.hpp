#pragma once
/// \file graph_replay.hpp
/// Decode as inference engines run it: a path's calls captured into CUDA graphs (range checks
/// off, as a capture requires), 16 calls on consecutive ring slots per graph; each timed
/// iteration replays one graph between two events on the capturing stream (after the same hold
/// kernel as single calls, so the time is the GPU's), divided by 16: the time per call inside a
/// graph. The copy baseline is a captured copy of the same bytes, timed the same way. Counters as
/// runner.hpp's; rel_error is the direct call's (a replay runs the same kernel on the same
/// arguments; the tests check that bit for bit).

#include "runner.hpp"

#ifdef KOKKOS_ENABLE_CUDA

namespace krope::perf {

/// One executable graph per ring slot, each holding one call of `path` on that slot.
class SlotGraphs {
 public:
  SlotGraphs() { cuda_check(cudaStreamCreate(&stream_), "cudaStreamCreate"); }
  ~SlotGraphs() {
    for (cudaGraphExec_t g : graphs_) cudaGraphExecDestroy(g);
    cudaStreamDestroy(stream_);
  }
  SlotGraphs(const SlotGraphs&) = delete;
  SlotGraphs& operator=(const SlotGraphs&) = delete;

  cudaStream_t stream() const { return stream_; }

  template <class Record>
  void capture(Record&& record) {
    cuda_check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
               "cudaStreamBeginCapture");
    try {
      record();
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(stream_, &broken);
      if (broken != nullptr) cudaGraphDestroy(broken);
      throw;
    }
    cudaGraph_t graph = nullptr;
    cuda_check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    cuda_check(instantiated, "cudaGraphInstantiate");
    graphs_.push_back(exec);
  }
  void replay(int slot) const { cuda_check(cudaGraphLaunch(graphs_[slot], stream_), "replay"); }

 private:
  cudaStream_t stream_;
  std::vector<cudaGraphExec_t> graphs_;
};

/// Calls per captured graph: an engine captures a whole decode step (every layer's kernels) into
/// one graph, so the per-graph launch cost (H200: one call per graph, replayed back to back,
/// 3.9 us for krope and 3.5 us for a copy of the same 1.3 MB) is not the call's.
constexpr int calls_per_graph = 16;

template <class Kind>
void run_graph_case(benchmark::State& state, const Case& c, Path path) {
  using ExecSpace = Kokkos::Cuda;
  using Value = typename Kind::value_type;
  try {
    auto& d = fixture<ExecSpace, Value>(c, working_set_bytes<ExecSpace>());
    const bool baseline = path == Path::copy;
    if (baseline) d.ensure_copy_rings(working_set_bytes<ExecSpace>());
    PathCheck check;
    if (!checked_path<ExecSpace, Kind>(state, path, ExecSpace(), d, check)) return;
    const int slots = baseline ? d.copy_source.slots() : d.inputs.slots();

    SlotGraphs graphs;
    const ExecSpace space(graphs.stream());
    const int graph_count = slots / calls_per_graph > 0 ? slots / calls_per_graph : 1;
    for (int g = 0; g < graph_count; ++g)
      graphs.capture([&] {
        for (int i = 0; i < calls_per_graph; ++i)
          call_path<ExecSpace, Kind>(path, space, d, (g * calls_per_graph + i) % slots);
      });

    CallTimer<ExecSpace> timer(space);
    std::vector<double> times, host_times;
    int next_graph = 0;
    for (auto _ : state) {
      timer.start();
      graphs.replay(next_graph++ % graph_count);
      const double seconds = timer.stop() / calls_per_graph;
      state.SetIterationTime(seconds);
      times.push_back(seconds);
      host_times.push_back(timer.host_seconds());
    }
    if (times.empty()) return;
    const double median = median_of(times);
    if (baseline) SameRun::record(c.key() + "/copy", median);
    report(state, c, median, check);
    state.counters["host_us"] = median_of(host_times) * 1e6;  // one graph launch
  } catch (const std::exception& e) {
    fail_case(state, e.what());
  }
}

/// Registers `paths` of case `c` as graph replays ("<group>/<path>/<label>").
template <class Kind>
void register_graph_case(Case kindless, const std::vector<Path>& paths) {
  const Case c = of_kind<Kind>(kindless);
  for (const Path path : paths) {
    const std::string name = c.group + "/" + path_name(path, true) + "/" + c.label();
    benchmark::RegisterBenchmark(
        name.c_str(), [c, path](benchmark::State& state) { run_graph_case<Kind>(state, c, path); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace krope::perf

#endif  // KOKKOS_ENABLE_CUDA
