#pragma once
// One apply call on a backend, described by a CaseSpec, checked against the fp64 reference:
// seeded Gaussian inputs, outputs poisoned first, positions in any mode, any layout.

#include "rope_reference.hpp"

#include <common/layout.hpp>

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace krope::test {

/// The backend every other one must match bit for bit: Serial where the build has it, else the
/// host's default space.
#if defined(KOKKOS_ENABLE_SERIAL)
using ReferenceSpace = Kokkos::Serial;
#else
using ReferenceSpace = Kokkos::DefaultHostExecutionSpace;
#endif

/// axis_positions: config.axes.count() random positions per token (multi-axis RoPE), or the
/// same one on every axis when `equal_axes` (the one-axis equivalence).
enum class Positioning { contiguous, sequence_offsets, position_ids, varlen, axis_positions };
enum class AngleSource { table, computed };
using support::Layout;

struct CaseSpec {
  Config config;
  int batch = 2, seq = 7, q_heads = 3, k_heads = 2;
  Positioning positioning = Positioning::contiguous;
  AngleSource angles = AngleSource::table;
  Layout layout = Layout::bshd;
  bool in_place = true;
  Direction direction = Direction::forward;
  std::int64_t offset = 3;
  bool equal_axes = false;
  std::uint64_t seed = 1;
  /// The backend's best kernel (krope::apply), or the portable kernel on every backend.
  Impl::KernelChoice kernel = Impl::KernelChoice::best;
};

struct CaseResult {
  double q_error = 0, k_error = 0;                             // norm-wise relative error vs fp64
  std::vector<double> q_in, k_in, q_out, k_out, q_ref, k_ref;  // logical row-major order
};

/// Host positions of every token row (b * seq + t, or the packed token for varlen; A entries a
/// row for axis_positions), plus the sequence lengths used for varlen.
struct HostPositions {
  std::vector<std::int64_t> row_position, offsets, ids, cu_seqlens;
  int axes = 1;  ///< positions per row
  std::int64_t tokens = 0, max_position = 0;
};

inline HostPositions make_positions(const CaseSpec& spec) {
  HostPositions h;
  std::mt19937_64 rng(spec.seed * 7919 + 17);
  const std::int64_t b_count = spec.batch, t_count = spec.seq;
  switch (spec.positioning) {
    case Positioning::contiguous:
      for (std::int64_t b = 0; b < b_count; ++b)
        for (std::int64_t t = 0; t < t_count; ++t) h.row_position.push_back(t + spec.offset);
      break;
    case Positioning::sequence_offsets:
      for (std::int64_t b = 0; b < b_count; ++b) h.offsets.push_back(spec.offset + 11 * b);
      for (std::int64_t b = 0; b < b_count; ++b)
        for (std::int64_t t = 0; t < t_count; ++t) h.row_position.push_back(t + h.offsets[b]);
      break;
    case Positioning::position_ids: {
      std::uniform_int_distribution<std::int64_t> pick(0, spec.offset + 4 * t_count);
      for (std::int64_t i = 0; i < b_count * t_count; ++i) h.ids.push_back(pick(rng));
      h.row_position = h.ids;
      break;
    }
    case Positioning::axis_positions: {
      h.axes = spec.config.axes.count();
      std::uniform_int_distribution<std::int64_t> pick(0, spec.offset + 4 * t_count);
      for (std::int64_t i = 0; i < b_count * t_count; ++i) {
        const std::int64_t first = pick(rng);
        for (int a = 0; a < h.axes; ++a) h.ids.push_back(spec.equal_axes ? first : pick(rng));
      }
      h.row_position = h.ids;
      break;
    }
    case Positioning::varlen: {
      // Lengths vary around seq, with an empty sequence when batch > 2.
      h.cu_seqlens.push_back(0);
      for (std::int64_t b = 0; b < b_count; ++b) {
        const std::int64_t length = (b == 2) ? 0 : t_count + (b % 2 ? -2 : 3);
        h.cu_seqlens.push_back(h.cu_seqlens.back() + std::max<std::int64_t>(length, 1));
        h.offsets.push_back(spec.offset + 5 * b);
      }
      for (std::int64_t b = 0; b < b_count; ++b)
        for (std::int64_t t = 0; t < h.cu_seqlens[b + 1] - h.cu_seqlens[b]; ++t)
          h.row_position.push_back(t + h.offsets[b]);
      break;
    }
  }
  h.tokens = static_cast<std::int64_t>(h.row_position.size()) / h.axes;
  const int axes = spec.config.axes.count();
  if (h.axes == 1 && axes > 1) {  // one position per token: every axis takes it
    std::vector<std::int64_t> rows;
    for (auto p : h.row_position) rows.insert(rows.end(), axes, p);
    h.row_position = rows;
    h.axes = axes;
  }
  for (auto p : h.row_position) h.max_position = std::max(h.max_position, p);
  return h;
}

template <class M>
Kokkos::View<std::int64_t*, M> device_copy(const std::vector<std::int64_t>& values,
                                           const char* label) {
  Kokkos::View<std::int64_t*, M> v(std::string(label), values.size());
  auto host = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = values[i];
  Kokkos::deep_copy(v, host);
  return v;
}

/// Repeats each row's `axes` positions `heads` times: the positions of every (row, head)
/// reference row.
inline std::vector<std::int64_t> per_head(const std::vector<std::int64_t>& rows, int heads,
                                          int axes = 1) {
  std::vector<std::int64_t> out;
  for (std::size_t r = 0; r < rows.size(); r += axes)
    for (int h = 0; h < heads; ++h)
      out.insert(out.end(), rows.begin() + r, rows.begin() + r + axes);
  return out;
}

template <class ExecSpace, class Rotary, class Q, class K, class QOut, class KOut>
void call_apply(const ExecSpace& space, const Rotary& rotary, const CaseSpec& spec,
                const HostPositions& h, const Q& q, const K& k, const QOut& q_out,
                const KOut& k_out) {
  using M = typename ExecSpace::memory_space;
  auto run = [&](const auto& positions) {
    if (spec.kernel == Impl::KernelChoice::portable) {
      if (spec.in_place)
        Impl::apply_rotary<Impl::KernelChoice::portable>(space, rotary, q, k, q, k, positions,
                                                         spec.direction);
      else
        Impl::apply_rotary<Impl::KernelChoice::portable>(space, rotary, q, k, q_out, k_out,
                                                         positions, spec.direction);
    } else if (spec.in_place) {
      krope::apply(space, rotary, q, k, positions, spec.direction);
    } else {
      krope::apply(space, rotary, q, k, q_out, k_out, positions, spec.direction);
    }
  };
  if constexpr (Q::rank == 3) {
    run(krope::varlen{device_copy<M>(h.cu_seqlens, "cu_seqlens"),
                      device_copy<M>(h.offsets, "offsets")});
  } else {
    switch (spec.positioning) {
      case Positioning::contiguous:
        run(krope::contiguous{spec.offset});
        break;
      case Positioning::sequence_offsets:
        run(krope::sequence_offsets{device_copy<M>(h.offsets, "offsets")});
        break;
      case Positioning::position_ids: {
        Kokkos::View<std::int64_t**, M> ids("ids", spec.batch, spec.seq);
        auto host = Kokkos::create_mirror_view(ids);
        for (int b = 0; b < spec.batch; ++b)
          for (int t = 0; t < spec.seq; ++t) host(b, t) = h.ids[b * spec.seq + t];
        Kokkos::deep_copy(ids, host);
        run(krope::position_ids{ids});
        break;
      }
      case Positioning::axis_positions: {
        Kokkos::View<std::int64_t***, M> ids("axis ids", spec.batch, spec.seq, h.axes);
        auto host = Kokkos::create_mirror_view(ids);
        for (int b = 0; b < spec.batch; ++b)
          for (int t = 0; t < spec.seq; ++t)
            for (int a = 0; a < h.axes; ++a) host(b, t, a) = h.ids[(b * spec.seq + t) * h.axes + a];
        Kokkos::deep_copy(ids, host);
        run(krope::axis_positions{ids});
        break;
      }
      default:
        break;
    }
  }
  space.fence();
}

template <class ExecSpace, class T, class Q, class K>
CaseResult run_on_views(const ExecSpace& space, const CaseSpec& spec, const HostPositions& h,
                        const Q& q, const K& k) {
  using M = typename ExecSpace::memory_space;
  using Real = table_real_t<T>;
  fill_gaussian(q, spec.seed);
  fill_gaussian(k, spec.seed + 1);
  CaseResult result;
  result.q_in = to_doubles(q);
  result.k_in = to_doubles(k);

  Q q_out = q;
  K k_out = k;
  if (!spec.in_place) {
    q_out = Q(Kokkos::view_alloc("q_out", Kokkos::WithoutInitializing), q.layout());
    k_out = K(Kokkos::view_alloc("k_out", Kokkos::WithoutInitializing), k.layout());
    poison(q_out);
    poison(k_out);
  }
  const std::int64_t max_positions = h.max_position + 3;
  if (spec.angles == AngleSource::table) {
    auto table = make_table<M, Real>(spec.config, max_positions);
    call_apply(space, table, spec, h, q, k, q_out, k_out);
  } else {
    auto frequencies = make_frequencies<M>(spec.config, max_positions);
    call_apply(space, frequencies, spec, h, q, k, q_out, k_out);
  }
  result.q_out = to_doubles(q_out);
  result.k_out = to_doubles(k_out);
  const Spectrum s = spectrum(spec.config, max_positions);
  result.q_ref = reference_rope(spec.config, s, result.q_in,
                                per_head(h.row_position, spec.q_heads, h.axes), spec.direction);
  result.k_ref = reference_rope(spec.config, s, result.k_in,
                                per_head(h.row_position, spec.k_heads, h.axes), spec.direction);
  result.q_error = relative_error(result.q_out, result.q_ref);
  result.k_error = relative_error(result.k_out, result.k_ref);
  return result;
}

/// Runs `spec` on ExecSpace with element type T and compares with the fp64 reference. Defined in
/// run_case.hpp and instantiated once per (backend, element type) in generated translation units
/// (tests/CMakeLists.txt): the kernels it instantiates dominated the tests' compile time when
/// every test file compiled its own copies.
template <class ExecSpace, class T>
CaseResult run_case(const CaseSpec& spec);

/// The bound each element type must meet against fp64 (norm-wise relative, Gaussian data).
/// Double: the fp64 angle pos * inv_freq itself carries pos * 2^-53 rounding, which dominates
/// (tests keep positions below 2^14: at most 1.8e-12 per angle, far less norm-wise).
template <class T>
double error_bound() {
  if constexpr (std::is_same<T, double>::value)
    return 5e-13;
  else if constexpr (std::is_same<T, float>::value)
    return 5e-8;
  else if constexpr (std::is_same<T, bfloat16>::value)
    return 1.7e-3;
  else
    return 2.2e-4;
}

}  // namespace krope::test
