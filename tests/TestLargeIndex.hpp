// 64-bit indexing: one bf16 q tensor of more than 2^31 elements, rotated on the device, with the
// last tokens (whose flat indices lie past 2^31) checked against the fp64 reference, with
// table-free angles and with a table. Runs on device backends only (it needs 4.9 GB).

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;
using Big = Kokkos::View<krope::bfloat16****, Kokkos::LayoutRight, Memory>;

/// A reproducible value in [-1, 1) from a 64-bit index (splitmix64), the same on host and device.
KOKKOS_INLINE_FUNCTION float hashed_value(std::uint64_t i) {
  i += 0x9e3779b97f4a7c15ull;
  i = (i ^ (i >> 30)) * 0xbf58476d1ce4e5b9ull;
  i = (i ^ (i >> 27)) * 0x94d049bb133111ebull;
  i ^= i >> 31;
  return static_cast<float>(i >> 40) * (1.0f / 8388608.0f) - 1.0f;
}

struct FillHashed {
  Big v;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t flat) const {
    const std::int64_t d = v.extent(3), h = v.extent(2), t = v.extent(1);
    const std::int64_t dd = flat % d, hh = (flat / d) % h, tt = (flat / (d * h)) % t,
                       bb = flat / (d * h * t);
    v(bb, tt, hh, dd) = krope::bfloat16(hashed_value(static_cast<std::uint64_t>(flat)));
  }
};

/// Rotates q (> 2^31 elements) and k with `angles` and checks q's last 8 tokens, whose flat
/// indices lie past 2^31 + 65536.
template <class Angles>
void check_past_two_to_the_31(const Config& config, const Angles& angles, const Big& q,
                              const Big& k) {
  Kokkos::parallel_for("fill_q",
                       Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(0, q.size()),
                       FillHashed{q});
  Kokkos::parallel_for("fill_k",
                       Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(0, k.size()),
                       FillHashed{k});
  krope::apply(Space(), angles, q, k, krope::contiguous{0});
  Space().fence();

  const std::int64_t seq = q.extent(1), heads = q.extent(2), dim = q.extent(3);
  const std::int64_t first = seq - 8;
  auto tail =
      host_copy(Kokkos::subview(q, 0, std::make_pair(first, seq), Kokkos::ALL, Kokkos::ALL));
  std::vector<double> in, out;
  std::vector<std::int64_t> rows;
  for (std::int64_t t = first; t < seq; ++t)
    for (std::int64_t h = 0; h < heads; ++h) {
      rows.push_back(t);
      for (std::int64_t d = 0; d < dim; ++d) {
        const std::uint64_t flat = static_cast<std::uint64_t>((t * heads + h) * dim + d);
        in.push_back(to_double(krope::bfloat16(hashed_value(flat))));
        out.push_back(to_double(tail(t - first, h, d)));
      }
    }
  const auto ref = reference_rope(config, spectrum(config), in, rows);
  EXPECT_LE(relative_error(out, ref), 1.5 * error_bound<krope::bfloat16>());
}

/// Both angle sources: table-free angles (evaluated per token) and a table (on Cuda these take
/// the token kernel and the row kernel).
TEST(TEST_CATEGORY, indexing_past_two_to_the_31) {
  if (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Memory>::accessible)
    GTEST_SKIP() << "needs 4.9 GB of device memory; runs on GPU backends";
  const std::int64_t heads = 16, dim = 128, seq = (std::int64_t(1) << 31) / (heads * dim) + 64;
  Big q(Kokkos::view_alloc("q", Kokkos::WithoutInitializing), 1, seq, heads, dim);
  Big k(Kokkos::view_alloc("k", Kokkos::WithoutInitializing), 1, seq, 1, dim);
  ASSERT_GT(q.size(), std::size_t(1) << 31);
  Config config;
  config.head_dim = dim;
  config.theta = 5e5;
  {
    SCOPED_TRACE("table-free angles");
    check_past_two_to_the_31(config, make_frequencies<Memory>(config), q, k);
  }
  {
    SCOPED_TRACE("table");
    check_past_two_to_the_31(config, make_table<Memory, float>(config, seq), q, k);
  }
}

}  // namespace
