#pragma once
/// \file apply_cuda.hpp
/// Impl::Apply<Kokkos::Cuda, R>: the hand-written CUDA path ("krope::apply[cuda_vec16]").
///
/// Takes over when every q/k View has a contiguous innermost dimension, 16-byte aligned data and
/// 16-byte multiple strides, R/2 and head_dim are multiples of the vector width V = 16/sizeof(T),
/// and the table rows are 16-byte aligned; otherwise it falls back to the portable kernel. Launches
/// a raw kernel on space.cuda_stream(): the row kernel (row_kernel.hpp) or the token kernel
/// (rotary_kernel.hpp; once, or once for q and once for k when a token's heads do not fit one
/// block), each launch with its own L1 / shared memory carveout (cache_carveout.hpp). No
/// allocation, no synchronisation, no device query beyond Kokkos' cached device properties.

#include <krope/impl/angle_sources.hpp>
#include <krope/impl/apply_spec.hpp>
#include <krope/impl/rotation.hpp>

#if defined(KOKKOS_ENABLE_CUDA) && defined(__CUDACC__)

#include <krope/impl/cuda/cache_carveout.hpp>
#include <krope/impl/cuda/launch_shape.hpp>
#include <krope/impl/cuda/rotary_kernel.hpp>
#include <krope/impl/cuda/row_kernel.hpp>
#include <krope/impl/cuda/tuning.hpp>
#include <krope/impl/cuda/vector_access.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <cuda_runtime.h>

namespace krope::Impl {

namespace cuda {

/// How the kernel gets cos/sin from an angle source: table rows directly, anything else staged.
template <class Source>
struct AngleAccess {
  using type = ComputedRows<Source>;
  static type make(const Source& s) { return {s}; }
  static bool ready(const Source&) { return true; }
};

template <class Real, class M>
struct AngleAccess<TableAngles<Real, M>> {
  using type = TableRows<Real>;
  static type make(const TableAngles<Real, M>& t) {
    return {t.cos.data(), t.sin.data(), static_cast<std::int64_t>(t.cos.stride(0))};
  }
  /// Rows read in chunks of V/2 values (at most vector_bytes): rows aligned to vector_bytes.
  static bool ready(const TableAngles<Real, M>& t) {
    return reinterpret_cast<std::uintptr_t>(t.cos.data()) % vector_bytes == 0 &&
           reinterpret_cast<std::uintptr_t>(t.sin.data()) % vector_bytes == 0 &&
           t.cos.stride(0) == t.sin.stride(0) &&
           (t.cos.stride(0) * sizeof(Real)) % vector_bytes == 0;
  }
};

/// Innermost stride 1, data and every stride that matters aligned to vector_bytes.
template <class View>
bool vector_ready(const View& v) {
  using T = typename View::non_const_value_type;
  if (v.size() == 0) return true;
  constexpr unsigned rank = View::rank;
  if (v.stride(rank - 1) != 1) return false;
  if (reinterpret_cast<std::uintptr_t>(v.data()) % vector_bytes != 0) return false;
  for (unsigned i = 0; i + 1 < rank; ++i)
    if (v.extent(i) > 1 && (v.stride(i) * sizeof(T)) % vector_bytes != 0) return false;
  return true;
}

template <class T, class In, class Out>
Operand<T> operand_of(const In& in, const Out& out) {
  Operand<T> o;
  o.in = in.data();
  o.out = out.data();
  o.heads = static_cast<int>(in.extent(In::rank - 2));
  if constexpr (In::rank == 4) {
    for (int i = 0; i < 3; ++i) {
      o.in_stride[i] = static_cast<std::int64_t>(in.stride(i));
      o.out_stride[i] = static_cast<std::int64_t>(out.stride(i));
    }
  } else {
    o.in_stride[0] = static_cast<std::int64_t>(in.stride(0));
    o.out_stride[0] = static_cast<std::int64_t>(out.stride(0));
    o.in_stride[2] = static_cast<std::int64_t>(in.stride(1));
    o.out_stride[2] = static_cast<std::int64_t>(out.stride(1));
  }
  return o;
}

template <class T>
constexpr bool vectorizable_v = std::is_same<T, float>::value || std::is_same<T, double>::value ||
                                std::is_same<T, bfloat16>::value || std::is_same<T, float16>::value;

/// The fields both kernels take from the rotation alike.
template <class Access, class T, class Angles, class Tokens, class R>
void set_rotation_fields(RotationArgs<T, Angles, Tokens>& args, const R& r) {
  constexpr int V = Vector<T>::width;
  args.angles = Access::make(r.angles);
  args.tokens = r.tokens;
  args.half = r.rotary_dim / 2;
  args.quarter = args.half / 2;
  args.items = args.half / V;
  args.tail_vectors = r.in_place ? 0 : (r.head_dim - r.rotary_dim) / V;
  args.interleaved = r.pairing == Pairing::interleaved;
  args.backward = r.direction == Direction::backward;
  args.axes = r.axes;
}

/// Runs `launches` (which returns the first launch error) inside the Kokkos Tools region of the
/// call, and throws if a launch failed.
template <class F>
void launch_in_region(F&& launches) {
  const bool profiled = Kokkos::Tools::profileLibraryLoaded();
  if (profiled) Kokkos::Tools::pushRegion("krope::apply[cuda_vec16]");
  const cudaError_t error = launches();
  if (profiled) Kokkos::Tools::popRegion();
  if (error != cudaSuccess)
    throw std::runtime_error(std::string("krope::apply[cuda_vec16]: kernel launch failed: ") +
                             cudaGetErrorString(error));
}

/// Launches the vectorised kernel for `r` on `space` if it is eligible; returns false (having
/// done nothing) otherwise. Table angles over token-major rows with several heads per token take
/// the row kernel; computed angles (evaluated once per token and shared by its heads),
/// [b][h][t][d] data (whose blocks share each table row among a few head planes) and tokens with
/// few heads take the token kernel.
template <class Tuning, class R>
bool launch_vec16(const Kokkos::Cuda& space, const R& r) {
  using T = typename R::value_type;
  using Real = typename R::real_type;
  using Source = typename R::angle_source;
  using Access = AngleAccess<Source>;
  using QIn = decltype(r.q_in);
  using Tokens = decltype(r.tokens);
  if constexpr (!vectorizable_v<T>) {
    return false;
  } else {
    constexpr int V = Vector<T>::width;
    constexpr int rank = QIn::rank;
    const int half = r.rotary_dim / 2;
    if (r.rotary_dim % 2 != 0 || half < V || half % V != 0 || r.head_dim % V != 0 ||
        r.rotary_dim > r.head_dim)
      return false;
    if (!vector_ready(r.q_in) || !vector_ready(r.q_out) || !vector_ready(r.k_in) ||
        !vector_ready(r.k_out) || !Access::ready(r.angles))
      return false;

    const cudaDeviceProp& prop = space.cuda_device_prop();
    const Operand<T> q = operand_of<T>(r.q_in, r.q_out), k = operand_of<T>(r.k_in, r.k_out);
    const int items = half / V;
    // Only a strided rank-4 q can have its heads outermost ([b][h][t][d] memory).
    constexpr bool strided =
        rank == 4 && !std::is_same<typename QIn::array_layout, Kokkos::LayoutRight>::value;
    const bool heads_outer = strided && q.in_stride[2] > q.in_stride[1];

    // The row kernel reads each table row in q's pass and again in k's. With few heads per token
    // the table is as large as the data and leaves L2 in between (1 x 63488 x 128, one q and one
    // k head: -21%), so such problems keep the token kernel, whose blocks hold a token's q and k.
    const std::size_t token_bytes = std::size_t(r.q_heads + r.k_heads) * r.head_dim * sizeof(T);
    const std::size_t angle_row_bytes = 2 * std::size_t(half) * sizeof(Real);  // cos + sin
    if constexpr (!Access::type::staged) {
      if (!heads_outer && token_bytes >= Tuning::row_kernel_min_token_bytes * angle_row_bytes) {
        RowArgs<T, typename Access::type, Tokens> args;
        set_rotation_fields<Access>(args, r);
        args.q = q;
        args.k = k;
        args.q_rows = r.token_count * r.q_heads;
        args.k_rows = r.token_count * r.k_heads;
        const std::int64_t largest = std::max(args.q_rows, args.k_rows);
        args.q_by_heads = DivMod(r.q_heads, largest);
        args.k_by_heads = DivMod(r.k_heads, largest);
        // Positions read from memory: a thread may rotate several rows of one token
        // (tuning.hpp), so that more bytes are in flight while it waits for the id and then for
        // the table row it names; one row where the heads do not divide.
        using Rows = typename Access::type;
        int unit = 1;
        auto pick = [&](auto layout) {
          constexpr AxesKernel L = decltype(layout)::value;
          constexpr int n = rows_per_thread<Tuning, Tokens, L>();
          if (r.q_heads % n != 0 || r.k_heads % n != 0)
            return &rotary_rows_kernel<Tuning, rank, 1, L, T, Rows, Tokens>;
          unit = n;
          return &rotary_rows_kernel<Tuning, rank, n, L, T, Rows, Tokens>;
        };
        const auto kernel = [&] {
          if constexpr (is_axis_tokens<Tokens>::value)
            return r.axes.interleaved ? pick(axes_kernel<AxesKernel::interleaved>{})
                                      : pick(axes_kernel<AxesKernel::chunked>{});
          else
            return pick(axes_kernel<AxesKernel::one>{});
        }();
        RowShape shape;
        if (!choose_row_shape<Tuning>(prop.multiProcessorCount, args.q_rows / unit,
                                      args.k_rows / unit, items, shape))
          return false;
        args.q_blocks = shape.q_blocks;
        launch_in_region([&] {
          return launch_with_carveout(kernel, shape.grid, shape.block, 0, space.cuda_stream(), 0,
                                      args);
        });
        return true;
      }
    }

    const std::size_t staged_bytes = Access::type::staged ? angle_row_bytes : 0;
    auto shape_for = [&](int heads, LaunchShape& shape) {
      return choose_launch_shape<Tuning>(prop.multiProcessorCount, prop.maxThreadsPerMultiProcessor,
                                         r.token_count, items, heads, staged_bytes, shape,
                                         heads_outer);
    };
    LaunchShape shape, q_shape, k_shape;
    if (!shape_for(r.q_heads + r.k_heads, shape)) return false;
    // Heads that do not fit one block are split over blockIdx.y, and each block then reads a
    // slice of every token's q and k rows (fp32 Llama: 96.3% of copy). A large problem instead
    // rotates q and k in a launch each, whose blocks read whole rows of one operand (99.0%);
    // small ones (decode) keep one launch.
    const std::int64_t resident =
        std::int64_t(prop.multiProcessorCount) * prop.maxThreadsPerMultiProcessor;
    const bool apart = !heads_outer && shape.grid.y > 1 && r.q_heads > 0 && r.k_heads > 0 &&
                       r.token_count * items * (r.q_heads + r.k_heads) >=
                           Tuning::operands_apart_waves * resident &&
                       shape_for(r.q_heads, q_shape) && shape_for(r.k_heads, k_shape);

    RotaryArgs<T, typename Access::type, Tokens> args;
    set_rotation_fields<Access>(args, r);
    args.token_count = r.token_count;

    // One launch over the heads of `first` then those of `second`.
    auto launch = [&](LaunchShape s, const Operand<T>& first, const Operand<T>& second) {
      args.q = first;
      args.k = second;
      args.head_groups = s.head_groups;
      // The two head groups swap halves between lanes blockDim.x apart: a token's 2 x items
      // threads must lie within one warp.
      args.register_angles = Access::type::staged && Tuning::register_angles &&
                             s.head_groups == 2 && s.grid.y == 1 && !s.tokens_inner &&
                             items <= 16 && (items & (items - 1)) == 0;
      if (args.register_angles) s.shared_bytes = 0;
      const int carveout = shared_carveout_percent(s.shared_bytes, s.block, prop);
      auto kernel = &rotary_vec16_kernel<Tuning, rank, false, T, typename Access::type, Tokens>;
      if constexpr (strided)
        if (s.tokens_inner)
          kernel = &rotary_vec16_kernel<Tuning, rank, true, T, typename Access::type, Tokens>;
      return launch_with_carveout(kernel, s.grid, s.block, s.shared_bytes, space.cuda_stream(),
                                  carveout, args);
    };

    launch_in_region([&] {
      if (!apart) return launch(shape, q, k);
      Operand<T> no_q = q, no_k = k;  // each launch sees the other operand with no heads
      no_q.heads = 0;
      no_k.heads = 0;
      const cudaError_t error = launch(q_shape, q, no_k);
      return error == cudaSuccess ? launch(k_shape, k, no_q) : error;
    });
    return true;
  }
}

}  // namespace cuda

template <class R>
struct backend_kernel_avail<Kokkos::Cuda, R>
    : std::integral_constant<bool, cuda::vectorizable_v<typename R::value_type>> {};

template <class R>
struct Apply<Kokkos::Cuda, R, true> {
  static void run(const Kokkos::Cuda& space, const R& rotation) {
    if (!cuda::launch_vec16<cuda::RotaryTuning>(space, rotation))
      Apply<Kokkos::Cuda, R, false>::run(space, rotation);
  }
};

}  // namespace krope::Impl

#endif  // KOKKOS_ENABLE_CUDA && __CUDACC__
