/// \file probe_bhsd.cu
/// Minimal bf16 in-place rotary kernels on the Llama-3-8B prefill shape stored [b][h][t][d]
/// (plain CUDA and the library's token kernel; not part of the suite), to separate what the
/// strided layout costs from what its table reads cost. Every thread is one-shot (all its loads
/// before its stores). A 256-thread block covers G head planes x 32/G consecutive tokens (P planes
/// per thread), and the grid walks either all token tiles of one plane group before the next
/// (tokens fast, the library's order) or all plane groups of one token tile before the next
/// (planes fast). Angle sources: the table row of the token (fp32, 2x the q bytes per row), a
/// table row of t & 15 (always cache-hot), constants, or none (a touch).
/// What it found (perf/NOTES.md, version 29): G = 8 reaches 97.5% of a copy here while the
/// library probe measured 92.5% for the same kernel; the difference was Kokkos::initialize, which
/// sets cudaFuncCachePreferShared for the whole device (PROBE_KOKKOS=1 reproduces it), and, for
/// 1-2 points, data 128 bytes past a 256-byte boundary (as a Kokkos View's; the offset
/// arguments).
/// Usage: probe_bhsd [random [qk_offset [table_offset [separate]]]]
/// Build: nvcc -O3 -std=c++17 -arch=sm_90 -expt-relaxed-constexpr -Ilib/include
/// -isystem $KOKKOS/include perf/probe_bhsd.cu -L$KOKKOS/lib -lkokkoscore -ldl -o probe_bhsd

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

#include <Kokkos_Core.hpp>
#include <krope/impl/cuda/rotary_kernel.hpp>
#include <krope/impl/cuda/tuning.hpp>

#include "probe_bf16.hpp"
#include "probe_timing.hpp"

#define CHECK PROBE_CHECK

using probe_bf16::hi16;
using probe_bf16::lo16;
using probe_bf16::round_bf16;

constexpr int D = 128, HALF = 64, ITEMS = 8, THREADS = 256, ROWS = THREADS / ITEMS;

__device__ __forceinline__ void rotate(uint4& lo, uint4& hi, const float* c, const float* s) {
  std::uint32_t* l = reinterpret_cast<std::uint32_t*>(&lo);
  std::uint32_t* h = reinterpret_cast<std::uint32_t*>(&hi);
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    float a[2] = {lo16(l[w]), hi16(l[w])}, b[2] = {lo16(h[w]), hi16(h[w])};
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const float cc = c[2 * w + j], ss = s[2 * w + j];
      const float an = __fsub_rn(__fmul_rn(a[j], cc), __fmul_rn(b[j], ss));
      b[j] = __fadd_rn(__fmul_rn(a[j], ss), __fmul_rn(b[j], cc));
      a[j] = an;
    }
    l[w] = round_bf16(a[0]) | (round_bf16(a[1]) << 16);
    h[w] = round_bf16(b[0]) | (round_bf16(b[1]) << 16);
  }
}

struct Problem {
  std::uint16_t *q, *k;
  const float *cos, *sin;
  int batch, seq, hq, hk;
};

enum Mode { touch = 0, table = 1, hot_table = 2, constants = 3 };

/// GRID2D: blockIdx.x = token tile, blockIdx.y = plane group (the library's grid).
template <int MODE, int G, int P, bool PLANES_FAST, bool GRID2D = false>
__global__ void __launch_bounds__(THREADS) bhsd_kernel(Problem p) {
  constexpr int TT = ROWS / G;  // tokens per block
  const int item = threadIdx.x % ITEMS;
  const int tt = (threadIdx.x / ITEMS) % TT, gl = threadIdx.x / (ITEMS * TT);
  const int heads = p.hq + p.hk, plane_groups = heads / (G * P);
  const std::int64_t tiles = std::int64_t(p.batch) * p.seq / TT;
  std::int64_t tile;
  int pg;
  if (GRID2D) {
    tile = blockIdx.x;
    pg = blockIdx.y;
  } else if (PLANES_FAST) {
    pg = int(blockIdx.x % plane_groups);
    tile = blockIdx.x / plane_groups;
  } else {
    tile = blockIdx.x % tiles;
    pg = int(blockIdx.x / tiles);
  }
  const std::int64_t token = tile * TT + tt;
  const int b = int(token / p.seq), t = int(token % p.seq);
  uint4 lo[P], hi[P];
  std::uint16_t* row[P];
#pragma unroll
  for (int u = 0; u < P; ++u) {
    const int h = (pg * G + gl) * P + u;
    row[u] = h < p.hq ? p.q + ((std::int64_t(b) * p.hq + h) * p.seq + t) * D
                      : p.k + ((std::int64_t(b) * p.hk + (h - p.hq)) * p.seq + t) * D;
    lo[u] = __ldcs(reinterpret_cast<const uint4*>(row[u] + item * 8));
    hi[u] = __ldcs(reinterpret_cast<const uint4*>(row[u] + HALF + item * 8));
  }
  float c[8], s[8];
  if (MODE == table || MODE == hot_table)
    probe_bf16::table_angles(p.cos, p.sin, HALF, MODE == table ? t : (t & 15), item, c, s);
  else
    probe_bf16::constant_angles(c, s);
#pragma unroll
  for (int u = 0; u < P; ++u) {
    if (MODE == touch) {
      lo[u].x ^= 0x80008000u;
      hi[u].x ^= 0x80008000u;
    } else {
      rotate(lo[u], hi[u], c, s);
    }
    __stcs(reinterpret_cast<uint4*>(row[u] + item * 8), lo[u]);
    __stcs(reinterpret_cast<uint4*>(row[u] + HALF + item * 8), hi[u]);
  }
}

/// Random bf16 values in [-1, 1) (the library probe's data), or one repeated value.
__global__ void fill_kernel(std::uint16_t* x, std::size_t n, std::uint32_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    std::uint32_t h = std::uint32_t(i) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    const float f = float(h >> 8) * (2.0f / 16777216.0f) - 1.0f;
    x[i] = std::uint16_t(__float_as_uint(f) >> 16);
  }
}

/// Arguments: [random [offset [table_offset [separate]]]]: random data; q (and k), and cos and
/// sin, that many bytes past a cudaMalloc'ed base; k in an allocation of its own. With an offset
/// only the first rows run.
int main(int argc, char** argv) {
  const bool random_data = argc > 1;
  const std::size_t offset = argc > 2 ? std::size_t(std::atoll(argv[2])) : 0;
  const std::size_t table_offset = argc > 3 ? std::size_t(std::atoll(argv[3])) : 0;
  const bool separate = argc > 4, short_run = argc > 2;
  // PROBE_KOKKOS: initialise Kokkos first (as the library probe and the suite do).
  const bool kokkos = std::getenv("PROBE_KOKKOS") != nullptr;
  if (kokkos) Kokkos::initialize();
  const int B = 8, T = 4096, HQ = 32, HK = 8, heads = HQ + HK;
  const std::int64_t tokens = std::int64_t(B) * T;
  const std::size_t qb = tokens * HQ * D * 2, kb = tokens * HK * D * 2;
  Problem p[2];
  void* copy_dst;
  CHECK(cudaMalloc(&copy_dst, qb + kb));
  float *cos, *sin;
  {
    char *c, *s;
    CHECK(cudaMalloc(&c, T * HALF * 4 + table_offset));
    CHECK(cudaMalloc(&s, T * HALF * 4 + table_offset));
    cos = reinterpret_cast<float*>(c + table_offset);
    sin = reinterpret_cast<float*>(s + table_offset);
  }
  {  // A real table (Llama-3 theta): rotations keep the data's magnitude (and randomness).
    std::vector<float> hc(T * HALF), hs(T * HALF);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < HALF; ++i) {
        const double a = t * std::pow(500000.0, -double(i) / HALF);
        hc[t * HALF + i] = float(std::cos(a));
        hs[t * HALF + i] = float(std::sin(a));
      }
    CHECK(cudaMemcpy(cos, hc.data(), T * HALF * 4, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(sin, hs.data(), T * HALF * 4, cudaMemcpyHostToDevice));
  }
  for (auto& pp : p) {
    char* base;
    CHECK(cudaMalloc(&base, qb + kb + offset));
    pp.q = reinterpret_cast<std::uint16_t*>(base + offset);
    pp.k = pp.q + qb / 2;
    if (separate) {
      CHECK(cudaMalloc(&base, kb + offset));
      pp.k = reinterpret_cast<std::uint16_t*>(base + offset);
    }
    CHECK(cudaMemset(pp.q, 0x3c, qb));
    CHECK(cudaMemset(pp.k, 0x3c, kb));
    if (random_data) {
      fill_kernel<<<1024, 256>>>(pp.q, qb / 2, std::uint32_t(&pp - p));
      fill_kernel<<<1024, 256>>>(pp.k, kb / 2, std::uint32_t(&pp - p) + 7);
    }
    pp = Problem{pp.q, pp.k, cos, sin, B, T, HQ, HK};
  }
  const double bytes = 2.0 * (qb + kb);
  auto time_ms = [](auto&& f) { return probe_timing::median_ms_per_call(2, f, 50); };
  double copy = 0;
  auto report = [&](const char* name, double ms) {
    std::printf("  %-40s %8.2f us %8.1f GB/s %6.1f %% of copy\n", name, ms * 1e3,
                bytes / (ms * 1e-3) / 1e9, 100.0 * copy / ms);
    std::fflush(stdout);
  };
  auto copy_ms = [&] {
    return time_ms([&](int i) {
      CHECK(cudaMemcpyAsync(copy_dst, p[i].q, qb + kb, cudaMemcpyDeviceToDevice));
    });
  };
  copy = copy_ms();
  report("cudaMemcpyAsync D2D", copy);
#define BHSD(M, G, P, PF)                                                                 \
  {                                                                                       \
    const unsigned blocks = unsigned(tokens / (ROWS / G) * (heads / (G * P)));            \
    report(#M " G" #G " P" #P " " #PF,                                                    \
           time_ms([&](int i) { bhsd_kernel<M, G, P, PF><<<blocks, THREADS>>>(p[i]); })); \
  }
#define BHSD2D(M, G, P)                                                                          \
  {                                                                                              \
    const dim3 grid(unsigned(tokens / (ROWS / G)), unsigned(heads / (G * P)));                   \
    report(#M " G" #G " P" #P " grid2d",                                                         \
           time_ms([&](int i) { bhsd_kernel<M, G, P, false, true><<<grid, THREADS>>>(p[i]); })); \
  }
  // The library's token kernel on the same buffers, block (items, 4 tokens, 8 head planes).
  using namespace krope::Impl;
  using LibArgs = cuda::RotaryArgs<krope::bfloat16, cuda::TableRows<float>, ContiguousTokens>;
  LibArgs lib[2];
  for (int i = 0; i < 2; ++i) {
    LibArgs& a = lib[i];
    auto operand = [&](std::uint16_t* x, int h) {
      cuda::Operand<krope::bfloat16> o;
      o.in = o.out = reinterpret_cast<krope::bfloat16*>(x);
      o.in_stride[0] = o.out_stride[0] = std::int64_t(h) * T * D;
      o.in_stride[1] = o.out_stride[1] = D;
      o.in_stride[2] = o.out_stride[2] = std::int64_t(T) * D;
      o.heads = h;
      return o;
    };
    a.q = operand(p[i].q, HQ);
    a.k = operand(p[i].k, HK);
    a.angles = cuda::TableRows<float>{cos, sin, HALF};
    a.tokens = ContiguousTokens{T, 0};
    a.by_seq = DivMod(T, tokens);
    a.half = HALF;
    a.quarter = HALF / 2;
    a.items = ITEMS;
    a.token_count = tokens;
    a.head_groups = heads;
  }
#define LIB(TUNING, NAME)                                                                        \
  report(NAME, time_ms([&](int i) {                                                              \
           cuda::rotary_vec16_kernel<TUNING, 4, true>                                            \
               <<<dim3(unsigned(tokens / 4), unsigned(heads / 8)), dim3(ITEMS, 4, 8)>>>(lib[i]); \
         }));
  std::printf("%s data\n", random_data ? "random" : "constant");
  for (int round = 0; round < 2; ++round) {
    std::printf("round %d\n", round);
    LIB(cuda::RotaryTuning, "library token kernel")
    BHSD2D(table, 8, 1)
    LIB(cuda::RotaryTuning, "library token kernel")
    BHSD(table, 4, 1, false)
    BHSD(table, 2, 1, false)
    if (short_run) break;
    BHSD(touch, 1, 1, false)
    BHSD(touch, 8, 1, false)
    BHSD(constants, 1, 1, false)
    BHSD(constants, 8, 1, false)
    BHSD(hot_table, 1, 1, false)
    BHSD(hot_table, 8, 1, false)
    BHSD(table, 1, 1, false)
    BHSD(table, 2, 1, false)
    BHSD(table, 4, 1, false)
    BHSD(table, 8, 1, false)
    BHSD(table, 1, 1, true)
    BHSD(table, 8, 1, true)
    BHSD(table, 1, 2, false)
    BHSD(table, 1, 4, false)
    BHSD(table, 1, 8, false)
    BHSD(table, 2, 4, false)
    BHSD(table, 1, 4, true)
    BHSD(constants, 1, 4, false)
    copy = copy_ms();
    report("cudaMemcpyAsync D2D (again)", copy);
  }
  if (kokkos) Kokkos::finalize();
  return 0;
}
