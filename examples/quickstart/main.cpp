// krope quickstart: rotate the q and k heads of a small batch in place, check the result against
// an fp64 host reference and report time and bandwidth, for each element type.
//
//   ./quickstart [seq_len]      (default 2048; CTest runs 128)
//
// Exits non-zero when a result misses the library's accuracy contract.

#include <example_support.hpp>

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Memory = Space::memory_space;
using krope_example::Checks;

struct Shape {
  int batch, seq, q_heads, k_heads, head_dim;
};

struct Result {
  double seconds, gbytes_per_second, error;
};

/// Rotates q and k of `shape` (element type T) with `rotary` (a Table or Frequencies), token t of
/// each sequence at position t, and measures it against the fp64 reference.
template <class T, class Rotary>
Result run_case(const Space& space, const krope::Config& config, const Rotary& rotary,
                const Shape& shape, int reps) {
  // The layout LLM runtimes use: [batch][seq][heads][head_dim]; k has fewer heads (GQA).
  using Heads = Kokkos::View<T****, Kokkos::LayoutRight, Memory>;
  Heads q("q", shape.batch, shape.seq, shape.q_heads, shape.head_dim);
  Heads k("k", shape.batch, shape.seq, shape.k_heads, shape.head_dim);
  const std::vector<double> q_in = krope_example::fill_gaussian(q, 1);
  const std::vector<double> k_in = krope_example::fill_gaussian(k, 2);

  // The call this example is about: in place, token t of every sequence at position t + 0.
  krope::apply(space, rotary, q, k, krope::contiguous{0});
  space.fence();

  // Reference: row (b, t, h) of q (or k) sits at position t.
  auto positions_of = [&](int heads) {
    std::vector<std::int64_t> p;
    for (int b = 0; b < shape.batch; ++b)
      for (int t = 0; t < shape.seq; ++t) p.insert(p.end(), heads, t);
    return p;
  };
  std::vector<double> got = krope_example::to_doubles(q);
  std::vector<double> ref =
      krope_example::reference_rope(config, q_in, positions_of(shape.q_heads));
  const std::vector<double> k_got = krope_example::to_doubles(k);
  const std::vector<double> k_ref =
      krope_example::reference_rope(config, k_in, positions_of(shape.k_heads));
  got.insert(got.end(), k_got.begin(), k_got.end());
  ref.insert(ref.end(), k_ref.begin(), k_ref.end());

  // Timing: more in-place calls (a rotation keeps the data's magnitude, so these time real
  // values, not zeros or infinities), each on the next of several copies of q and k that
  // together exceed the last-level cache (50-60 MB on H100/H200), so the rate is memory's, not
  // the cache's. Bytes that must move: q and k read once and written once.
  const double bytes = 2.0 * static_cast<double>(q.size() + k.size()) * sizeof(T);
  std::vector<Heads> q_copies = {q}, k_copies = {k};
  while (static_cast<double>(q_copies.size()) * bytes < 128e6) {
    q_copies.emplace_back(Kokkos::view_alloc(Kokkos::WithoutInitializing, "q_copy"), q.layout());
    k_copies.emplace_back(Kokkos::view_alloc(Kokkos::WithoutInitializing, "k_copy"), k.layout());
    Kokkos::deep_copy(q_copies.back(), q);
    Kokkos::deep_copy(k_copies.back(), k);
  }
  std::size_t call = 0;
  const double seconds = krope_example::median_seconds(space, reps, [&] {
    const std::size_t i = call++ % q_copies.size();
    krope::apply(space, rotary, q_copies[i], k_copies[i], krope::contiguous{0});
  });
  return {seconds, bytes / seconds * 1e-9, krope_example::relative_error(got, ref)};
}

void print_row(const Shape& s, const char* dtype, const char* angles, const Result& r, double bound,
               bool ok) {
  const std::string config = std::to_string(s.batch) + " x " + std::to_string(s.q_heads) + "/" +
                             std::to_string(s.k_heads) + " x " + std::to_string(s.seq) + " x " +
                             std::to_string(s.head_dim);
  std::printf("| %-22s | %-5s | %-10s | %10.1f | %8.2f | %10.2e | %8.1e | %-5s |\n", config.c_str(),
              dtype, angles, r.seconds * 1e6, r.gbytes_per_second, r.error, bound,
              ok ? "ok" : "FAIL");
}

}  // namespace

int main(int argc, char* argv[]) {
  if (!krope_example::device_visible()) return krope_example::skipped(argv[0]);
  Kokkos::ScopeGuard kokkos(argc, argv);
  const Shape shape{2, static_cast<int>(krope_example::size_argument(argc, argv, 2048)), 8, 2, 128};
  const int reps = 21;
  krope_example::print_execution_space();

  // Llama-style RoPE: the whole head rotates, rotate_half pairing, base 10000.
  krope::Config config;
  config.head_dim = shape.head_dim;
  config.pairing = krope::Pairing::half_split;
  config.theta = 10000.0;

  const Space space;
  // cos/sin for positions [0, seq), built on the host in fp64, rounded once to fp32, copied to
  // the device. One float table serves fp32, bf16 and fp16 data.
  const auto table = krope::make_table<Memory>(config, shape.seq);
  // The table-free alternative: fp64 inverse frequencies, angles formed in the kernel.
  const auto frequencies = krope::make_frequencies<Memory>(config);

  std::printf("q, k: [batch][seq][heads][head_dim] = B x Hq/Hk x T x D below; positions 0..%d\n",
              shape.seq - 1);
  std::printf(
      "time: median of %d fenced in-place calls, on copies of q and k totalling >= 128 MB;\n"
      "GB/s: q and k read and written once per call\n\n",
      reps);
  std::printf("| %-22s | %-5s | %-10s | %10s | %8s | %10s | %8s | %-5s |\n", "B x H x T x D",
              "dtype", "angles", "time (us)", "GB/s", "rel. error", "bound", "check");
  std::printf(
      "|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(24, '-').c_str(), std::string(7, '-').c_str(),
      std::string(12, '-').c_str(), std::string(12, '-').c_str(), std::string(10, '-').c_str(),
      std::string(12, '-').c_str(), std::string(10, '-').c_str(), std::string(7, '-').c_str());

  // Norm-wise relative error bounds of the library's contract (Gaussian data, large samples):
  // fp32 computes and stores in fp32; 16-bit types compute in fp32 and round once on store.
  struct Expectation {
    const char* dtype;
    const char* angles;
    double bound;
    Result result;
  };
  std::vector<Expectation> rows = {
      {"fp32", "table", 5e-8, run_case<float>(space, config, table, shape, reps)},
      {"fp32", "table-free", 5e-8, run_case<float>(space, config, frequencies, shape, reps)},
      {"bf16", "table", 1.7e-3, run_case<krope::bfloat16>(space, config, table, shape, reps)},
      {"fp16", "table", 2.2e-4, run_case<krope::float16>(space, config, table, shape, reps)},
  };
  Checks checks;
  for (const auto& row : rows)
    print_row(shape, row.dtype, row.angles, row.result, row.bound, row.result.error <= row.bound);
  std::printf("\nchecks:\n");
  for (const auto& row : rows)
    checks.expect(row.result.error <= row.bound, std::string(row.dtype) + " (" + row.angles +
                                                     ") relative error within the contract");
  return checks.exit_code();
}
