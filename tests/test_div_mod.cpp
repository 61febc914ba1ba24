// Impl::DivMod (the CUDA kernels' n -> (n / d, n % d) by a multiply-high) agrees with 64-bit
// division for every divisor that matters and numerators up to 2^31: small and power-of-two
// divisors exhaustively, random ones on random and extreme numerators, and the wide fallback
// past 2^31.

#include <krope/impl/div_mod.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using krope::Impl::DivMod;

void expect_split(const DivMod& split, std::int64_t token) {
  std::int64_t b = -1, t = -1;
  split(token, b, t);
  ASSERT_EQ(b, token / split.divisor) << "token " << token << " divisor " << split.divisor;
  ASSERT_EQ(t, token % split.divisor) << "token " << token << " divisor " << split.divisor;
}

std::vector<std::int64_t> tokens_for(std::int64_t seq, std::mt19937_64& rng) {
  const std::int64_t top = (std::int64_t(1) << 31) - 1;
  std::vector<std::int64_t> tokens{0, 1, seq - 1, seq, seq + 1, top, top - 1, top - seq};
  for (std::int64_t m : {std::int64_t(2), std::int64_t(3), top / seq})
    for (std::int64_t d : {-1, 0, 1}) tokens.push_back(m * seq + d);
  std::uniform_int_distribution<std::int64_t> any(0, top);
  for (int i = 0; i < 200; ++i) tokens.push_back(any(rng));
  std::vector<std::int64_t> valid;
  for (std::int64_t x : tokens)
    if (x >= 0 && x <= top) valid.push_back(x);
  return valid;
}

TEST(DivMod, MatchesDivisionForSmallAndPowerOfTwoLengths) {
  std::mt19937_64 rng(5);
  std::vector<std::int64_t> lengths;
  for (std::int64_t s = 1; s <= 5000; ++s) lengths.push_back(s);
  for (int k = 13; k < 31; ++k)
    for (std::int64_t d : {-1, 0, 1}) lengths.push_back((std::int64_t(1) << k) + d);
  for (std::int64_t seq : lengths) {
    const DivMod split(seq, (std::int64_t(1) << 31) - 1);
    ASSERT_FALSE(split.wide);
    for (std::int64_t token : tokens_for(seq, rng)) expect_split(split, token);
  }
}

TEST(DivMod, MatchesDivisionForRandomLengths) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::int64_t> length(1, (std::int64_t(1) << 31) - 1);
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t seq = length(rng);
    const DivMod split(seq, 1000);
    for (std::int64_t token : tokens_for(seq, rng)) expect_split(split, token);
  }
}

TEST(DivMod, ExhaustiveTokensForOneLength) {
  const DivMod split(4095, std::int64_t(1) << 24);
  for (std::int64_t token = 0; token < (std::int64_t(1) << 24); ++token) {
    std::int64_t b, t;
    split(token, b, t);
    if (b != token / 4095 || t != token % 4095) {
      expect_split(split, token);  // reports the first mismatch
      return;
    }
  }
}

TEST(DivMod, LargeCountsTakeTheWideDivision) {
  const std::int64_t past = std::int64_t(1) << 31;
  const DivMod by_count(4096, past), by_length(past + 7, 10);
  EXPECT_TRUE(by_count.wide);
  EXPECT_TRUE(by_length.wide);
  for (std::int64_t token : {past, past + 4095, 3 * past + 12345, std::int64_t(1) << 40})
    expect_split(by_count, token);
  expect_split(by_length, past + 8);
  expect_split(by_length, 5 * (past + 7) + 3);
}

}  // namespace
