// The `apply` cases of tests/data/rope_vectors.json: inputs and outputs of flash-attention's
// apply_rotary (fp32 math, fp32 cos/sin tables rounded from fp64 angles), an independent public
// implementation. krope must reproduce every output within 2 fp32 ulp.

#include "support/apply_case.hpp"
#include "support/json_data.hpp"
#include "support/pair_ulps.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;

/// Applies one case with q = x and k = x (its own copy), and compares both outputs with y.
template <class View, class Positions>
void run_entry(const Json& entry, const Config& config, const View& q, const View& k,
               const Positions& positions, const Table<Memory>& table) {
  const auto x = as_doubles(entry.at("x")), y = as_doubles(entry.at("y"));
  load_into(q, x);
  load_into(k, x);
  const Direction direction =
      entry.at("conjugate").get<bool>() ? Direction::backward : Direction::forward;
  krope::apply(Space(), table, q, k, positions, direction);
  Space().fence();
  const double q_ulps = max_pair_ulps(to_doubles(q), y, x, config);
  const double k_ulps = max_pair_ulps(to_doubles(k), y, x, config);
  std::printf("[krope] flash-attention vector %-28s max distance %.2f fp32 ulp of the pair norm\n",
              entry.at("name").get<std::string>().c_str(), std::max(q_ulps, k_ulps));
  EXPECT_LE(q_ulps, 2.0) << entry.at("name").get<std::string>();
  EXPECT_LE(k_ulps, 2.0) << entry.at("name").get<std::string>();
}

TEST(TEST_CATEGORY, flash_attention_reference_vectors) {
  const Json data = load_json(std::string(KROPE_TEST_DATA_DIR) + "/rope_vectors.json");
  const Json& cases = data.at("apply");
  ASSERT_TRUE(cases.is_array());
  ASSERT_GE(cases.size(), 7u);
  for (const Json& entry : cases) {
    const auto shape = as_int64s(entry.at("shape"));
    Config config;
    config.head_dim = static_cast<int>(shape.back());
    config.rotary_dim = static_cast<int>(as_int64(entry.at("rotary_dim")));
    config.theta = as_double(entry.at("theta"));
    config.pairing =
        entry.at("interleaved").get<bool>() ? Pairing::interleaved : Pairing::half_split;
    const Table<Memory> table = make_table<Memory>(config, 2048);
    if (!entry.at("cu_seqlens").is_null()) {
      Kokkos::View<float***, Kokkos::LayoutRight, Memory> q("q", shape[0], shape[1], shape[2]),
          k("k", shape[0], shape[1], shape[2]);
      run_entry(entry, config, q, k,
                krope::varlen{device_copy<Memory>(as_int64s(entry.at("cu_seqlens")), "cu")}, table);
    } else {
      Kokkos::View<float****, Kokkos::LayoutRight, Memory> q("q", shape[0], shape[1], shape[2],
                                                             shape[3]),
          k("k", shape[0], shape[1], shape[2], shape[3]);
      if (!entry.at("seqlen_offsets").is_null())
        run_entry(entry, config, q, k,
                  krope::sequence_offsets{
                      device_copy<Memory>(as_int64s(entry.at("seqlen_offsets")), "offsets")},
                  table);
      else
        run_entry(entry, config, q, k, krope::contiguous{0}, table);
    }
  }
}

}  // namespace
