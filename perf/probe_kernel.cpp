/// \file probe_kernel.cpp
/// Kernel-engineer probe (not part of the CMake suite; the suite is bench_*.cpp): times the
/// CUDA specialization's tuning variants, the generic Kokkos kernel and the public krope::apply
/// against a same-run cudaMemcpy device-to-device of the same bytes, bf16 in place.
/// Bytes counted: q and k read once and written once (tables not counted; see NOTES_kernel.md).
///
/// Also: single calls behind a hold kernel (GPU-side time) and the host time inside a call.
///
/// Build (outside CMake, same flags as the test build; libkrope.a from a CUDA build), e.g.:
///   K=/root/.cache/krope/kokkos-3.4.01-cuda-<hash>
///   $K/bin/nvcc_wrapper -O3 -DNDEBUG -std=c++17 -arch=sm_90 -expt-extended-lambda \
///     -expt-relaxed-constexpr -Ilib/include -isystem $K/include perf/probe_kernel.cpp \
///     build/cuda/lib/libkrope.a -L$K/lib -lkokkoscontainers -lkokkoscore -ldl -o probe_kernel
/// Run: ./probe_kernel [shape name part, e.g. long]   (one table per shape; buffers >= 3x L2)

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "probe_timing.hpp"

using namespace krope;

namespace probe {
using M = Kokkos::CudaSpace;
using T = bfloat16;
template <class E>
using View4Of = Kokkos::View<E****, Kokkos::LayoutRight, M>;
using View4 = View4Of<T>;

#define CHECK PROBE_CHECK

struct Streaming : Impl::cuda::RotaryTuning {};
struct Plain : Impl::cuda::RotaryTuning {
  static constexpr bool streaming = false;
  static constexpr bool streaming_stores = false;
};

struct StagedAngles : Impl::cuda::RotaryTuning {
  static constexpr bool register_angles = false;
};

/// Heads per thread HPT (all loaded before the first store), block size and the register cap
/// of __launch_bounds__(Block, Bound).
template <int HPT, int Block, int Bound, bool Streams = true>
struct OneShot : Impl::cuda::RotaryTuning {
  static constexpr int max_heads_per_thread = HPT;
  static constexpr int block_threads = Block;
  static constexpr int min_blocks_per_sm_bound = Bound;
  static constexpr int staged_max_heads_per_thread = HPT;
  static constexpr int staged_block_threads = Block;
  static constexpr int staged_min_blocks_per_sm_bound = Bound;
  static constexpr bool streaming = Streams;
  static constexpr bool streaming_stores = Streams;
};

/// Block size and register bound of the table kernels (the row kernel for token-major data).
template <int Block, int Bound>
struct Rows : Impl::cuda::RotaryTuning {
  static constexpr int block_threads = Block;
  static constexpr int min_blocks_per_sm_bound = Bound;
};

/// Spins ~us microseconds on the GPU so that what the host enqueues next waits behind it: events
/// around a single call then time the GPU side only, as a benchmark that keeps the queue busy
/// (for example one that clears L2 before every call) would.
__global__ void hold_gpu(long long cycles) {
  const long long t0 = clock64();
  while (clock64() - t0 < cycles) {
  }
}

/// Median of single calls, each between two events recorded behind a 30 us hold kernel.
template <class F>
double single_call_us(int sets, F&& f, int calls = 200) {
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  std::vector<double> t;
  for (int i = 0; i < calls; ++i) {
    hold_gpu<<<1, 1>>>(60000);  // ~30 us at 1.98 GHz
    CHECK(cudaEventRecord(a, 0));
    f(i % sets);
    CHECK(cudaEventRecord(b, 0));
    CHECK(cudaEventSynchronize(b));
    float ms;
    CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1e3);
  }
  std::sort(t.begin(), t.end());
  CHECK(cudaEventDestroy(a));
  CHECK(cudaEventDestroy(b));
  return t[t.size() / 2];
}

/// Median host time spent inside one call (enqueue only; the GPU is kept busy meanwhile).
template <class F>
double host_enqueue_us(int sets, F&& f, int calls = 200) {
  std::vector<double> t;
  for (int i = 0; i < calls; ++i) {
    hold_gpu<<<1, 1>>>(60000);
    const auto a = std::chrono::steady_clock::now();
    f(i % sets);
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
    CHECK(cudaDeviceSynchronize());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Shape {
  const char* name;
  int batch, seq, q_heads, k_heads, head_dim;
  enum Positions { contiguous, offsets, ids } positions;  // offsets: decode's KV-cache offsets
  bool fp32 = false;                                      // float q/k instead of bf16
};

template <class E>
void fill(const View4Of<E>& v, std::uint32_t seed) {
  E* p = v.data();
  Kokkos::parallel_for(
      "fill", Kokkos::RangePolicy<Kokkos::Cuda, std::int64_t>(0, std::int64_t(v.size())),
      KOKKOS_LAMBDA(std::int64_t i) {
        std::uint32_t h = std::uint32_t(i) * 2654435761u ^ seed;
        h ^= h >> 15;
        h *= 2246822519u;
        h ^= h >> 13;
        p[i] = E(float(h & 0xffff) / 32768.0f - 1.0f);
      });
}

/// In-place read + write of every 16 bytes (the memory pattern of an in-place rotation with no
/// arithmetic): the in-place ceiling next to cudaMemcpy's out-of-place one.
__global__ void touch_in_place(uint4* p, std::int64_t n) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += 4 * stride) {
    uint4 v[4];
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (i + k * stride < n) v[k] = __ldcs(p + i + k * stride);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      if (i + k * stride < n) {
        v[k].x ^= 0x80008000u;  // flips signs: a real change, written back
        __stcs(p + i + k * stride, v[k]);
      }
    }
  }
}

/// Median of `reps` timings (ms per call) of `calls` back-to-back launches of f(set).
template <class F>
double time_ms(int sets, F&& f, int calls = 200, int reps = 7) {
  return probe_timing::median_ms_per_call(sets, f, calls, reps);
}

template <class Tuning, class R>
void launch(const Kokkos::Cuda& space, const R& r) {
  if (!Impl::cuda::launch_vec16<Tuning>(space, r)) {
    std::fprintf(stderr, "not eligible\n");
    std::exit(1);
  }
}

template <class View>
std::int64_t differing_bytes(const View& x, const View& y) {
  const auto* px = reinterpret_cast<const unsigned char*>(x.data());
  const auto* py = reinterpret_cast<const unsigned char*>(y.data());
  std::int64_t n = 0;
  Kokkos::parallel_reduce(
      "cmp",
      Kokkos::RangePolicy<Kokkos::Cuda, std::int64_t>(
          0, std::int64_t(x.span() * sizeof(typename View::value_type))),
      KOKKOS_LAMBDA(std::int64_t i, std::int64_t & e) { e += px[i] != py[i]; }, n);
  return n;
}

/// `positions`: the public API's position argument that `tokens` (the kernel's map) stands for.
template <class T, class Tokens, class Positions>
void run_shape(const Shape& s, const Tokens& tokens, const Positions& positions,
               const Table<M, float>& table, const Frequencies<M>& frequencies) {
  using View4 = View4Of<T>;
  const Kokkos::Cuda space;
  const std::int64_t elems = std::int64_t(s.batch) * s.seq * (s.q_heads + s.k_heads) * s.head_dim;
  const double bytes = 2.0 * elems * sizeof(T);  // read + write
  int l2 = 0;
  CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
  const int sets = int(std::max<double>(2, std::min<double>(64, 3.0 * l2 / (bytes / 2) + 1)));
  std::vector<View4> q, k;
  for (int i = 0; i < sets; ++i) {
    q.emplace_back("q", s.batch, s.seq, s.q_heads, s.head_dim);
    k.emplace_back("k", s.batch, s.seq, s.k_heads, s.head_dim);
    fill(q.back(), 11 + i);
    fill(k.back(), 1011 + i);
  }
  // Copy ceiling: one buffer of q+k bytes per set, copied into the next set's buffer.
  std::vector<void*> raw(sets + 1);
  for (auto& p : raw) {
    CHECK(cudaMalloc(&p, std::size_t(bytes / 2)));
    CHECK(cudaMemset(p, 0x3c, std::size_t(bytes / 2)));
  }
  space.fence();

  auto angles = Impl::angles_of<float>(table);
  using R = Impl::Rotation<decltype(angles), Tokens, View4, View4, View4, View4>;
  std::vector<R> rot;
  for (int i = 0; i < sets; ++i)
    rot.push_back(R{angles, tokens, q[i], q[i], k[i], k[i], std::int64_t(s.batch) * s.seq,
                    s.q_heads, s.k_heads, s.head_dim, s.head_dim, Pairing::half_split,
                    Direction::forward, true});

  auto free_angles = Impl::angles_of<float>(frequencies);
  using RF = Impl::Rotation<decltype(free_angles), Tokens, View4, View4, View4, View4>;
  std::vector<RF> rot_free;
  for (int i = 0; i < sets; ++i)
    rot_free.push_back(RF{free_angles, tokens, q[i], q[i], k[i], k[i],
                          std::int64_t(s.batch) * s.seq, s.q_heads, s.k_heads, s.head_dim,
                          s.head_dim, Pairing::half_split, Direction::forward, true});

  // Out of place: set i writes into set (i + 1) % sets.
  std::vector<R> rot_oop;
  for (int i = 0; i < sets; ++i) {
    const int o = (i + 1) % sets;
    rot_oop.push_back(R{angles, tokens, q[i], q[o], k[i], k[o], std::int64_t(s.batch) * s.seq,
                        s.q_heads, s.k_heads, s.head_dim, s.head_dim, Pairing::half_split,
                        Direction::forward, false});
  }
  const double copy = time_ms(sets, [&](int i) {
    CHECK(cudaMemcpyAsync(raw[i + 1], raw[i], std::size_t(bytes / 2), cudaMemcpyDeviceToDevice, 0));
  });
  {  // the default kernel against the generic Kokkos kernel, bit for bit
    auto same = [&](int rotary_dim, Pairing pairing, Direction direction, const char* what) {
      auto rotation = [&](const View4& qq, const View4& kk) {
        return R{angles,
                 tokens,
                 qq,
                 qq,
                 kk,
                 kk,
                 std::int64_t(s.batch) * s.seq,
                 s.q_heads,
                 s.k_heads,
                 s.head_dim,
                 rotary_dim,
                 pairing,
                 direction,
                 true};
      };
      View4 qa("qa", s.batch, s.seq, s.q_heads, s.head_dim),
          ka("ka", s.batch, s.seq, s.k_heads, s.head_dim);
      View4 qb("qb", s.batch, s.seq, s.q_heads, s.head_dim),
          kb("kb", s.batch, s.seq, s.k_heads, s.head_dim);
      Kokkos::deep_copy(qa, q[0]);
      Kokkos::deep_copy(ka, k[0]);
      Kokkos::deep_copy(qb, q[0]);
      Kokkos::deep_copy(kb, k[0]);
      launch<Streaming>(space, rotation(qa, ka));
      Impl::apply_generic(space, rotation(qb, kb));
      space.fence();
      const std::int64_t bad = differing_bytes(qa, qb) + differing_bytes(ka, kb);
      std::printf("  check default == generic (%s): %lld differing bytes\n", what, (long long)bad);
    };
    same(s.head_dim, Pairing::half_split, Direction::forward, "in place");
    same(s.head_dim / 2, Pairing::interleaved, Direction::backward, "partial interleaved backward");
  }
  struct Row {
    std::string name;
    double ms;
  };
  std::vector<Row> rows;
  rows.push_back({"copy", copy});
  rows.push_back(
      {"vec16 default", time_ms(sets, [&](int i) { launch<Streaming>(space, rot[i]); })});
  rows.push_back(
      {"vec16 default again", time_ms(sets, [&](int i) { launch<Streaming>(space, rot[i]); })});
  {
    const std::int64_t n16 = std::int64_t(bytes / 2) / 16;
    const int blocks = int(std::min<std::int64_t>((n16 + 1023) / 1024, 132 * 8));
    rows.push_back({"in-place touch ceiling", time_ms(sets, [&](int i) {
                      touch_in_place<<<blocks, 256>>>(static_cast<uint4*>(raw[i]), n16);
                    })});
  }
#define ONESHOT(H, B, N, S)                                     \
  rows.push_back({"one-shot hpt" #H " b" #B " bound" #N " " #S, \
                  time_ms(sets, [&](int i) { launch<OneShot<H, B, N, S>>(space, rot[i]); })})
  ONESHOT(1, 256, 6, true);
  ONESHOT(1, 512, 2, true);
  ONESHOT(2, 256, 1, true);
  ONESHOT(2, 512, 2, true);
  ONESHOT(2, 384, 2, true);
  ONESHOT(4, 256, 1, true);
#define FREE(H, B, N)                                                                 \
  rows.push_back({"table-free hpt" #H " b" #B " bound" #N, time_ms(sets, [&](int i) { \
                    launch<OneShot<H, B, N, true>>(space, rot_free[i]);               \
                  })})
  rows.push_back({"table-free vec16 default",
                  time_ms(sets, [&](int i) { launch<Streaming>(space, rot_free[i]); })});
  rows.push_back({"table-free staged angles",
                  time_ms(sets, [&](int i) { launch<StagedAngles>(space, rot_free[i]); })});
  FREE(2, 512, 2);
  FREE(2, 256, 3);
  FREE(1, 256, 5);
  FREE(1, 256, 6);
  FREE(1, 512, 2);
  FREE(1, 512, 3);
  FREE(1, 128, 8);
  FREE(1, 128, 12);
#undef FREE
#undef ONESHOT
  rows.push_back({"vec16 default out-of-place",
                  time_ms(sets, [&](int i) { launch<Streaming>(space, rot_oop[i]); })});
  rows.push_back(
      {"vec16 plain ld/st", time_ms(sets, [&](int i) { launch<Plain>(space, rot[i]); })});
  rows.push_back(
      {"generic kokkos", time_ms(
                             sets, [&](int i) { Impl::apply_generic(space, rot[i]); }, 50, 5)});
  rows.push_back({"krope::apply (public)", time_ms(sets, [&](int i) {
                    krope::apply(space, table, q[i], k[i], positions);
                  })});
  rows.push_back({"krope::apply table-free", time_ms(sets, [&](int i) {
                    krope::apply(space, frequencies, q[i], k[i], positions);
                  })});
  {
    auto apply_public = [&](int i) { krope::apply(space, table, q[i], k[i], positions); };
    auto copy_call = [&](int i) {
      CHECK(
          cudaMemcpyAsync(raw[i + 1], raw[i], std::size_t(bytes / 2), cudaMemcpyDeviceToDevice, 0));
    };
    std::printf(
        "\n  single calls behind a hold kernel: apply %.2f us, copy %.2f us, raw launch %.2f us;"
        " host time inside krope::apply %.2f us, inside the raw launch %.2f us\n",
        single_call_us(sets, apply_public), single_call_us(sets, copy_call),
        single_call_us(sets, [&](int i) { launch<Streaming>(space, rot[i]); }),
        host_enqueue_us(sets, apply_public),
        host_enqueue_us(sets, [&](int i) { launch<Streaming>(space, rot[i]); }));
  }
  // Latency of one call from the host: launch + run + synchronize.
  double latency_us = 0;
  {
    std::vector<double> t;
    for (int i = 0; i < 200; ++i) {
      const auto a = std::chrono::steady_clock::now();
      launch<Streaming>(space, rot[i % sets]);
      CHECK(cudaStreamSynchronize(space.cuda_stream()));
      t.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    latency_us = t[t.size() / 2];
  }
  Impl::cuda::LaunchShape shape;
  const cudaDeviceProp& prop = space.cuda_device_prop();
  Impl::cuda::choose_launch_shape<Impl::cuda::RotaryTuning>(
      prop.multiProcessorCount, prop.maxThreadsPerMultiProcessor, std::int64_t(s.batch) * s.seq,
      s.head_dim / 2 / Impl::cuda::Vector<T>::width, s.q_heads + s.k_heads, 0, shape);
  std::printf(
      "\n%s (B,T,Hq,Hk,D)=(%d,%d,%d,%d,%d) %s in place: %.1f MB moved/call, %d buffer sets; "
      "grid (%u,%u) block (%u,%u,%u) head_groups %d; host latency launch+sync %.2f us\n",
      s.name, s.batch, s.seq, s.q_heads, s.k_heads, s.head_dim, s.fp32 ? "fp32" : "bf16",
      bytes / 1e6, sets, shape.grid.x, shape.grid.y, shape.block.x, shape.block.y, shape.block.z,
      shape.head_groups, latency_us);
  for (const Row& r : rows)
    std::printf("  %-26s %9.2f us  %8.1f GB/s  %6.1f %% of copy\n", r.name.c_str(), r.ms * 1e3,
                bytes / (r.ms * 1e-3) / 1e9, 100.0 * copy / r.ms);
  for (void* p : raw) CHECK(cudaFree(p));
}

/// Head groups per block for [batch][heads][seq][dim] data (0: no cap), heads per thread, block
/// size and register bound.
template <int G, int HPT = 1, int Block = 512, int Bound = 3>
struct HeadsOuter : Impl::cuda::RotaryTuning {
  static constexpr int heads_outer_block_groups = G > 0 ? G : 1 << 30;
  static constexpr int max_heads_per_thread = HPT;
  static constexpr int block_threads = Block;
  static constexpr int min_blocks_per_sm_bound = Bound;
  static constexpr int heads_outer_block_threads = Block;
  static constexpr int heads_outer_min_blocks_per_sm_bound = Bound;
};

/// [batch][heads][seq][dim] memory seen as a strided [batch][seq][heads][dim] View (the suite's
/// "strided bhsd"), table angles: head groups per block.
void run_strided(const Shape& s, const Table<M, float>& table, const Frequencies<M>& frequencies) {
  using ViewS = Kokkos::View<T****, Kokkos::LayoutStride, M>;
  const Kokkos::Cuda space;
  const std::int64_t elems = std::int64_t(s.batch) * s.seq * (s.q_heads + s.k_heads) * s.head_dim;
  const double bytes = 2.0 * elems * sizeof(T);
  const int sets = 3;
  std::vector<View4> q, k;  // [b][h][t][d]
  std::vector<ViewS> qs, ks;
  auto strided = [&](T* data, int heads) {
    const std::size_t D = s.head_dim, L = s.seq, H = heads;
    return ViewS(data, Kokkos::LayoutStride(s.batch, H * L * D, s.seq, D, heads, L * D, D, 1));
  };
  for (int i = 0; i < sets; ++i) {
    q.emplace_back("q", s.batch, s.q_heads, s.seq, s.head_dim);
    k.emplace_back("k", s.batch, s.k_heads, s.seq, s.head_dim);
    fill(q.back(), 11 + i);
    fill(k.back(), 1011 + i);
    qs.push_back(strided(q.back().data(), s.q_heads));
    ks.push_back(strided(k.back().data(), s.k_heads));
  }
  std::vector<void*> raw(sets + 1);
  for (auto& p : raw) CHECK(cudaMalloc(&p, std::size_t(bytes / 2)));
  auto angles = Impl::angles_of<float>(table);
  using R = Impl::Rotation<decltype(angles), Impl::ContiguousTokens, ViewS, ViewS, ViewS, ViewS>;
  std::vector<R> rot;
  for (int i = 0; i < sets; ++i)
    rot.push_back(R{angles, Impl::ContiguousTokens{s.seq, 0}, qs[i], qs[i], ks[i], ks[i],
                    std::int64_t(s.batch) * s.seq, s.q_heads, s.k_heads, s.head_dim, s.head_dim,
                    Pairing::half_split, Direction::forward, true});
  auto free_angles = Impl::angles_of<float>(frequencies);
  using RF =
      Impl::Rotation<decltype(free_angles), Impl::ContiguousTokens, ViewS, ViewS, ViewS, ViewS>;
  std::vector<RF> rot_free;
  for (int i = 0; i < sets; ++i)
    rot_free.push_back(RF{free_angles, Impl::ContiguousTokens{s.seq, 0}, qs[i], qs[i], ks[i], ks[i],
                          std::int64_t(s.batch) * s.seq, s.q_heads, s.k_heads, s.head_dim,
                          s.head_dim, Pairing::half_split, Direction::forward, true});
  const double copy = time_ms(sets, [&](int i) {
    CHECK(cudaMemcpyAsync(raw[i + 1], raw[i], std::size_t(bytes / 2), cudaMemcpyDeviceToDevice, 0));
  });
  std::printf("\nstrided bhsd %s: copy %.2f us\n", s.name, copy * 1e3);
  std::printf("  address mod 4096: q %d k %d cos %d sin %d\n",
              int(reinterpret_cast<std::uintptr_t>(q[0].data()) % 4096),
              int(reinterpret_cast<std::uintptr_t>(k[0].data()) % 4096),
              int(reinterpret_cast<std::uintptr_t>(table.cos().data()) % 4096),
              int(reinterpret_cast<std::uintptr_t>(table.sin().data()) % 4096));
  auto row = [&](const char* name, double ms) {
    std::printf("  %-26s %9.2f us  %8.1f GB/s  %6.1f %% of copy\n", name, ms * 1e3,
                bytes / (ms * 1e-3) / 1e9, 100.0 * copy / ms);
  };
  row("default", time_ms(sets, [&](int i) { launch<Impl::cuda::RotaryTuning>(space, rot[i]); }));
  {  // The same on q/k in one cudaMalloc per set (q then k, 256-byte aligned; a View's data
     // lies 128 bytes past its allocation's start: -1 to -2 points here, perf/NOTES.md v29).
    std::vector<void*> own(sets);
    std::vector<R> rot_raw;
    const std::size_t qe = std::size_t(s.batch) * s.q_heads * s.seq * s.head_dim;
    const std::size_t ke = std::size_t(s.batch) * s.k_heads * s.seq * s.head_dim;
    for (int i = 0; i < sets; ++i) {
      CHECK(cudaMalloc(&own[i], (qe + ke) * sizeof(T)));
      T* qp = static_cast<T*>(own[i]);
      fill(View4(qp, s.batch, s.q_heads, s.seq, s.head_dim), 11 + i);
      fill(View4(qp + qe, s.batch, s.k_heads, s.seq, s.head_dim), 1011 + i);
      rot_raw.push_back(R{angles, Impl::ContiguousTokens{s.seq, 0}, strided(qp, s.q_heads),
                          strided(qp, s.q_heads), strided(qp + qe, s.k_heads),
                          strided(qp + qe, s.k_heads), std::int64_t(s.batch) * s.seq, s.q_heads,
                          s.k_heads, s.head_dim, s.head_dim, Pairing::half_split,
                          Direction::forward, true});
    }
    row("default, cudaMalloc q+k",
        time_ms(sets, [&](int i) { launch<Impl::cuda::RotaryTuning>(space, rot_raw[i]); }));
    Kokkos::fence();
    for (void* p : own) CHECK(cudaFree(p));
  }
  row("table-free default",
      time_ms(sets, [&](int i) { launch<Impl::cuda::RotaryTuning>(space, rot_free[i]); }));
  row("table-free groups all",
      time_ms(sets, [&](int i) { launch<HeadsOuter<0>>(space, rot_free[i]); }));
  row("groups/block 8", time_ms(sets, [&](int i) { launch<HeadsOuter<8>>(space, rot[i]); }));
  // One or two head groups per block, several heads per thread: the block reads long runs of a
  // few head planes, and a thread reads its cos/sin once for all its heads.
  row("1 x hpt2 b256",
      time_ms(sets, [&](int i) { launch<HeadsOuter<1, 2, 256, 4>>(space, rot[i]); }));
  row("1 x hpt4 b256",
      time_ms(sets, [&](int i) { launch<HeadsOuter<1, 4, 256, 2>>(space, rot[i]); }));
  row("1 x hpt8 b256",
      time_ms(sets, [&](int i) { launch<HeadsOuter<1, 8, 256, 1>>(space, rot[i]); }));
  row("2 x hpt4 b256",
      time_ms(sets, [&](int i) { launch<HeadsOuter<2, 4, 256, 2>>(space, rot[i]); }));
  row("1 x hpt4 b512",
      time_ms(sets, [&](int i) { launch<HeadsOuter<1, 4, 512, 1>>(space, rot[i]); }));
  row("1 x hpt4 b128",
      time_ms(sets, [&](int i) { launch<HeadsOuter<1, 4, 128, 4>>(space, rot[i]); }));
  row("default again",
      time_ms(sets, [&](int i) { launch<Impl::cuda::RotaryTuning>(space, rot[i]); }));
  for (void* p : raw) CHECK(cudaFree(p));
}

}  // namespace probe

int main(int argc, char* argv[]) {
  using namespace probe;
  Kokkos::initialize(argc, argv);
  {
    const cudaDeviceProp& prop = Kokkos::Cuda().cuda_device_prop();
    std::printf("device %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount,
                prop.l2CacheSize >> 20);
    const Shape shapes[] = {{"llama3-8b prefill", 8, 4096, 32, 8, 128, Shape::contiguous},
                            {"hd256", 4, 4096, 16, 16, 256, Shape::contiguous},
                            {"long 63488x128", 1, 63488, 1, 1, 128, Shape::contiguous},
                            {"decode", 64, 1, 32, 8, 128, Shape::offsets},
                            {"ids llama3-8b", 8, 4096, 32, 8, 128, Shape::ids},
                            {"T4000 prefill", 8, 4000, 32, 8, 128, Shape::contiguous},
                            {"fp32 llama3-8b", 8, 4096, 32, 8, 128, Shape::contiguous, true}};
    const std::string only = argc > 1 ? argv[1] : "";  // run only shapes whose name has this
    for (const Shape& s : shapes) {
      if (std::string(s.name).find(only) == std::string::npos) continue;
      Config config;
      config.head_dim = s.head_dim;
      config.pairing = Pairing::half_split;
      const std::int64_t max_pos = s.positions == Shape::contiguous ? s.seq : 8192;
      const auto table = make_table<M, float>(config, max_pos);
      const auto frequencies = make_frequencies<M>(config, max_pos);
      if (s.positions == Shape::offsets) {
        Kokkos::View<std::int64_t*, M> offsets("offsets", s.batch);
        auto h = Kokkos::create_mirror_view(offsets);
        for (int b = 0; b < s.batch; ++b) h(b) = 1000 + 97 * b;
        Kokkos::deep_copy(offsets, h);
        run_shape<T>(s, Impl::OffsetTokens<M>{s.seq, offsets},
                     krope::sequence_offsets<M>{offsets, false}, table, frequencies);
      } else if (s.positions == Shape::ids) {  // random ids in [0, 8192), as the suite's
        Kokkos::View<std::int64_t**, M> ids("ids", s.batch, s.seq);
        auto h = Kokkos::create_mirror_view(ids);
        std::uint64_t x = 2024;
        for (int b = 0; b < s.batch; ++b)
          for (int t = 0; t < s.seq; ++t) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            h(b, t) = std::int64_t(x >> 33) % max_pos;
          }
        Kokkos::deep_copy(ids, h);
        run_shape<T>(s, Impl::IdTokens<M>{s.seq, ids}, krope::position_ids<M>{ids, false}, table,
                     frequencies);
      } else if (s.fp32) {
        run_shape<float>(s, Impl::ContiguousTokens{s.seq, 0}, krope::contiguous{0}, table,
                         frequencies);
      } else {
        run_shape<T>(s, Impl::ContiguousTokens{s.seq, 0}, krope::contiguous{0}, table, frequencies);
        if (s.batch * s.seq >= 4096) run_strided(s, table, frequencies);
      }
    }
  }
  Kokkos::finalize();
  return 0;
}
