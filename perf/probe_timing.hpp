#pragma once
/// \file probe_timing.hpp
/// What the stand-alone probes (probe_*.cu, probe_kernel.cpp) share: a CUDA error check that
/// exits, and the back-to-back timing they report (plain CUDA, no Kokkos, no Google Benchmark).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

#define PROBE_CHECK(x)                                                                        \
  do {                                                                                        \
    cudaError_t e_ = (x);                                                                     \
    if (e_ != cudaSuccess) {                                                                  \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)

namespace probe_timing {

/// Median over `reps` of the time per call (ms) of `calls` back-to-back calls f(i % sets) on the
/// default stream, between two events, after a warm-up.
template <class F>
double median_ms_per_call(int sets, F&& f, int calls, int reps = 7) {
  cudaEvent_t start, stop;
  PROBE_CHECK(cudaEventCreate(&start));
  PROBE_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < std::min(calls, 20); ++i) f(i % sets);
  PROBE_CHECK(cudaDeviceSynchronize());
  PROBE_CHECK(cudaGetLastError());
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    PROBE_CHECK(cudaEventRecord(start, 0));
    for (int i = 0; i < calls; ++i) f(i % sets);
    PROBE_CHECK(cudaEventRecord(stop, 0));
    PROBE_CHECK(cudaEventSynchronize(stop));
    PROBE_CHECK(cudaGetLastError());
    float ms;
    PROBE_CHECK(cudaEventElapsedTime(&ms, start, stop));
    t.push_back(ms / calls);
  }
  std::sort(t.begin(), t.end());
  PROBE_CHECK(cudaEventDestroy(start));
  PROBE_CHECK(cudaEventDestroy(stop));
  return t[t.size() / 2];
}

}  // namespace probe_timing
