/// \file probe_rotary_shapes.cu
/// Minimal bf16 in-place rotary kernels on the Llama-3-8B prefill shape (plain CUDA, no Kokkos;
/// not part of the suite) to attribute the gap between the library kernel and a bare in-place
/// touch: thread mapping, cos/sin source (L1 vs shared memory vs none), heads per thread.
/// Build: nvcc -O3 -std=c++17 -arch=sm_90 -Xptxas=-v perf/probe_rotary_shapes.cu -o
/// probe_rotary_shapes

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

#include "probe_bf16.hpp"
#include "probe_timing.hpp"

#define CHECK PROBE_CHECK

using probe_bf16::hi16;
using probe_bf16::lo16;
using probe_bf16::round_bf16;

constexpr int D = 128, HALF = 64, ITEMS = 8;  // bf16: 8 lanes per 16 bytes, 8 vector pairs

__device__ __forceinline__ void rot(float& x, float& y, float c, float s) {
  const float xn = __fsub_rn(__fmul_rn(x, c), __fmul_rn(y, s));
  y = __fadd_rn(__fmul_rn(x, s), __fmul_rn(y, c));
  x = xn;
}
/// Rotates lo/hi (8 bf16 lanes each, lane i of lo with lane i of hi) by c[i], s[i].
template <class CS>
__device__ __forceinline__ void rotate(uint4& lo, uint4& hi, CS&& cs) {
  std::uint32_t* l = reinterpret_cast<std::uint32_t*>(&lo);
  std::uint32_t* h = reinterpret_cast<std::uint32_t*>(&hi);
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    float a0 = lo16(l[w]), a1 = hi16(l[w]), b0 = lo16(h[w]), b1 = hi16(h[w]);
    float c0, s0, c1, s1;
    cs(2 * w, c0, s0);
    cs(2 * w + 1, c1, s1);
    rot(a0, b0, c0, s0);
    rot(a1, b1, c1, s1);
    l[w] = round_bf16(a0) | (round_bf16(a1) << 16);
    h[w] = round_bf16(b0) | (round_bf16(b1) << 16);
  }
}

struct Problem {
  std::uint16_t *q, *k;
  const float *cos, *sin;
  int tokens, seq, hq, hk;
};

enum Mode { touch = 0, l1_table = 1, no_table = 2 };

/// Flat: thread = (token, head, item), item fastest; HPT heads per thread strided by G.
template <int MODE, int HPT>
__global__ void flat_kernel(Problem p) {
  const int heads = p.hq + p.hk, groups = (heads + HPT - 1) / HPT;
  const std::int64_t t = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int item = int(t % ITEMS);
  const std::int64_t rest = t / ITEMS;
  const int g = int(rest % groups);
  const std::int64_t token = rest / groups;
  if (token >= p.tokens) return;
  uint4 lo[HPT], hi[HPT];
  std::uint16_t* row[HPT];
#pragma unroll
  for (int u = 0; u < HPT; ++u) {
    const int h = g + u * groups;
    row[u] = h < heads
                 ? (h < p.hq ? p.q + (token * p.hq + h) * D : p.k + (token * p.hk + (h - p.hq)) * D)
                 : nullptr;
    if (row[u]) {
      lo[u] = __ldcs(reinterpret_cast<const uint4*>(row[u] + item * 8));
      hi[u] = __ldcs(reinterpret_cast<const uint4*>(row[u] + HALF + item * 8));
    }
  }
  const int pos = int(token % p.seq);
  float c[8], s[8];
  if (MODE == l1_table)
    probe_bf16::table_angles(p.cos, p.sin, HALF, pos, item, c, s);
  else
    probe_bf16::constant_angles(c, s);
#pragma unroll
  for (int u = 0; u < HPT; ++u) {
    if (!row[u]) continue;
    if (MODE == touch) {
      lo[u].x ^= 0x80008000u;
      hi[u].x ^= 0x80008000u;
    } else {
      rotate(lo[u], hi[u], [&](int i, float& cc, float& ss) {
        cc = c[i];
        ss = s[i];
      });
    }
    __stcs(reinterpret_cast<uint4*>(row[u] + item * 8), lo[u]);
    __stcs(reinterpret_cast<uint4*>(row[u] + HALF + item * 8), hi[u]);
  }
}

/// Block per TPB tokens: stage cos/sin rows in shared memory, then flat threads as above.
template <int HPT, int TPB>
__global__ void staged_kernel(Problem p) {
  __shared__ float rows[TPB][2 * HALF];
  const int heads = p.hq + p.hk, groups = (heads + HPT - 1) / HPT;
  const int per_token = groups * ITEMS;
  const int local = threadIdx.x % per_token, z = threadIdx.x / per_token;
  const std::int64_t token = std::int64_t(blockIdx.x) * TPB + z;
  const int item = local % ITEMS, g = local / ITEMS;
  const bool live = z < TPB && token < p.tokens;
  uint4 lo[HPT], hi[HPT];
  std::uint16_t* row[HPT];
#pragma unroll
  for (int u = 0; u < HPT; ++u) {
    const int h = g + u * groups;
    row[u] = live && h < heads
                 ? (h < p.hq ? p.q + (token * p.hq + h) * D : p.k + (token * p.hk + (h - p.hq)) * D)
                 : nullptr;
    if (row[u]) {
      lo[u] = __ldcs(reinterpret_cast<const uint4*>(row[u] + item * 8));
      hi[u] = __ldcs(reinterpret_cast<const uint4*>(row[u] + HALF + item * 8));
    }
  }
  for (int i = threadIdx.x; i < TPB * 2 * HALF / 4; i += blockDim.x) {
    const int zz = i / (2 * HALF / 4), c = i % (2 * HALF / 4);
    const std::int64_t tok = std::int64_t(blockIdx.x) * TPB + zz;
    if (tok < p.tokens) {
      const int pos = int(tok % p.seq);
      const float* src =
          c < HALF / 4 ? p.cos + pos * HALF + c * 4 : p.sin + pos * HALF + (c - HALF / 4) * 4;
      *reinterpret_cast<float4*>(&rows[zz][c * 4]) = __ldg(reinterpret_cast<const float4*>(src));
    }
  }
  __syncthreads();
  if (!live) return;
  const float* rc = &rows[z][item * 8];
  const float* rs = &rows[z][HALF + item * 8];
#pragma unroll
  for (int u = 0; u < HPT; ++u) {
    if (!row[u]) continue;
    rotate(lo[u], hi[u], [&](int i, float& cc, float& ss) {
      cc = rc[i];
      ss = rs[i];
    });
    __stcs(reinterpret_cast<uint4*>(row[u] + item * 8), lo[u]);
    __stcs(reinterpret_cast<uint4*>(row[u] + HALF + item * 8), hi[u]);
  }
}

/// Median ms per call of 50 back-to-back calls alternating between the two buffer sets.
template <class F>
double time_ms(F&& f) {
  return probe_timing::median_ms_per_call(2, f, 50);
}

int main() {
  const int B = 8, T = 4096, HQ = 32, HK = 8;
  const std::int64_t tokens = std::int64_t(B) * T;
  const std::size_t qb = tokens * HQ * D * 2, kb = tokens * HK * D * 2;
  Problem p[2];
  void* copy_dst;
  CHECK(cudaMalloc(&copy_dst, qb + kb));
  float *cos, *sin;
  CHECK(cudaMalloc(&cos, T * HALF * 4));
  CHECK(cudaMalloc(&sin, T * HALF * 4));
  CHECK(cudaMemset(cos, 0x3f, T * HALF * 4));
  CHECK(cudaMemset(sin, 0x3e, T * HALF * 4));
  for (auto& pp : p) {
    CHECK(cudaMalloc(&pp.q, qb + kb));
    pp.k = pp.q + qb / 2;
    CHECK(cudaMemset(pp.q, 0x3c, qb + kb));
    pp.cos = cos;
    pp.sin = sin;
    pp.tokens = int(tokens);
    pp.seq = T;
    pp.hq = HQ;
    pp.hk = HK;
  }
  const double bytes = 2.0 * (qb + kb);
  const double copy = time_ms(
      [&](int i) { CHECK(cudaMemcpyAsync(copy_dst, p[i].q, qb + kb, cudaMemcpyDeviceToDevice)); });
  auto report = [&](const char* name, double ms) {
    std::printf("  %-44s %8.2f us %8.1f GB/s %6.1f %% of copy\n", name, ms * 1e3,
                bytes / (ms * 1e-3) / 1e9, 100.0 * copy / ms);
    std::fflush(stdout);
  };
  report("cudaMemcpyAsync D2D", copy);
  const int heads = HQ + HK;
#define FLAT(M, H, BLK)                                                             \
  {                                                                                 \
    const std::int64_t threads = tokens * ((heads + H - 1) / H) * ITEMS;            \
    report("flat " #M " hpt" #H " b" #BLK, time_ms([&](int i) {                     \
             flat_kernel<M, H><<<unsigned((threads + BLK - 1) / BLK), BLK>>>(p[i]); \
           }));                                                                     \
  }
  FLAT(touch, 1, 256)
  FLAT(touch, 2, 256)
  FLAT(no_table, 1, 256)
  FLAT(no_table, 2, 256)
  FLAT(l1_table, 1, 256)
  FLAT(l1_table, 2, 256)
  FLAT(l1_table, 4, 256)
  FLAT(l1_table, 1, 512)
  FLAT(l1_table, 2, 128)
#define STAGED(H, TPB)                                                                             \
  {                                                                                                \
    const int per_token = ((heads + H - 1) / H) * ITEMS;                                           \
    report("staged hpt" #H " tokens/block " #TPB, time_ms([&](int i) {                             \
             staged_kernel<H, TPB><<<unsigned((tokens + TPB - 1) / TPB), per_token * TPB>>>(p[i]); \
           }));                                                                                    \
  }
  STAGED(1, 1)
  STAGED(2, 1)
  STAGED(2, 2)
  STAGED(2, 4)
  STAGED(4, 4)
  report("cudaMemcpyAsync D2D (again)", time_ms([&](int i) {
           CHECK(cudaMemcpyAsync(copy_dst, p[i].q, qb + kb, cudaMemcpyDeviceToDevice));
         }));
  return 0;
}
