#pragma once
/// \file reference.hpp
/// Accuracy of each path: an fp64 host reference on a sample of tokens (every head and lane of
/// each sampled token), compared by ||out - ref|| / ||ref|| (common/errors.hpp):
/// krope::reference_rope rotates the rounded inputs by cos/sin of pos * inv_freq from the config's
/// spectrum.

#include "rope_case.hpp"

#include <common/errors.hpp>
#include <common/values.hpp>

#include <krope/config.hpp>
#include <krope/reference.hpp>
#include <krope/spectrum.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

namespace krope::perf {

/// n values at device (or host) address `data` of `MemorySpace`, copied to a host vector.
template <class MemorySpace, class Value>
std::vector<Value> to_host(const Value* data, std::int64_t n) {
  std::vector<Value> host(static_cast<std::size_t>(n));
  Kokkos::View<Value*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> dst(host.data(),
                                                                                       n);
  Kokkos::View<const Value*, MemorySpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> src(data, n);
  Kokkos::deep_copy(dst, src);
  return host;
}

/// Up to `count` token rows spread over [0, tokens), first and last included.
inline std::vector<std::int64_t> sample_tokens(std::int64_t tokens, int count = 256) {
  std::vector<std::int64_t> rows;
  if (tokens <= count) {
    for (std::int64_t t = 0; t < tokens; ++t) rows.push_back(t);
    return rows;
  }
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<std::int64_t> pick(0, tokens - 1);
  rows.push_back(0);
  rows.push_back(tokens - 1);
  while (static_cast<int>(rows.size()) < count) rows.push_back(pick(rng));
  return rows;
}

/// The norm-wise error of every head row of the sampled tokens `rows` of one tensor against the
/// library's fp64 reference rotation, added to `error`.
template <class Value>
void add_sampled_error(support::RelativeError& error, const Case& c, const Spectrum& spectrum,
                       const std::vector<std::int64_t>& position,
                       const std::vector<std::int64_t>& rows, int heads,
                       const std::vector<Value>& in, const TensorIndex& in_index,
                       const std::vector<Value>& out, const TensorIndex& out_index) {
  const Config config = c.config();
  const int d = c.head_dim, axes = c.axes.count();
  std::vector<double> x, got;
  std::vector<std::int64_t> positions;
  for (const std::int64_t token : rows)
    for (int h = 0; h < heads; ++h) {
      for (int a = 0; a < axes; ++a) positions.push_back(position[token * axes + a]);
      for (int lane = 0; lane < d; ++lane) {
        x.push_back(support::to_double(in[in_index(token, h, lane)]));
        got.push_back(support::to_double(out[out_index(token, h, lane)]));
      }
    }
  error.add(got, reference_rope(config, spectrum, x, positions, c.direction));
}

}  // namespace krope::perf
