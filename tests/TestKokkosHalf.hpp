// Kokkos 4's 16-bit types (builds where they are 16-bit storage: a GPU backend): Views of
// Kokkos::Experimental::half_t / bhalf_t go through krope::apply with the numerics of
// krope::float16 / bfloat16. Same seeded inputs in both types, outputs poisoned with different
// NaNs before the run: every element of the Kokkos-typed result must carry the krope-typed
// result's bits (so an element left unwritten shows as well as a different rounding).

#include <krope/krope.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

namespace {

using Space = TEST_EXECSPACE;
using Memory = typename Space::memory_space;

template <class T>
std::uint16_t bits_of(const T& value) {
  static_assert(sizeof(T) == 2, "16-bit storage");
  std::uint16_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}
template <class T>
T from_bits(std::uint16_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof bits);
  return value;
}

/// [batch][seq][heads][dim] Views of Kokkos type K and krope type S holding the same random
/// values (rounded to S), and output Views of each filled with the NaN `poison_k` / `poison_s`.
template <class K, class S>
struct Operands {
  using KView = Kokkos::View<K****, Memory>;
  using SView = Kokkos::View<S****, Memory>;
  KView k_in, k_out;
  SView s_in, s_out;
  Operands(int batch, int seq, int heads, int dim, unsigned seed, std::uint16_t poison_k,
           std::uint16_t poison_s)
      : k_in("k_in", batch, seq, heads, dim),
        k_out("k_out", batch, seq, heads, dim),
        s_in("s_in", batch, seq, heads, dim),
        s_out("s_out", batch, seq, heads, dim) {
    auto hk = Kokkos::create_mirror_view(k_in);
    auto hs = Kokkos::create_mirror_view(s_in);
    auto hk_out = Kokkos::create_mirror_view(k_out);
    auto hs_out = Kokkos::create_mirror_view(s_out);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-4.0f, 4.0f);
    for (std::size_t i = 0; i < hs.size(); ++i) {
      const S s(value(rng));
      hs.data()[i] = s;
      hk.data()[i] = from_bits<K>(bits_of(s));
      hk_out.data()[i] = from_bits<K>(poison_k);
      hs_out.data()[i] = from_bits<S>(poison_s);
    }
    Kokkos::deep_copy(k_in, hk);
    Kokkos::deep_copy(s_in, hs);
    Kokkos::deep_copy(k_out, hk_out);
    Kokkos::deep_copy(s_out, hs_out);
  }
};

/// Elements of `a` (Kokkos type) whose bits differ from `b` (krope type).
template <class A, class B>
std::int64_t differing_bits(const A& a, const B& b) {
  auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a);
  auto hb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b);
  std::int64_t differing = 0;
  for (std::size_t i = 0; i < ha.size(); ++i)
    differing += bits_of(ha.data()[i]) != bits_of(hb.data()[i]);
  return differing;
}

template <class K, class S>
void expect_same_bits_as_krope_type(krope::Pairing pairing, int rotary_dim) {
  krope::Config config;
  config.head_dim = 128;
  config.rotary_dim = rotary_dim;
  config.pairing = pairing;
  const auto table = krope::make_table<Memory>(config, 4096);
  const int batch = 2, seq = 37, q_heads = 4, k_heads = 2, dim = config.head_dim;
  Operands<K, S> q(batch, seq, q_heads, dim, 11, 0x7e01, 0x7e02);
  Operands<K, S> k(batch, seq, k_heads, dim, 12, 0x7e03, 0x7e04);
  const krope::sequence_offsets offsets{[&] {
    Kokkos::View<std::int64_t*, Memory> o("offsets", batch);
    Kokkos::deep_copy(o, 1000);
    return o;
  }()};
  Space space;
  // Out of place (every output element written) and in place, in both types.
  krope::apply(space, table, q.k_in, k.k_in, q.k_out, k.k_out, offsets);
  krope::apply(space, table, q.s_in, k.s_in, q.s_out, k.s_out, offsets);
  krope::apply(space, table, q.k_in, k.k_in, offsets, krope::Direction::backward);
  krope::apply(space, table, q.s_in, k.s_in, offsets, krope::Direction::backward);
  space.fence();
  EXPECT_EQ(differing_bits(q.k_out, q.s_out), 0);
  EXPECT_EQ(differing_bits(k.k_out, k.s_out), 0);
  EXPECT_EQ(differing_bits(q.k_in, q.s_in), 0);
  EXPECT_EQ(differing_bits(k.k_in, k.s_in), 0);
  // The rotation did something: the in-place results differ from the out-of-place ones.
  EXPECT_GT(differing_bits(q.k_in, q.s_out), 0);
}

/// Floats (all 2^32 bit patterns) that device code rounds to other bits than the formula does.
template <class S>
std::int64_t device_rounding_differences() {
  std::int64_t differing = 0;
  Kokkos::parallel_reduce(
      "krope::test::rounding",
      Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(0, std::int64_t(1) << 32),
      KOKKOS_LAMBDA(std::int64_t i, std::int64_t & sum) {
        const float f = krope::Impl::bit_cast<float>(static_cast<std::uint32_t>(i));
        sum += S::round_from_float(f) != S::formula_round_from_float(f);
      },
      differing);
  return differing;
}

/// Halves (all 2^16) that device code widens to another float than the formula does (any NaN
/// for a NaN: its payload is not kept through arithmetic, and rounding re-encodes it).
std::int64_t device_widening_differences() {
  std::int64_t differing = 0;
  Kokkos::parallel_reduce(
      "krope::test::widening", Kokkos::RangePolicy<Space>(0, 1 << 16),
      KOKKOS_LAMBDA(int i, std::int64_t& sum) {
        const auto h = static_cast<std::uint16_t>(i);
        const float a = krope::float16::to_float(h), b = krope::float16::formula_to_float(h);
        const bool both_nan = a != a && b != b;
        sum += !both_nan &&
               krope::Impl::bit_cast<std::uint32_t>(a) != krope::Impl::bit_cast<std::uint32_t>(b);
      },
      differing);
  return differing;
}

// GPU code converts through the hardware (Kokkos' half_t / bhalf_t), host code by the formulas:
// every bit pattern must give the same result, or the backends would differ.
TEST(TEST_CATEGORY, device_conversions_give_the_formulas_bits) {
  if (!std::is_same<typename Space::memory_space, Kokkos::HostSpace>::value) {
    EXPECT_EQ(device_rounding_differences<krope::float16>(), 0);
    EXPECT_EQ(device_rounding_differences<krope::bfloat16>(), 0);
    EXPECT_EQ(device_widening_differences(), 0);
  } else {
    GTEST_SKIP() << "host code converts by the formulas themselves";
  }
}

TEST(TEST_CATEGORY, kokkos_half_t_rotates_as_krope_float16) {
  using K = Kokkos::Experimental::half_t;
  expect_same_bits_as_krope_type<K, krope::float16>(krope::Pairing::half_split, 0);
  expect_same_bits_as_krope_type<K, krope::float16>(krope::Pairing::interleaved, 40);
}

TEST(TEST_CATEGORY, kokkos_bhalf_t_rotates_as_krope_bfloat16) {
  using K = Kokkos::Experimental::bhalf_t;
  expect_same_bits_as_krope_type<K, krope::bfloat16>(krope::Pairing::half_split, 0);
  expect_same_bits_as_krope_type<K, krope::bfloat16>(krope::Pairing::interleaved, 40);
}

}  // namespace
