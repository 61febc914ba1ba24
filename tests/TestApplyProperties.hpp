// Properties that hold for any correct RoPE, checked on random data: rotations preserve norms;
// dot(q_m, k_n) depends only on m - n; backward inverts forward; backward is the adjoint of
// forward; out of place writes exactly what in place writes.

#include "support/apply_case.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;
template <class T>
using Tensor = Kokkos::View<T****, Kokkos::LayoutRight, Memory>;

Config test_config(Pairing pairing, int rotary_dim = 0) {
  Config c;
  c.head_dim = 64;
  c.rotary_dim = rotary_dim;
  c.pairing = pairing;
  return c;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

template <class T>
void norms_preserved(Pairing pairing) {
  CaseSpec spec;
  spec.config = test_config(pairing, 48);
  spec.seed = 31;
  const CaseResult r = run_case<Space, T>(spec);
  const int d = spec.config.head_dim;
  for (std::size_t row = 0; row < r.q_in.size() / d; ++row) {
    std::vector<double> in(r.q_in.begin() + row * d, r.q_in.begin() + (row + 1) * d);
    std::vector<double> out(r.q_out.begin() + row * d, r.q_out.begin() + (row + 1) * d);
    const double n_in = std::sqrt(dot(in, in)), n_out = std::sqrt(dot(out, out));
    ASSERT_NEAR(n_out, n_in, (std::is_same<T, double>::value ? 1e-14 : 3e-7) * n_in);
  }
}

TEST(TEST_CATEGORY, property_norm_preserved) {
  for (Pairing p : {Pairing::half_split, Pairing::interleaved}) {
    norms_preserved<double>(p);
    norms_preserved<float>(p);
  }
}

/// dot(rope(q, m), rope(k, n)) for one q and one k vector placed at positions m and n.
template <class T>
double rotated_dot(const Config& config, std::int64_t m, std::int64_t n, std::uint64_t seed) {
  Tensor<T> q("q", 1, 2, 1, config.head_dim), k("k", 1, 2, 1, config.head_dim);
  fill_gaussian(q, seed);
  fill_gaussian(k, seed + 1);
  Kokkos::View<std::int64_t**, Memory> ids("ids", 1, 2);
  auto ids_host = Kokkos::create_mirror_view(ids);
  ids_host(0, 0) = m;  // token 0 of q and k at m, token 1 at n
  ids_host(0, 1) = n;
  Kokkos::deep_copy(ids, ids_host);
  auto table = make_table<Memory, table_real_t<T>>(config, 1 << 16);
  krope::apply(Space(), table, q, k, krope::position_ids{ids});
  const auto qv = to_doubles(q), kv = to_doubles(k);
  const int d = config.head_dim;
  return std::inner_product(qv.begin(), qv.begin() + d, kv.begin() + d, 0.0);  // q_m . k_n
}

TEST(TEST_CATEGORY, property_relative_position) {
  for (Pairing p : {Pairing::half_split, Pairing::interleaved}) {
    const Config config = test_config(p);
    for (std::int64_t shift : {1, 100, 20000}) {
      const double base = rotated_dot<double>(config, 40, 7, 9);
      EXPECT_NEAR(rotated_dot<double>(config, 40 + shift, 7 + shift, 9), base, 1e-11);
      const double base_f = rotated_dot<float>(config, 40, 7, 9);
      EXPECT_NEAR(rotated_dot<float>(config, 40 + shift, 7 + shift, 9), base_f, 2e-5);
    }
  }
}

template <class T>
void backward_inverts_forward(const Config& config) {
  Tensor<T> q("q", 2, 33, 3, config.head_dim), k("k", 2, 33, 1, config.head_dim);
  fill_gaussian(q, 71);
  fill_gaussian(k, 72);
  const auto q0 = to_doubles(q), k0 = to_doubles(k);
  auto table = make_table<Memory, table_real_t<T>>(config, 4096);
  krope::apply(Space(), table, q, k, krope::contiguous{4000});
  krope::apply(Space(), table, q, k, krope::contiguous{4000}, Direction::backward);
  Space().fence();
  const double bound = std::is_same<T, double>::value ? 1e-14 : 3e-7;
  EXPECT_LE(relative_error(to_doubles(q), q0), bound);
  EXPECT_LE(relative_error(to_doubles(k), k0), bound);
}

TEST(TEST_CATEGORY, property_backward_inverts_forward) {
  for (Pairing p : {Pairing::half_split, Pairing::interleaved}) {
    backward_inverts_forward<double>(test_config(p));
    backward_inverts_forward<float>(test_config(p, 32));
  }
}

/// <forward(x), y> == <x, backward(y)>: backward is the transpose (gradient) of forward.
template <class T>
void backward_is_adjoint(const Config& config) {
  Tensor<T> x("x", 2, 17, 2, config.head_dim), y("y", 2, 17, 2, config.head_dim);
  fill_gaussian(x, 5);
  fill_gaussian(y, 6);
  const auto x0 = to_doubles(x), y0 = to_doubles(y);
  auto table = make_table<Memory, table_real_t<T>>(config, 1024);
  // x and y ride as q and k of one call each way (same head count, same positions).
  Tensor<T> fx("fx", 2, 17, 2, config.head_dim), by("by", 2, 17, 2, config.head_dim);
  krope::apply(Space(), table, x, y, fx, by, krope::contiguous{1000 - 17}, Direction::forward);
  const auto fx_v = to_doubles(fx);
  krope::apply(Space(), table, x, y, fx, by, krope::contiguous{1000 - 17}, Direction::backward);
  const auto by_v = to_doubles(by);
  const double lhs = dot(fx_v, y0), rhs = dot(x0, by_v);
  EXPECT_NEAR(
      lhs, rhs,
      (std::is_same<T, double>::value ? 1e-12 : 1e-5) * std::sqrt(dot(x0, x0) * dot(y0, y0)));
}

TEST(TEST_CATEGORY, property_backward_is_adjoint) {
  for (Pairing p : {Pairing::half_split, Pairing::interleaved}) {
    backward_is_adjoint<double>(test_config(p));
    backward_is_adjoint<float>(test_config(p, 16));
  }
}

/// Out of place and in place produce identical bits, pass-through lanes included.
template <class T>
void out_of_place_equals_in_place(const Config& config) {
  Tensor<T> q("q", 3, 11, 4, config.head_dim), k("k", 3, 11, 2, config.head_dim);
  fill_gaussian(q, 41);
  fill_gaussian(k, 42);
  Tensor<T> q_out("q_out", 3, 11, 4, config.head_dim), k_out("k_out", 3, 11, 2, config.head_dim);
  poison(q_out);
  poison(k_out);
  auto table = make_table<Memory, table_real_t<T>>(config, 64);
  krope::apply(Space(), table, q, k, q_out, k_out, krope::contiguous{5});
  krope::apply(Space(), table, q, k, krope::contiguous{5});
  Space().fence();
  const auto a = to_doubles(q_out), b = to_doubles(q), c = to_doubles(k_out), d = to_doubles(k);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
  for (std::size_t i = 0; i < c.size(); ++i) ASSERT_EQ(c[i], d[i]) << i;
}

TEST(TEST_CATEGORY, property_out_of_place_equals_in_place) {
  for (Pairing p : {Pairing::half_split, Pairing::interleaved}) {
    out_of_place_equals_in_place<float>(test_config(p, 40));
    out_of_place_equals_in_place<krope::bfloat16>(test_config(p));
    out_of_place_equals_in_place<krope::float16>(test_config(p, 24));
    out_of_place_equals_in_place<double>(test_config(p));
  }
}

}  // namespace
