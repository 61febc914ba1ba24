// Context-parallel shards (krope/context_parallel.hpp): global positions of the contiguous and
// zigzag layouts, coverage of the whole sequence, causal load balance, and bad input. Host only.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <krope/context_parallel.hpp>

namespace {

using krope::ShardLayout;
using ::testing::HasSubstr;
using Positions = std::vector<std::int64_t>;

Positions iota(std::int64_t begin, std::int64_t end) {
  Positions p(static_cast<std::size_t>(end - begin));
  std::iota(p.begin(), p.end(), begin);
  return p;
}

Positions concat(Positions a, const Positions& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Checks that position(t), the pieces and positions() describe the same shard.
void expect_consistent(const krope::Shard& s) {
  const Positions all = s.positions();
  ASSERT_EQ(static_cast<std::int64_t>(all.size()), s.local_len());
  std::int64_t local = 0;
  for (int i = 0; i < s.piece_count(); ++i) {
    const krope::ShardPiece& p = s.piece(i);
    EXPECT_EQ(p.local_begin, local);
    EXPECT_EQ(p.positions().offset, p.global_begin);
    for (std::int64_t t = 0; t < p.length; ++t) EXPECT_EQ(all[local + t], p.global_begin + t);
    local += p.length;
  }
  EXPECT_EQ(local, s.local_len());
  for (std::int64_t t = 0; t < s.local_len(); ++t) EXPECT_EQ(s.position(t), all[t]);
}

TEST(ContextParallel, ContiguousEvenSplit) {
  for (int r = 0; r < 4; ++r) {
    const krope::Shard s = krope::contiguous_shard(16, r, 4);
    EXPECT_EQ(s.layout(), ShardLayout::contiguous);
    EXPECT_EQ(s.rank(), r);
    EXPECT_EQ(s.ranks(), 4);
    EXPECT_EQ(s.seq_len(), 16);
    EXPECT_EQ(s.piece_count(), 1);
    EXPECT_EQ(s.contiguous().offset, 4 * r);
    EXPECT_EQ(s.positions(), iota(4 * r, 4 * r + 4));
    expect_consistent(s);
  }
}

TEST(ContextParallel, ContiguousUnevenSplitGivesFirstRanksTheExtraToken) {
  // L = 10, P = 3: sizes 4, 3, 3 (numpy.array_split).
  EXPECT_EQ(krope::contiguous_shard(10, 0, 3).positions(), iota(0, 4));
  EXPECT_EQ(krope::contiguous_shard(10, 1, 3).positions(), iota(4, 7));
  EXPECT_EQ(krope::contiguous_shard(10, 2, 3).positions(), iota(7, 10));
  // L = 11, P = 4: sizes 3, 3, 3, 2.
  EXPECT_EQ(krope::contiguous_shard(11, 2, 4).positions(), iota(6, 9));
  EXPECT_EQ(krope::contiguous_shard(11, 3, 4).positions(), iota(9, 11));
  // Fewer tokens than ranks: the last ranks hold nothing.
  EXPECT_EQ(krope::contiguous_shard(2, 1, 4).positions(), iota(1, 2));
  const krope::Shard empty = krope::contiguous_shard(2, 3, 4);
  EXPECT_EQ(empty.local_len(), 0);
  EXPECT_EQ(empty.contiguous().offset, 2);
  expect_consistent(empty);
}

TEST(ContextParallel, ZigzagHoldsChunkRAndItsMirror) {
  // L = 12, P = 3: chunks of 2; rank r holds chunks r and 5 - r.
  EXPECT_EQ(krope::zigzag_shard(12, 0, 3).positions(), concat(iota(0, 2), iota(10, 12)));
  EXPECT_EQ(krope::zigzag_shard(12, 1, 3).positions(), concat(iota(2, 4), iota(8, 10)));
  EXPECT_EQ(krope::zigzag_shard(12, 2, 3).positions(), concat(iota(4, 6), iota(6, 8)));
  const krope::Shard s = krope::zigzag_shard(16, 1, 2);  // chunks of 4: chunks 1 and 2
  EXPECT_EQ(s.layout(), ShardLayout::zigzag);
  ASSERT_EQ(s.piece_count(), 2);
  EXPECT_EQ(s.piece(0).local_begin, 0);
  EXPECT_EQ(s.piece(0).global_begin, 4);
  EXPECT_EQ(s.piece(0).length, 4);
  EXPECT_EQ(s.piece(1).local_begin, 4);
  EXPECT_EQ(s.piece(1).global_begin, 8);
  EXPECT_EQ(s.piece(1).length, 4);
  EXPECT_EQ(s.piece(1).positions().offset, 8);
  // One rank: both chunks, the whole sequence in order.
  EXPECT_EQ(krope::zigzag_shard(6, 0, 1).positions(), iota(0, 6));
}

TEST(ContextParallel, OffsetShiftsEveryPosition) {
  EXPECT_EQ(krope::contiguous_shard(10, 1, 3, 100).positions(), iota(104, 107));
  EXPECT_EQ(krope::zigzag_shard(12, 1, 3, 100).positions(), concat(iota(102, 104), iota(108, 110)));
  EXPECT_EQ(krope::make_shard(ShardLayout::zigzag, 12, 1, 3, 100).offset(), 100);
}

TEST(ContextParallel, UnionOverRanksIsAPermutationOfTheSequence) {
  for (ShardLayout layout : {ShardLayout::contiguous, ShardLayout::zigzag}) {
    for (int ranks = 1; ranks <= 8; ++ranks) {
      for (std::int64_t seq_len = 0; seq_len <= 70; ++seq_len) {
        if (layout == ShardLayout::zigzag && seq_len % (2 * ranks) != 0) continue;
        SCOPED_TRACE("layout " + std::to_string(static_cast<int>(layout)) +
                     ", L = " + std::to_string(seq_len) + ", P = " + std::to_string(ranks));
        Positions all;
        std::int64_t smallest = seq_len, largest = 0;
        for (int r = 0; r < ranks; ++r) {
          const krope::Shard s = krope::make_shard(layout, seq_len, r, ranks);
          expect_consistent(s);
          smallest = std::min(smallest, s.local_len());
          largest = std::max(largest, s.local_len());
          const Positions p = s.positions();
          all.insert(all.end(), p.begin(), p.end());
        }
        EXPECT_LE(largest - smallest, 1) << "shard sizes differ by more than one token";
        std::sort(all.begin(), all.end());
        EXPECT_EQ(all, iota(0, seq_len));
      }
    }
  }
}

// Causal attention work of a shard: the token at position g attends to g + 1 keys.
std::int64_t causal_work(const krope::Shard& s) {
  std::int64_t work = 0;
  for (std::int64_t g : s.positions()) work += g + 1;
  return work;
}

TEST(ContextParallel, ZigzagBalancesCausalWork) {
  for (int ranks = 1; ranks <= 8; ++ranks) {
    for (std::int64_t chunk : {1, 2, 3, 16}) {
      const std::int64_t seq_len = 2 * ranks * chunk;
      std::vector<std::int64_t> zigzag, contiguous;
      for (int r = 0; r < ranks; ++r) {
        zigzag.push_back(causal_work(krope::zigzag_shard(seq_len, r, ranks)));
        contiguous.push_back(causal_work(krope::contiguous_shard(seq_len, r, ranks)));
      }
      const auto [zmin, zmax] = std::minmax_element(zigzag.begin(), zigzag.end());
      // Within one chunk's work (chunk * chunk key-token pairs); in fact exactly equal.
      EXPECT_LE(*zmax - *zmin, chunk * chunk) << "L = " << seq_len << ", P = " << ranks;
      EXPECT_EQ(*zmax, *zmin) << "L = " << seq_len << ", P = " << ranks;
      EXPECT_EQ(std::accumulate(zigzag.begin(), zigzag.end(), std::int64_t{0}),
                seq_len * (seq_len + 1) / 2);
      // The contiguous layout is not balanced: the last rank does the most work.
      if (ranks > 1) {
        EXPECT_GT(contiguous.back(), contiguous.front());
      }
    }
  }
}

TEST(ContextParallel, FillPositionIdsWritesEveryRow) {
  const krope::Shard s = krope::zigzag_shard(12, 1, 3);
  std::vector<std::int64_t> storage(3 * 4, -1);
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Kokkos::HostSpace,
               Kokkos::MemoryTraits<Kokkos::Unmanaged>>
      ids(storage.data(), 3, 4);
  krope::fill_position_ids(s, ids);
  const Positions row = s.positions();
  for (int b = 0; b < 3; ++b)
    for (int t = 0; t < 4; ++t) EXPECT_EQ(ids(b, t), row[t]) << "b = " << b << ", t = " << t;
}

TEST(ContextParallel, MakePositionIdsOnHost) {
  if (!Kokkos::is_initialized()) GTEST_SKIP() << "Kokkos is not initialised in this executable";
  const krope::Shard s = krope::zigzag_shard(16, 0, 2);
  const auto ids = krope::make_position_ids<Kokkos::HostSpace>(s, 2);
  ASSERT_EQ(ids.extent(0), 2u);
  ASSERT_EQ(ids.extent(1), 8u);
  const Positions expected = concat(iota(0, 4), iota(12, 16));
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 8; ++t) EXPECT_EQ(ids(b, t), expected[t]);
}

void expect_invalid(const std::function<void()>& call, const std::string& names) {
  try {
    call();
    ADD_FAILURE() << "expected std::invalid_argument naming " << names;
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr(names));
  }
}

TEST(ContextParallel, InvalidArgumentsThrowNamingTheArgument) {
  expect_invalid([] { krope::contiguous_shard(8, 0, 0); }, "ranks");
  expect_invalid([] { krope::zigzag_shard(8, 0, -2); }, "ranks");
  expect_invalid([] { krope::contiguous_shard(8, -1, 2); }, "rank -1");
  expect_invalid([] { krope::contiguous_shard(8, 2, 2); }, "rank 2");
  expect_invalid([] { krope::contiguous_shard(-1, 0, 2); }, "seq_len");
  expect_invalid([] { krope::zigzag_shard(-4, 0, 2); }, "seq_len");
  expect_invalid([] { krope::contiguous_shard(8, 0, 2, -1); }, "offset");
  expect_invalid([] { krope::zigzag_shard(10, 0, 2); }, "seq_len (10)");
  expect_invalid([] { krope::zigzag_shard(6, 0, 2); }, "multiple of 2 * ranks (4)");
  expect_invalid([] { krope::make_shard(static_cast<ShardLayout>(7), 8, 0, 2); }, "layout");
  const krope::Shard z = krope::zigzag_shard(8, 0, 2);
  expect_invalid([&] { z.contiguous(); }, "zigzag");
  expect_invalid([&] { z.piece(2); }, "i = 2");
  expect_invalid([&] { z.position(4); }, "t = 4");
  expect_invalid([&] { z.position(-1); }, "t = -1");
  expect_invalid([&] { krope::contiguous_shard(8, 0, 2).piece(1); }, "i = 1");
  expect_invalid([&] { krope::make_position_ids<Kokkos::HostSpace>(z, -1); }, "batch");
  std::vector<std::int64_t> storage(2 * 3);
  Kokkos::View<std::int64_t**, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> wrong(
      storage.data(), 2, 3);
  expect_invalid([&] { krope::fill_position_ids(z, wrong); }, "ids");
}

}  // namespace
