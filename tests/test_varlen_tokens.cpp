// Impl::VarlenTokens (packed varlen data: token -> sequence, index, position) against a linear
// search, for sequence counts below, at and far above its short-range scan, with empty
// sequences at the start, in runs in the middle and at the end.

#include <krope/impl/token_positions.hpp>

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using Host = Kokkos::HostSpace;

Kokkos::View<const std::int64_t*, Host> host_view(const std::vector<std::int64_t>& v,
                                                  const char* label) {
  Kokkos::View<std::int64_t*, Host> out(std::string(label), v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out(i) = v[i];
  return out;
}

void expect_every_token(const std::vector<std::int64_t>& lengths, bool with_offsets) {
  std::vector<std::int64_t> cu{0}, offsets;
  for (std::size_t b = 0; b < lengths.size(); ++b) {
    cu.push_back(cu.back() + lengths[b]);
    if (with_offsets) offsets.push_back(1000 + 7 * static_cast<std::int64_t>(b));
  }
  const krope::Impl::VarlenTokens<Host> tokens{host_view(cu, "cu"), host_view(offsets, "o")};
  std::int64_t token = 0;
  for (std::size_t b = 0; b < lengths.size(); ++b)
    for (std::int64_t t = 0; t < lengths[b]; ++t, ++token) {
      const krope::Impl::TokenCoord c = tokens(token);
      ASSERT_EQ(c.batch, static_cast<std::int64_t>(b)) << "token " << token;
      ASSERT_EQ(c.seq, t) << "token " << token;
      ASSERT_EQ(c.position, t + (with_offsets ? offsets[b] : 0)) << "token " << token;
    }
}

TEST(VarlenTokens, MatchesLinearSearchWithEmptySequences) {
  if (!Kokkos::is_initialized()) GTEST_SKIP() << "Kokkos is not initialised in this executable";
  std::mt19937 rng(3);
  for (int sequences : {1, 2, 8, 15, 16, 17, 31, 33, 100, 1000}) {
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<std::int64_t> lengths(sequences);
      std::uniform_int_distribution<int> length(0, 9);
      for (auto& l : lengths) l = length(rng) < 3 ? 0 : length(rng) + 1;  // ~30% empty
      if (trial == 1) lengths.front() = 0;
      if (trial == 2)
        for (int b = sequences / 3; b < sequences / 3 + 20 && b < sequences; ++b) lengths[b] = 0;
      lengths.back() = trial == 3 ? 0 : lengths.back() + 1;
      if (trial == 3) lengths.front() = 5;  // at least one token
      SCOPED_TRACE(testing::Message() << sequences << " sequences, trial " << trial);
      expect_every_token(lengths, trial % 2 == 0);
    }
  }
}

}  // namespace
