// A downstream program: links KokkosRoPE::krope, rotates a small fp32 batch on the host and
// checks one rotated pair against the closed form. Built by the install tests.
#include <krope/krope.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char* argv[]) {
  Kokkos::ScopeGuard guard(argc, argv);
  krope::Config config;
  config.head_dim = 8;
  using Host = Kokkos::DefaultHostExecutionSpace;
  auto table = krope::make_table<Host::memory_space>(config, 16);
  Kokkos::View<float****, Host::memory_space> q("q", 1, 4, 1, 8), k("k", 1, 4, 1, 8);
  Kokkos::deep_copy(q, 1.0f);
  Kokkos::deep_copy(k, 1.0f);
  krope::apply(Host(), table, q, k, krope::contiguous{3});
  Host().fence();
  // Token 1 sits at position 4; pair 0 (lanes 0 and 4) has inverse frequency 1.
  const double expected = std::cos(4.0) - std::sin(4.0);
  const bool ok = std::abs(q(0, 1, 0, 0) - expected) < 1e-6;
  std::printf("krope %s (built against Kokkos %s)\n", KROPE_VERSION_STRING,
              KROPE_KOKKOS_VERSION_STRING);
  std::printf("krope consumer: q[0,1,0,0] = %.7f, expected %.7f: %s\n", q(0, 1, 0, 0), expected,
              ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
