// Bad input: every case of the README's "Bad input" list (multi-axis RoPE's too) throws
// std::invalid_argument naming the argument, before anything is written (q and k keep their bits).
// Empty tensors are a no-op.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;
using Tensor = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;
using Ids = Kokkos::View<std::int64_t**, Memory>;
using Offsets = Kokkos::View<std::int64_t*, Memory>;

Config config64() {
  Config c;
  c.head_dim = 64;
  return c;
}

/// Runs `call`, expects std::invalid_argument whose message contains `needle`, and checks that
/// the Views in `watched` kept their values.
void expect_rejected(const std::function<void()>& call, const std::string& needle,
                     const std::vector<Tensor>& watched) {
  std::vector<std::vector<double>> before;
  for (const auto& v : watched) before.push_back(to_doubles(v));
  try {
    call();
    Space().fence();
    ADD_FAILURE() << "no exception; expected one naming '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' does not name '" << needle << "'";
  }
  for (std::size_t i = 0; i < watched.size(); ++i) {
    const auto after = to_doubles(watched[i]);
    for (std::size_t j = 0; j < after.size(); ++j)
      ASSERT_EQ(std::memcmp(&after[j], &before[i][j], sizeof(double)), 0)
          << "view " << i << " changed";
  }
}

/// The same for Views of any type: each keeps its bits.
template <class... Views>
void expect_rejected_keeping(const std::function<void()>& call, const std::string& needle,
                             const Views&... watched) {
  const std::vector<std::vector<double>> before{to_doubles(watched)...};
  try {
    call();
    Space().fence();
    ADD_FAILURE() << "no exception; expected one naming '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' does not name '" << needle << "'";
  }
  const std::vector<std::vector<double>> after{to_doubles(watched)...};
  for (std::size_t i = 0; i < after.size(); ++i)
    ASSERT_EQ(std::memcmp(after[i].data(), before[i].data(), after[i].size() * sizeof(double)), 0)
        << "view " << i << " changed";
}

struct Data {
  Tensor q{"q", 2, 8, 4, 64}, k{"k", 2, 8, 2, 64};
  Data() {
    fill_gaussian(q, 1);
    fill_gaussian(k, 2);
  }
};

TEST(TEST_CATEGORY, bad_config_throws) {
  auto make = [](int head_dim, int rotary_dim) {
    Config c;
    c.head_dim = head_dim;
    c.rotary_dim = rotary_dim;
    return make_table<Memory>(c, 16);
  };
  EXPECT_THROW(make(63, 0), std::invalid_argument);
  EXPECT_THROW(make(0, 0), std::invalid_argument);
  EXPECT_THROW(make(64, 31), std::invalid_argument);
  EXPECT_THROW(make(64, 66), std::invalid_argument);
  for (auto [head_dim, rotary_dim, needle] :
       {std::tuple{63, 0, "head_dim"}, std::tuple{0, 0, "head_dim"},
        std::tuple{64, 31, "rotary_dim"}, std::tuple{64, 66, "rotary_dim"}}) {
    try {
      make(head_dim, rotary_dim);
      ADD_FAILURE() << "no exception for head_dim " << head_dim << ", rotary_dim " << rotary_dim;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    Config c;
    c.head_dim = head_dim;
    c.rotary_dim = rotary_dim;
    EXPECT_THROW(make_frequencies<Memory>(c), std::invalid_argument);
  }
  EXPECT_THROW(make_table<Memory>(config64(), 0), std::invalid_argument);
}

TEST(TEST_CATEGORY, bad_shapes_throw_before_writing) {
  Data d;
  auto table = make_table<Memory>(config64(), 64);
  const std::vector<Tensor> all{d.q, d.k};
  Tensor wrong_dim("q", 2, 8, 4, 32), other_seq("k", 2, 7, 2, 64), other_batch("k", 3, 8, 2, 64);
  fill_gaussian(wrong_dim, 3);
  expect_rejected([&] { krope::apply(Space(), table, wrong_dim, d.k, krope::contiguous{0}); },
                  "head_dim", {wrong_dim, d.k});
  expect_rejected([&] { krope::apply(Space(), table, d.q, other_seq, krope::contiguous{0}); },
                  "batch and seq", all);
  expect_rejected([&] { krope::apply(Space(), table, d.q, other_batch, krope::contiguous{0}); },
                  "batch and seq", all);
  Tensor q_out_bad("q_out", 2, 8, 3, 64), k_out("k_out", 2, 8, 2, 64), q_out("q_out", 2, 8, 4, 64);
  Tensor k_out_bad("k_out", 2, 8, 2, 64 + 2);
  expect_rejected(
      [&] { krope::apply(Space(), table, d.q, d.k, q_out_bad, k_out, krope::contiguous{0}); },
      "q_out", all);
  Tensor k_bad_dim("k_out", 2, 8, 2, 62);
  expect_rejected(
      [&] { krope::apply(Space(), table, d.q, d.k, q_out, k_bad_dim, krope::contiguous{0}); },
      "k_out", all);
}

/// Config::axes that do not describe the rotary pairs: rejected by make_table,
/// make_frequencies and spectrum, naming the field.
TEST(TEST_CATEGORY, bad_axes_throw) {
  struct Bad {
    Axes axes;
    Scaling::Kind kind;
    const char* needle;
  };
  const Bad cases[] = {
      {{{8, 12, 10}, AxisLayout::chunked, AxisSpectrum::shared}, Scaling::Kind::none, "sum to 30"},
      {{{8, -2, 26}, AxisLayout::chunked, AxisSpectrum::shared}, Scaling::Kind::none, "negative"},
      {{{16, 16}, AxisLayout::interleaved, AxisSpectrum::shared}, Scaling::Kind::none, "3 axes"},
      {{{4, 17, 11}, AxisLayout::interleaved, AxisSpectrum::shared},
       Scaling::Kind::none,
       "3 * axes.pairs[1]"},
      {{{4, 4, 4, 4, 16}, AxisLayout::chunked, AxisSpectrum::shared},
       Scaling::Kind::none,
       "at most 4"},
      {{{16, 16}, AxisLayout::chunked, AxisSpectrum::per_axis}, Scaling::Kind::linear, "per_axis"},
  };
  for (const Bad& bad : cases) {
    Config c = config64();
    c.axes = bad.axes;
    c.scaling.kind = bad.kind;
    for (int which = 0; which < 2; ++which) {
      try {
        if (which == 0)
          make_table<Memory>(c, 16);
        else
          make_frequencies<Memory>(c);
        ADD_FAILURE() << "no exception; expected one naming '" << bad.needle << "'";
      } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find(bad.needle), std::string::npos) << e.what();
      }
    }
  }
}

/// Hand-built Tables and Frequencies are checked when built, naming what is wrong: values per
/// position that are not rotary_dim / 2, rotary_dim 0 or past head_dim, cos and sin of two
/// shapes, axes that do not describe the pairs. A valid one builds.
TEST(TEST_CATEGORY, hand_built_angle_sources_throw) {
  using Values = Table<Memory>::values_type;
  const Values cos("cos", 16, 32), sin("sin", 16, 32), short_sin("sin", 8, 32);
  Axes three_axes;
  three_axes.pairs = {8, 12, 12};
  Axes wrong_sum;
  wrong_sum.pairs = {8, 8, 8};
  auto table = [&](int head_dim, int rotary_dim, const Values& s, const Axes& axes) {
    return Table<Memory>(head_dim, rotary_dim, Pairing::half_split, 1.0, cos, s, axes);
  };
  EXPECT_EQ(table(64, 64, sin, three_axes).axes().count(), 3);
  expect_rejected([&] { table(64, 48, sin, {}); }, "32 values per position, rotary_dim 48", {});
  expect_rejected([&] { table(64, 0, sin, {}); }, "rotary_dim must be positive", {});
  expect_rejected([&] { table(48, 64, sin, {}); }, "rotary_dim must be even, >= 0 and <= head_dim",
                  {});
  expect_rejected([&] { table(64, 64, short_sin, {}); }, "cos and sin must have the same shape",
                  {});
  expect_rejected([&] { table(64, 64, sin, wrong_sum); }, "axes.pairs sum to 24", {});

  const Frequencies<Memory>::values_type inv_freq("inv_freq", 32);
  auto frequencies = [&](int rotary_dim, const Axes& axes) {
    return Frequencies<Memory>(64, rotary_dim, Pairing::half_split, 1.0, inv_freq, axes);
  };
  EXPECT_EQ(frequencies(64, three_axes).rotary_dim(), 64);
  expect_rejected([&] { frequencies(32, {}); }, "32 values per position, rotary_dim 32", {});
  expect_rejected([&] { frequencies(64, wrong_sum); }, "axes.pairs sum to 24", {});
}

/// axis_positions of the wrong shape or axis count, or outside the table: rejected before
/// anything is written.
TEST(TEST_CATEGORY, bad_axis_positions_throw_before_writing) {
  Data d;
  Config c = config64();
  c.axes.pairs = {8, 12, 12};
  auto table = make_table<Memory>(c, 64);
  auto frequencies = make_frequencies<Memory>(c);
  const std::vector<Tensor> all{d.q, d.k};
  using AxisIds = Kokkos::View<std::int64_t***, Memory>;
  AxisIds two_axes("ids", 2, 8, 2), short_seq("ids", 2, 7, 3), ids("ids", 2, 8, 3);
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::axis_positions{two_axes}); },
                  "rotary has 3 axes", all);
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::axis_positions{short_seq}); },
                  "axis_positions is [2][7][3]", all);
  Kokkos::deep_copy(ids, 5);
  Kokkos::deep_copy(Kokkos::subview(ids, 1, 6, 2), 64);  // one w position past the table
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::axis_positions{ids}); },
                  "axis_positions gives positions [5, 64]", all);
  Kokkos::deep_copy(Kokkos::subview(ids, 0, 3, 1), -1);
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::axis_positions{ids}); },
                  "axis_positions", all);
  Kokkos::deep_copy(Kokkos::subview(ids, 0, 3, 1), std::int64_t(1) << 24);
  expect_rejected([&] { krope::apply(Space(), frequencies, d.q, d.k, krope::axis_positions{ids}); },
                  "the table-free path", all);
  // A plain table takes one axis: three columns are an error, one column is plain RoPE.
  auto plain = make_table<Memory>(config64(), 64);
  Kokkos::deep_copy(ids, 5);
  expect_rejected([&] { krope::apply(Space(), plain, d.q, d.k, krope::axis_positions{ids}); },
                  "rotary has 1 axis", all);
  // Packed [tokens][heads][dim] data takes [tokens][axes] ids.
  Kokkos::View<float***, Kokkos::LayoutRight, Memory> q3("q3", 16, 4, 64), k3("k3", 16, 2, 64);
  fill_gaussian(q3, 4);
  fill_gaussian(k3, 5);
  Kokkos::View<std::int64_t**, Memory> packed("packed", 15, 3);
  expect_rejected_keeping(
      [&] { krope::apply(Space(), table, q3, k3, krope::axis_positions{packed}); },
      "axis_positions is [15][3], q holds 16 tokens", q3, k3);
}

TEST(TEST_CATEGORY, partial_overlap_throws_exact_alias_allowed) {
  auto table = make_table<Memory>(config64(), 64);
  // One buffer; q_out shifted by one token against q overlaps it partially.
  Tensor buffer("buffer", 1, 9, 4, 64);
  fill_gaussian(buffer, 4);
  using Strided = Kokkos::View<float****, Kokkos::LayoutStride, Memory>;
  Strided q = Kokkos::subview(buffer, Kokkos::ALL, std::make_pair(0, 8), Kokkos::ALL, Kokkos::ALL);
  Strided q_shift =
      Kokkos::subview(buffer, Kokkos::ALL, std::make_pair(1, 9), Kokkos::ALL, Kokkos::ALL);
  Tensor k("k", 1, 8, 4, 64), k_out("k_out", 1, 8, 4, 64);
  fill_gaussian(k, 5);
  expect_rejected([&] { krope::apply(Space(), table, q, k, q_shift, k_out, krope::contiguous{0}); },
                  "partially overlaps", {buffer, k});
  // q_out reading k's memory partially.
  expect_rejected(
      [&] {
        Strided k_view =
            Kokkos::subview(buffer, Kokkos::ALL, std::make_pair(0, 8), Kokkos::ALL, Kokkos::ALL);
        Tensor q_in("q_in", 1, 8, 4, 64);
        krope::apply(Space(), table, q_in, k_view, q_shift, k_out, krope::contiguous{0});
      },
      "partially overlaps", {buffer});
  // Fused qkv: q and k are interleaved head slices of one buffer; exact aliasing in and out is
  // in place and must be accepted (the exact overlap test sees they share no element).
  Tensor qkv("qkv", 2, 8, 4 + 2 * 2, 64);
  fill_gaussian(qkv, 6);
  Strided fq = Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, std::make_pair(0, 4), Kokkos::ALL);
  Strided fk = Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, std::make_pair(4, 6), Kokkos::ALL);
  EXPECT_NO_THROW(krope::apply(Space(), table, fq, fk, fq, fk, krope::contiguous{0}));
  // ... but k_out on q's heads of the same buffer is a real overlap.
  Strided fk_on_q =
      Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, std::make_pair(2, 4), Kokkos::ALL);
  expect_rejected([&] { krope::apply(Space(), table, fq, fk, fq, fk_on_q, krope::contiguous{0}); },
                  "partially overlaps", {qkv});
}

TEST(TEST_CATEGORY, positions_outside_table_throw) {
  Data d;
  auto table = make_table<Memory>(config64(), 64);
  const std::vector<Tensor> all{d.q, d.k};
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::contiguous{57}); },
                  "contiguous offset", all);
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::contiguous{-1}); },
                  "contiguous offset", all);
  EXPECT_NO_THROW(krope::apply(Space(), table, d.q, d.k, krope::contiguous{56}));
  fill_gaussian(d.q, 1);

  Offsets offsets = device_copy<Memory>({0, 57}, "offsets");
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::sequence_offsets{offsets}); },
                  "sequence_offsets", all);
  Offsets negative = device_copy<Memory>({-3, 0}, "offsets");
  expect_rejected(
      [&] { krope::apply(Space(), table, d.q, d.k, krope::sequence_offsets{negative}); },
      "sequence_offsets", all);
  Offsets three = device_copy<Memory>({0, 1, 2}, "offsets");
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::sequence_offsets{three}); },
                  "sequence_offsets has 3 entries", all);

  Ids ids("ids", 2, 8);
  Kokkos::deep_copy(ids, 3);
  Kokkos::deep_copy(Kokkos::subview(ids, 1, 5), 64);  // one id past the table
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::position_ids{ids}); },
                  "position_ids", all);
  Kokkos::deep_copy(Kokkos::subview(ids, 1, 5), -2);
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::position_ids{ids}); },
                  "position_ids", all);
  Ids short_ids("ids", 2, 7);
  expect_rejected([&] { krope::apply(Space(), table, d.q, d.k, krope::position_ids{short_ids}); },
                  "position_ids is [2][7]", all);
  // The documented opt-out skips the device check (valid ids here).
  Kokkos::deep_copy(ids, 63);
  EXPECT_NO_THROW(krope::apply(Space(), table, d.q, d.k, krope::position_ids{ids, false}));
}

/// Offsets and ids at the int64 edges, and just past `limit` (the first position `rotary` does
/// not serve), in every position mode. A check written as offset + length > limit wraps for an
/// offset near INT64_MAX, passes, and the kernel reads far outside the table.
template <class Rotary>
void int64_edges_rejected(const Rotary& rotary, std::int64_t limit) {
  using Packed = Kokkos::View<float***, Kokkos::LayoutRight, Memory>;
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const int d = rotary.head_dim();
  Tensor q("q", 2, 2, 1, d), k("k", 2, 2, 1, d);  // 2 sequences of 2 tokens
  fill_gaussian(q, 11);
  fill_gaussian(k, 12);
  // Each bad offset puts the last token of a 2-token sequence outside [0, limit).
  const std::vector<std::int64_t> bad_offsets{max - 1, max, min, min + 1, -1, limit - 1};
  for (std::int64_t bad : bad_offsets) {
    SCOPED_TRACE(testing::Message() << "offset " << bad);
    expect_rejected_keeping([&] { krope::apply(Space(), rotary, q, k, krope::contiguous{bad}); },
                            "contiguous offset", q, k);
    for (auto offsets : {std::vector<std::int64_t>{0, bad}, std::vector<std::int64_t>{bad, 0}}) {
      Offsets device = device_copy<Memory>(offsets, "offsets");
      expect_rejected_keeping(
          [&] { krope::apply(Space(), rotary, q, k, krope::sequence_offsets{device}); },
          "sequence_offsets", q, k);
    }
  }
  for (std::int64_t bad : std::vector<std::int64_t>{max, min, limit, -1}) {
    SCOPED_TRACE(testing::Message() << "id " << bad);
    Ids ids("ids", 2, 2);
    Kokkos::deep_copy(Kokkos::subview(ids, 1, 0), bad);
    expect_rejected_keeping([&] { krope::apply(Space(), rotary, q, k, krope::position_ids{ids}); },
                            "position_ids", q, k);
  }
  // The last valid positions are accepted.
  EXPECT_NO_THROW(krope::apply(Space(), rotary, q, k, krope::contiguous{limit - 2}));
  Offsets last = device_copy<Memory>({limit - 2, 0}, "offsets");
  EXPECT_NO_THROW(krope::apply(Space(), rotary, q, k, krope::sequence_offsets{last}));
  Ids last_ids("ids", 2, 2);
  Kokkos::deep_copy(last_ids, limit - 1);
  EXPECT_NO_THROW(krope::apply(Space(), rotary, q, k, krope::position_ids{last_ids}));

  Packed pq("q", 4, 1, d), pk("k", 4, 1, d);  // packed: sequences of 2 and 2 tokens
  fill_gaussian(pq, 13);
  fill_gaussian(pk, 14);
  Offsets cu = device_copy<Memory>({0, 2, 4}, "cu_seqlens");
  for (std::int64_t bad : bad_offsets) {
    SCOPED_TRACE(testing::Message() << "varlen offset " << bad);
    Offsets offsets = device_copy<Memory>({0, bad}, "offsets");
    expect_rejected_keeping(
        [&] {
          krope::apply(Space(), rotary, pq, pk, krope::varlen{cu, offsets});
        },
        "varlen sequence 1", pq, pk);
  }
  // A sequence as long as int64 allows (cu_seqlens wrong too: the positions are checked first).
  Offsets cu_huge = device_copy<Memory>({0, max}, "cu_seqlens");
  Offsets one = device_copy<Memory>({1}, "offsets");
  expect_rejected_keeping(
      [&] {
        krope::apply(Space(), rotary, pq, pk, krope::varlen{cu_huge, one});
      },
      "varlen sequence 0", pq, pk);
  Offsets last_varlen = device_copy<Memory>({0, limit - 2}, "offsets");
  EXPECT_NO_THROW(krope::apply(Space(), rotary, pq, pk, krope::varlen{cu, last_varlen}));
  Space().fence();
}

TEST(TEST_CATEGORY, positions_at_int64_edges_throw) {
  Config c;
  c.head_dim = 8;
  int64_edges_rejected(make_table<Memory>(c, 16), 16);
  // Table-free: positions below 2^24, where the fp64 angles keep their accuracy contract.
  int64_edges_rejected(make_frequencies<Memory>(c), std::int64_t(1) << 24);
}

/// q-side operands (q, q_out) and k-side operands (k, k_out) must not share an element, exactly
/// aliased or partially: the kernel would rotate shared elements twice or overwrite one result
/// with the other. Only q_out == q and k_out == k (in place) may alias.
TEST(TEST_CATEGORY, q_side_and_k_side_must_not_share_memory) {
  using Strided = Kokkos::View<float****, Kokkos::LayoutStride, Memory>;
  auto table = make_table<Memory>(config64(), 64);
  Tensor x("x", 1, 8, 2, 64), y("y", 1, 8, 2, 64), z("z", 1, 8, 2, 64), w("w", 1, 8, 2, 64);
  fill_gaussian(x, 21);
  fill_gaussian(y, 22);
  fill_gaussian(z, 23);
  fill_gaussian(w, 24);
  const auto out_of_place = [&](auto q, auto k, auto q_out, auto k_out) {
    return [=] { krope::apply(Space(), table, q, k, q_out, k_out, krope::contiguous{0}); };
  };
  // Exact aliasing.
  expect_rejected_keeping([&] { krope::apply(Space(), table, x, x, krope::contiguous{0}); },
                          "q and k are the same memory", x);
  expect_rejected_keeping(out_of_place(x, x, y, z), "q and k are the same memory", x, y, z);
  expect_rejected_keeping(out_of_place(x, y, z, z), "q_out and k_out are the same memory", x, y, z);
  expect_rejected_keeping(out_of_place(x, y, y, z), "q_out and k are the same memory", x, y, z);
  expect_rejected_keeping(out_of_place(x, y, z, x), "k_out and q are the same memory", x, y, z);
  // ... also through Views of another type on the same memory.
  const Strided x_strided = x;
  expect_rejected_keeping(out_of_place(x, x_strided, y, z), "q and k are the same memory", x, y, z);

  // Partial overlap: heads [0, 2) and [1, 3) of one buffer share head 1.
  Tensor buffer("buffer", 1, 8, 4, 64);
  fill_gaussian(buffer, 25);
  const auto heads = [&](int first) {
    return Strided(Kokkos::subview(buffer, Kokkos::ALL, Kokkos::ALL,
                                   std::make_pair(first, first + 2), Kokkos::ALL));
  };
  const Strided a = heads(0), b = heads(1), c = heads(2);
  expect_rejected_keeping([&] { krope::apply(Space(), table, a, b, krope::contiguous{0}); },
                          "q partially overlaps k", buffer);
  expect_rejected_keeping(out_of_place(a, b, z, w), "q partially overlaps k", buffer, z, w);
  expect_rejected_keeping(out_of_place(x, y, a, b), "q_out partially overlaps k_out", x, y, buffer);
  expect_rejected_keeping(out_of_place(x, b, a, z), "q_out partially overlaps k (", x, buffer, z);
  expect_rejected_keeping(out_of_place(a, y, z, b), "k_out partially overlaps q", buffer, y, z);

  // Allowed: disjoint slices of one buffer in place, and q in place with k out of place.
  EXPECT_NO_THROW(krope::apply(Space(), table, a, c, krope::contiguous{0}));
  EXPECT_NO_THROW(krope::apply(Space(), table, x, y, x, z, krope::contiguous{0}));
  Space().fence();
}

TEST(TEST_CATEGORY, malformed_varlen_throws) {
  using Packed = Kokkos::View<float***, Kokkos::LayoutRight, Memory>;
  auto table = make_table<Memory>(config64(), 64);
  Packed q("q", 10, 4, 64), k("k", 10, 2, 64);
  fill_gaussian(q, 7);
  fill_gaussian(k, 8);
  const auto q0 = to_doubles(q), k0 = to_doubles(k);
  auto rejected = [&](std::vector<std::int64_t> cu, std::vector<std::int64_t> offsets,
                      const std::string& needle) {
    try {
      krope::apply(Space(), table, q, k,
                   krope::varlen{device_copy<Memory>(cu, "cu"), device_copy<Memory>(offsets, "o")});
      ADD_FAILURE() << "no exception for " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(to_doubles(q), q0);
    EXPECT_EQ(to_doubles(k), k0);
  };
  rejected({0, 6, 4, 10}, {}, "non-decreasing");
  rejected({1, 6, 10}, {}, "start at 0");
  rejected({0, 6, 9}, {}, "ends at 9");
  rejected({0, 6, 10}, {0, 61}, "varlen sequence 1");  // positions 61..64, table ends at 63
  rejected({0, 6, 10}, {0}, "varlen offsets has 1 entries");
  rejected({}, {}, "cu_seqlens");
}

// (A table of the wrong precision for the data is a compile-time error: apply.hpp's
// static_assert on table_real_t.)
TEST(TEST_CATEGORY, empty_tensors_and_empty_table) {
  auto table = make_table<Memory>(config64(), 64);
  Tensor empty_batch("q", 0, 8, 4, 64), empty_k("k", 0, 8, 2, 64);
  EXPECT_NO_THROW(krope::apply(Space(), table, empty_batch, empty_k, krope::contiguous{0}));
  Tensor empty_seq("q", 2, 0, 4, 64), empty_seq_k("k", 2, 0, 2, 64);
  EXPECT_NO_THROW(krope::apply(Space(), table, empty_seq, empty_seq_k, krope::contiguous{1000}));
  Tensor no_heads("q", 2, 8, 0, 64), k("k", 2, 8, 2, 64);
  fill_gaussian(k, 9);
  EXPECT_NO_THROW(krope::apply(Space(), table, no_heads, k, krope::contiguous{0}));
  Table<Memory> default_table;
  Tensor q("q", 1, 1, 1, 64);
  expect_rejected([&] { krope::apply(Space(), default_table, q, q, krope::contiguous{0}); },
                  "table is empty", {q});
}

}  // namespace
