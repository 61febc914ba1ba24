/// \file probe_bandwidth.cu
/// Memory-pattern probe (plain CUDA, no Kokkos; not part of the CMake suite): how close can a
/// kernel that reads and writes every 16 bytes of a large buffer get to cudaMemcpy's device-to-
/// device rate on this GPU? An in-place rotation is such a kernel plus a few flops per element,
/// so the best pattern found here bounds what the rotary kernel can reach.
///
/// Patterns: per-thread 16-byte loads/stores with ILP independent vectors, either spread a grid
/// apart (the first ceiling probe) or contiguous per block; cache hints (default, .cs evict-first,
/// .L2::256B prefetch); in place or out of place; and the bulk-copy engine (cp.async.bulk
/// global -> shared on an mbarrier, a few stages deep, then shared -> global bulk stores).
///
/// Bytes counted: the buffer read once and written once. Timing: CUDA events around 50
/// back-to-back launches alternating between two buffer sets, median of 7 repeats.
///
/// Build here: nvcc -O3 -std=c++17 -arch=sm_90 perf/probe_bandwidth.cu -o probe_bandwidth
/// Run: ./probe_bandwidth [MiB per buffer, default 320]

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

#include "probe_timing.hpp"

#define CHECK PROBE_CHECK

enum Hint { plain = 0, streaming = 1, prefetch256 = 2, streaming_prefetch = 3 };

template <int H>
__device__ __forceinline__ uint4 load(const uint4* p) {
  uint4 v;
  if constexpr (H == plain) {
    v = *p;
  } else if constexpr (H == streaming) {
    v = __ldcs(p);
  } else if constexpr (H == prefetch256) {
    asm volatile("ld.global.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
  } else {
    asm volatile("ld.global.cs.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
  }
  return v;
}

template <int H>
__device__ __forceinline__ void store(uint4* p, const uint4& v) {
  if constexpr (H == streaming || H == streaming_prefetch)
    __stcs(p, v);
  else
    *p = v;
}

/// ILP vectors per thread, a whole grid apart (grid-stride).
template <int ILP, int H>
__global__ void spread_kernel(const uint4* src, uint4* dst, std::int64_t n) {
  const std::int64_t stride = std::int64_t(gridDim.x) * blockDim.x;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += ILP * stride) {
    uint4 v[ILP];
#pragma unroll
    for (int k = 0; k < ILP; ++k)
      if (i + k * stride < n) v[k] = load<H>(src + i + k * stride);
#pragma unroll
    for (int k = 0; k < ILP; ++k)
      if (i + k * stride < n) {
        v[k].x ^= 0x80008000u;
        store<H>(dst + i + k * stride, v[k]);
      }
  }
}

/// Each block iteration owns a contiguous tile of blockDim * ILP vectors; tiles grid-strided.
template <int ILP, int H>
__global__ void tile_kernel(const uint4* src, uint4* dst, std::int64_t n) {
  const std::int64_t tile = std::int64_t(blockDim.x) * ILP;
  for (std::int64_t base = blockIdx.x * tile; base < n; base += std::int64_t(gridDim.x) * tile) {
    uint4 v[ILP];
#pragma unroll
    for (int k = 0; k < ILP; ++k) {
      const std::int64_t i = base + k * blockDim.x + threadIdx.x;
      if (i < n) v[k] = load<H>(src + i);
    }
#pragma unroll
    for (int k = 0; k < ILP; ++k) {
      const std::int64_t i = base + k * blockDim.x + threadIdx.x;
      if (i < n) {
        v[k].x ^= 0x80008000u;
        store<H>(dst + i, v[k]);
      }
    }
  }
}

// ---- bulk copy engine (sm_90) ----
__device__ __forceinline__ unsigned smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void bar_init(std::uint64_t* bar) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(bar)) : "memory");
}
__device__ __forceinline__ void bar_expect(std::uint64_t* bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)),
               "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void bar_wait(std::uint64_t* bar, unsigned phase) {
  unsigned done = 0;
  while (!done)
    asm volatile(
        "{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, "
        "p; }"
        : "=r"(done)
        : "r"(smem_addr(bar)), "r"(phase)
        : "memory");
}
__device__ __forceinline__ void bulk_load(void* s, const void* g, unsigned bytes,
                                          std::uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::
          "r"(smem_addr(s)),
      "l"(g), "r"(bytes), "r"(smem_addr(bar))
      : "memory");
}
__device__ __forceinline__ void bulk_store(void* g, const void* s, unsigned bytes) {
  asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(g),
               "r"(smem_addr(s)), "r"(bytes)
               : "memory");
  asm volatile("cp.async.bulk.commit_group;" ::: "memory");
}

/// Persistent blocks; chunk c = blockIdx.x + i * gridDim.x of CHUNK bytes, STAGES in flight.
template <int CHUNK, int STAGES, bool MODIFY>
__global__ void bulk_kernel(const char* src, char* dst, std::int64_t chunks) {
  extern __shared__ __align__(128) unsigned char stage_mem[];
  __shared__ __align__(8) std::uint64_t bar[STAGES];
  if (threadIdx.x == 0) {
    for (int s = 0; s < STAGES; ++s) bar_init(&bar[s]);
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  const std::int64_t first = blockIdx.x, step = gridDim.x;
  const std::int64_t count = first < chunks ? (chunks - first + step - 1) / step : 0;
  auto issue = [&](std::int64_t i) {
    const int s = int(i % STAGES);
    bar_expect(&bar[s], CHUNK);
    bulk_load(stage_mem + s * CHUNK, src + (first + i * step) * CHUNK, CHUNK, &bar[s]);
  };
  if (threadIdx.x == 0)
    for (std::int64_t i = 0; i < STAGES && i < count; ++i) issue(i);
  for (std::int64_t i = 0; i < count; ++i) {
    const int s = int(i % STAGES);
    bar_wait(&bar[s], unsigned((i / STAGES) & 1));
    if constexpr (MODIFY) {
      uint4* p = reinterpret_cast<uint4*>(stage_mem + s * CHUNK);
      for (int j = threadIdx.x; j < CHUNK / 16; j += blockDim.x) {
        uint4 v = p[j];
        v.x ^= 0x80008000u;
        p[j] = v;
      }
      asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      bulk_store(dst + (first + i * step) * CHUNK, stage_mem + s * CHUNK, CHUNK);
      if (i + STAGES < count) {
        asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
        issue(i + STAGES);
      }
    }
  }
  if (threadIdx.x == 0) asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
}

struct Buffers {
  std::vector<char*> a, b;  // two sets: in place uses a[i]; out of place copies a[i] -> b[i]
  std::size_t bytes;
};

/// Median ms per call of 50 back-to-back calls alternating between the two buffer sets.
template <class F>
double time_ms(F&& f) {
  return probe_timing::median_ms_per_call(2, f, 50);
}

int sm_count() {
  int n = 0;
  CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
  return n;
}

double g_copy_ms = 0;
double g_bytes = 0;
void report(const char* name, double ms) {
  std::printf("  %-44s %8.2f us %8.1f GB/s %6.1f %% of copy\n", name, ms * 1e3,
              g_bytes / (ms * 1e-3) / 1e9, 100.0 * g_copy_ms / ms);
  std::fflush(stdout);
}

template <int ILP, int H>
void run_spread(const Buffers& B, bool in_place, const char* name) {
  const std::int64_t n = std::int64_t(B.bytes / 16);
  const int blocks = int(std::min<std::int64_t>((n + 1023) / 1024, sm_count() * 8));
  report(name, time_ms([&](int i) {
           spread_kernel<ILP, H>
               <<<blocks, 256>>>(reinterpret_cast<const uint4*>(B.a[i]),
                                 reinterpret_cast<uint4*>(in_place ? B.a[i] : B.b[i]), n);
         }));
}

template <int ILP, int H>
void run_tile(const Buffers& B, bool in_place, int threads, int persistent_per_sm,
              const char* name) {
  const std::int64_t n = std::int64_t(B.bytes / 16);
  const std::int64_t tiles = (n + std::int64_t(threads) * ILP - 1) / (std::int64_t(threads) * ILP);
  const int blocks =
      int(persistent_per_sm > 0
              ? std::min<std::int64_t>(tiles, std::int64_t(sm_count()) * persistent_per_sm)
              : tiles);
  report(name, time_ms([&](int i) {
           tile_kernel<ILP, H>
               <<<blocks, threads>>>(reinterpret_cast<const uint4*>(B.a[i]),
                                     reinterpret_cast<uint4*>(in_place ? B.a[i] : B.b[i]), n);
         }));
}

template <int CHUNK, int STAGES, bool MODIFY>
void run_bulk(const Buffers& B, bool in_place, int blocks_per_sm, const char* name) {
  const std::int64_t chunks = std::int64_t(B.bytes / CHUNK);
  const int smem = CHUNK * STAGES;
  CHECK(cudaFuncSetAttribute(bulk_kernel<CHUNK, STAGES, MODIFY>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  const int blocks = sm_count() * blocks_per_sm;
  report(name, time_ms([&](int i) {
           bulk_kernel<CHUNK, STAGES, MODIFY>
               <<<blocks, 128, smem>>>(B.a[i], in_place ? B.a[i] : B.b[i], chunks);
         }));
}

/// The probe is also a correctness check of the bulk kernel: one in-place pass flips signs.
void verify_bulk(const Buffers& B) {
  const std::size_t n = 1 << 20;
  std::vector<std::uint32_t> before(n), after(n);
  CHECK(cudaMemcpy(before.data(), B.a[0], n * 4, cudaMemcpyDeviceToHost));
  const std::int64_t chunks = std::int64_t(B.bytes / 16384);
  CHECK(cudaFuncSetAttribute(bulk_kernel<16384, 4, true>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, 65536));
  bulk_kernel<16384, 4, true><<<sm_count() * 2, 128, 65536>>>(B.a[0], B.a[0], chunks);
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaMemcpy(after.data(), B.a[0], n * 4, cudaMemcpyDeviceToHost));
  std::size_t bad = 0;
  for (std::size_t j = 0; j < n; ++j)
    if (after[j] != (j % 4 == 0 ? before[j] ^ 0x80008000u : before[j])) ++bad;
  std::printf("bulk in-place check: %zu of %zu words wrong\n", bad, n);
}

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 320;
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device %s, %d SMs, L2 %d MB, %zu MiB per buffer\n", prop.name,
              prop.multiProcessorCount, prop.l2CacheSize >> 20, mib);
  Buffers B;
  B.bytes = mib << 20;
  g_bytes = 2.0 * double(B.bytes);
  for (int i = 0; i < 2; ++i) {
    char *a, *b;
    CHECK(cudaMalloc(&a, B.bytes));
    CHECK(cudaMalloc(&b, B.bytes));
    CHECK(cudaMemset(a, 0x3c + i, B.bytes));
    CHECK(cudaMemset(b, 0x41 + i, B.bytes));
    B.a.push_back(a);
    B.b.push_back(b);
  }
  verify_bulk(B);
  g_copy_ms = time_ms(
      [&](int i) { CHECK(cudaMemcpyAsync(B.b[i], B.a[i], B.bytes, cudaMemcpyDeviceToDevice)); });
  report("cudaMemcpyAsync D2D", g_copy_ms);
  std::printf("out of place (a -> b):\n");
  run_spread<4, streaming>(B, false, "spread ILP4 .cs (first probe's pattern)");
  run_tile<4, plain>(B, false, 256, 0, "tile ILP4 b256 plain");
  run_tile<4, streaming>(B, false, 256, 0, "tile ILP4 b256 .cs");
  run_tile<8, plain>(B, false, 256, 0, "tile ILP8 b256 plain");
  run_tile<2, plain>(B, false, 256, 0, "tile ILP2 b256 plain");
  run_tile<1, plain>(B, false, 256, 0, "tile ILP1 b256 plain");
  run_tile<4, prefetch256>(B, false, 256, 0, "tile ILP4 b256 L2::256B");
  run_tile<4, plain>(B, false, 256, 8, "tile ILP4 b256 plain persistent 8/SM");
  run_bulk<16384, 4, false>(B, false, 2, "bulk 16K x4 stages, 2/SM");
  run_bulk<16384, 4, true>(B, false, 2, "bulk 16K x4 stages, 2/SM, modify in smem");
  std::printf("in place (a -> a):\n");
  run_spread<4, streaming>(B, true, "spread ILP4 .cs (first probe's pattern)");
  run_spread<4, plain>(B, true, "spread ILP4 plain");
  run_tile<4, plain>(B, true, 256, 0, "tile ILP4 b256 plain");
  run_tile<4, streaming>(B, true, 256, 0, "tile ILP4 b256 .cs");
  run_tile<8, plain>(B, true, 256, 0, "tile ILP8 b256 plain");
  run_tile<8, streaming>(B, true, 256, 0, "tile ILP8 b256 .cs");
  run_tile<2, plain>(B, true, 256, 0, "tile ILP2 b256 plain");
  run_tile<1, plain>(B, true, 256, 0, "tile ILP1 b256 plain");
  run_tile<1, plain>(B, true, 1024, 0, "tile ILP1 b1024 plain");
  run_tile<4, plain>(B, true, 128, 0, "tile ILP4 b128 plain");
  run_tile<4, prefetch256>(B, true, 256, 0, "tile ILP4 b256 L2::256B");
  run_tile<4, streaming_prefetch>(B, true, 256, 0, "tile ILP4 b256 .cs L2::256B");
  run_tile<4, plain>(B, true, 256, 8, "tile ILP4 b256 plain persistent 8/SM");
  run_tile<4, plain>(B, true, 256, 4, "tile ILP4 b256 plain persistent 4/SM");
  run_bulk<16384, 4, false>(B, true, 2, "bulk 16K x4, 2/SM");
  run_bulk<16384, 4, true>(B, true, 2, "bulk 16K x4, 2/SM, modify in smem");
  run_bulk<8192, 4, true>(B, true, 4, "bulk 8K x4, 4/SM, modify");
  run_bulk<8192, 8, true>(B, true, 2, "bulk 8K x8, 2/SM, modify");
  run_bulk<32768, 3, true>(B, true, 2, "bulk 32K x3, 2/SM, modify");
  run_bulk<16384, 2, true>(B, true, 4, "bulk 16K x2, 4/SM, modify");
  run_bulk<4096, 8, true>(B, true, 4, "bulk 4K x8, 4/SM, modify");
  report("cudaMemcpyAsync D2D (again)", time_ms([&](int i) {
           CHECK(cudaMemcpyAsync(B.b[i], B.a[i], B.bytes, cudaMemcpyDeviceToDevice));
         }));
  for (int i = 0; i < 2; ++i) {
    CHECK(cudaFree(B.a[i]));
    CHECK(cudaFree(B.b[i]));
  }
  return 0;
}
