#pragma once
/// \file unroll.hpp
/// KROPE_UNROLL before a loop of fixed trip count: unroll it fully. The portable kernel keeps a
/// batch of head chunks in small arrays; left rolled (nvcc does not unroll a loop nest of the
/// 16-bit kernels' size by itself), their indices are not constants and the arrays move from
/// registers to local memory.

/// Device compilation only: CPU compilers vectorise these loops themselves, and unrolling them
/// first (GCC unroll) stopped g++ from vectorising (host bf16: 8.8 -> 3.9 GB/s per core).
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
#define KROPE_UNROLL _Pragma("unroll")
#else
#define KROPE_UNROLL
#endif
