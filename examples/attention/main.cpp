// krope attention: the forward pass of causal self-attention with RoPE. krope rotates q and k,
// Kokkos Kernels' gemm forms the scores q k^T / sqrt(D) and the output softmax(scores) v. The
// example shows, and checks, what RoPE is for and what krope guarantees:
//   (a) relative positions: shifting every position by the same offset leaves the scores as they
//       were (only the distance between query and key matters);
//   (b) plain vs truncated schedule: score against distance for both, and truncated's unrotated
//       pairs (its lowest frequencies are exactly zero) contribute the same at every distance;
//   (c) long positions: at positions near 2^20 .. 2^24 the fp32 results stay within a few 1e-7 of
//       an fp64 reference, with the table and with the table-free path (fp32 angles would not).
//
//   ./attention [seq_len]      (default 256; CTest runs 64)

#include <example_support.hpp>

#include <krope/krope.hpp>

#include <KokkosBlas3_gemm.hpp>
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Memory = Space::memory_space;
using Heads = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;   // [batch][seq][heads][dim]
using Square = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;  // [batch][heads][query][key]
using krope_example::Checks;
using krope_example::format;

/// Everything one attention forward produces (kept so the checks can look inside).
struct Attention {
  Heads q_rot, k_rot;  ///< q and k after RoPE
  Square scores;       ///< q k^T / sqrt(D); only the causal part (key <= query) is used
  Square probs;        ///< causal softmax of the scores
  Heads out;           ///< probs v: [batch][seq][q_heads][dim]
};

/// Causal softmax of one score row: query i attends to keys 0..i.
struct CausalSoftmax {
  Square scores, probs;
  KOKKOS_INLINE_FUNCTION void operator()(int b, int h, int i) const {
    const int keys = static_cast<int>(scores.extent(3));
    float top = scores(b, h, i, 0);
    for (int j = 1; j <= i; ++j) top = krope_example::kokkos_math::fmax(top, scores(b, h, i, j));
    float sum = 0;
    for (int j = 0; j <= i; ++j) {
      const float e = krope_example::kokkos_math::exp(scores(b, h, i, j) - top);
      probs(b, h, i, j) = e;
      sum += e;
    }
    for (int j = 0; j <= i; ++j) probs(b, h, i, j) /= sum;
    for (int j = i + 1; j < keys; ++j) probs(b, h, i, j) = 0;
  }
};

/// Causal self-attention of q, k, v ([batch][seq][heads][dim]; k and v may have fewer heads,
/// GQA) with RoPE from `rotary` (a Table or Frequencies) at `positions`.
template <class Rotary, class Positions>
Attention causal_attention(const Space& space, const Rotary& rotary, const Heads& q, const Heads& k,
                           const Heads& v, const Positions& positions) {
  const int batch = q.extent(0), seq = q.extent(1), q_heads = q.extent(2), dim = q.extent(3);
  const int group = q_heads / static_cast<int>(k.extent(2));
  Attention a;
  a.q_rot = Heads(Kokkos::view_alloc(Kokkos::WithoutInitializing, "q_rot"), q.layout());
  a.k_rot = Heads(Kokkos::view_alloc(Kokkos::WithoutInitializing, "k_rot"), k.layout());
  a.scores = Square("scores", batch, q_heads, seq, seq);
  a.probs = Square("probs", batch, q_heads, seq, seq);
  a.out = Heads("out", batch, seq, q_heads, dim);

  // Out of place, so q and k stay unrotated and the same inputs can be rerun at another offset
  // or with another schedule.
  krope::apply(space, rotary, q, k, a.q_rot, a.k_rot, positions);
  // KokkosBlas::gemm (Kokkos Kernels 3.4) takes no execution space instance and runs on the
  // default one; fence so it sees the rotated values whatever instance `space` is.
  space.fence();

  const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
  for (int b = 0; b < batch; ++b)
    for (int h = 0; h < q_heads; ++h) {
      // 2-D [seq][dim] slices of the 4-D tensors: strided rows, no copies.
      auto q_bh = Kokkos::subview(a.q_rot, b, Kokkos::ALL, h, Kokkos::ALL);
      auto k_bh = Kokkos::subview(a.k_rot, b, Kokkos::ALL, h / group, Kokkos::ALL);
      auto s_bh = Kokkos::subview(a.scores, b, h, Kokkos::ALL, Kokkos::ALL);
      KokkosBlas::gemm("N", "T", scale, q_bh, k_bh, 0.0f, s_bh);
    }
  Kokkos::parallel_for(
      "krope_example::causal_softmax",
      Kokkos::MDRangePolicy<Space, Kokkos::Rank<3>>(space, {0, 0, 0}, {batch, q_heads, seq}),
      CausalSoftmax{a.scores, a.probs});
  space.fence();
  for (int b = 0; b < batch; ++b)
    for (int h = 0; h < q_heads; ++h) {
      auto p_bh = Kokkos::subview(a.probs, b, h, Kokkos::ALL, Kokkos::ALL);
      auto v_bh = Kokkos::subview(v, b, Kokkos::ALL, h / group, Kokkos::ALL);
      auto o_bh = Kokkos::subview(a.out, b, Kokkos::ALL, h, Kokkos::ALL);
      KokkosBlas::gemm("N", "N", 1.0f, p_bh, v_bh, 0.0f, o_bh);
    }
  Kokkos::fence();
  return a;
}

/// The causal part (key <= query) of [batch][heads][seq][seq] scores, as doubles.
std::vector<double> causal_part(const Square& scores) {
  const std::vector<double> all = krope_example::to_doubles(scores);
  const std::size_t seq = scores.extent(2), rows = all.size() / (seq * seq);
  std::vector<double> part;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < seq; ++i)
      for (std::size_t j = 0; j <= i; ++j) part.push_back(all[(r * seq + i) * seq + j]);
  return part;
}

krope::Config plain_config(int head_dim) {
  krope::Config config;
  config.head_dim = head_dim;
  config.pairing = krope::Pairing::half_split;
  config.theta = 10000.0;
  return config;
}

// (a) Scores depend only on the distance between query and key: <R(m) q, R(n) k> = <q, R(n-m) k>.
void relative_positions(const Space& space, int seq, Checks& checks) {
  std::printf("\n(a) relative positions: every position shifted by the same offset\n");
  const int batch = 2, q_heads = 4, k_heads = 2, dim = 64;
  Heads q("q", batch, seq, q_heads, dim), k("k", batch, seq, k_heads, dim);
  Heads v("v", batch, seq, k_heads, dim);
  krope_example::fill_gaussian(q, 11);
  krope_example::fill_gaussian(k, 12);
  krope_example::fill_gaussian(v, 13);

  const krope::Config config = plain_config(dim);
  const std::int64_t table_offsets[] = {1000, 100000};
  const auto table = krope::make_table<Memory>(config, seq + table_offsets[1]);
  const auto frequencies = krope::make_frequencies<Memory>(config);

  const Attention base = causal_attention(space, table, q, k, v, krope::contiguous{0});
  const std::vector<double> base_scores = causal_part(base.scores);
  const std::vector<double> base_q = krope_example::to_doubles(base.q_rot);
  const std::vector<double> base_out = krope_example::to_doubles(base.out);

  std::printf("B=%d T=%d Hq=%d Hk=%d D=%d fp32, reference: the same inputs at offset 0\n", batch,
              seq, q_heads, k_heads, dim);
  std::printf("| %-9s | %-10s | %-16s | %-16s | %-16s |\n", "offset", "angles", "rotated q moved",
              "scores rel. diff", "output rel. diff");
  std::printf(
      "|-----------|------------|------------------|------------------|------------------|\n");
  const double bound = 1e-5;  // a few fp32 rounding steps over a D = 64 dot product
  auto compare = [&](const Attention& shifted, std::int64_t offset, const char* angles) {
    const double q_moved =
        krope_example::relative_error(krope_example::to_doubles(shifted.q_rot), base_q);
    const double scores = krope_example::relative_error(causal_part(shifted.scores), base_scores);
    const double out =
        krope_example::relative_error(krope_example::to_doubles(shifted.out), base_out);
    std::printf("| %9lld | %-10s | %16.3f | %16.2e | %16.2e |\n", static_cast<long long>(offset),
                angles, q_moved, scores, out);
    return std::max(scores, out);
  };
  std::vector<std::pair<std::string, double>> results;
  for (std::int64_t offset : table_offsets) {
    const Attention shifted = causal_attention(space, table, q, k, v, krope::contiguous{offset});
    results.emplace_back("offset " + std::to_string(offset) + " (table)",
                         compare(shifted, offset, "table"));
  }
  // The table-free path serves any position without a table of that size.
  const std::int64_t far = 1000000;
  const Attention shifted = causal_attention(space, frequencies, q, k, v, krope::contiguous{far});
  results.emplace_back("offset " + std::to_string(far) + " (table-free)",
                       compare(shifted, far, "table-free"));
  for (const auto& r : results)
    checks.expect(r.second <= bound, r.first + ": scores and outputs unchanged (rel. diff " +
                                         format("%.1e", r.second) + " <= " + format("%.0e", bound) +
                                         ")");
}

/// Exact score of a query q at distance d after its key k (fp64), for the given schedule.
double theory_score(const std::vector<double>& q, const std::vector<double>& k,
                    const std::vector<double>& inv_freq, std::int64_t d) {
  const std::size_t half = inv_freq.size();
  double s = 0;
  for (std::size_t p = 0; p < half; ++p) {
    const double angle = static_cast<double>(d) * inv_freq[p];
    s += std::cos(angle) * (q[p] * k[p] + q[p + half] * k[p + half]) -
         std::sin(angle) * (q[p + half] * k[p] - q[p] * k[p + half]);
  }
  return s / std::sqrt(2.0 * static_cast<double>(half));
}

// (b) The same content at every position (q = k = x for every token): the score then depends only
// on the distance, and shows how each schedule trades content against position.
void plain_vs_truncated(const Space& space, int seq, Checks& checks) {
  std::printf(
      "\n(b) plain vs truncated schedule: the same vector x as query and key at every "
      "position\n");
  const int dim = 64, half = dim / 2;
  Heads x("x", 1, seq, 1, dim), v("v", 1, seq, 1, dim);
  std::vector<double> x0;
  {
    Heads one("one", 1, 1, 1, dim);
    x0 = krope_example::fill_gaussian(one, 21);
    auto host = Kokkos::create_mirror_view(x);
    for (int t = 0; t < seq; ++t)
      for (int l = 0; l < dim; ++l) host(0, t, 0, l) = static_cast<float>(x0[l]);
    Kokkos::deep_copy(x, host);
  }
  krope_example::fill_gaussian(v, 22);
  // The key is a copy: krope::apply refuses q and k that share memory.
  Heads x_key("x_key", 1, seq, 1, dim);
  Kokkos::deep_copy(x_key, x);

  krope::Config truncated = plain_config(dim);
  truncated.scaling.kind = krope::Scaling::Kind::truncated;
  const krope::Config plain = plain_config(dim);
  const std::vector<double> plain_freq = krope::spectrum(plain).inv_freq;
  const std::vector<double> truncated_freq = krope::spectrum(truncated).inv_freq;
  // Truncated's pairs with inverse frequency 0 never rotate: lanes p and p + D/2 of those pairs.
  std::vector<int> still;
  for (int p = 0; p < half; ++p)
    if (truncated_freq[p] == 0.0) still.push_back(p);
  std::printf("truncated: %d of %d pairs rotate (inv_freq %.3g .. %.3g), %zu stay unrotated\n",
              half - static_cast<int>(still.size()), half, truncated_freq[0],
              truncated_freq[half - still.size() - 1], still.size());

  const Attention a_plain = causal_attention(space, krope::make_table<Memory>(plain, seq), x, x_key,
                                             v, krope::contiguous{0});
  const Attention a_trunc = causal_attention(space, krope::make_table<Memory>(truncated, seq), x,
                                             x_key, v, krope::contiguous{0});
  const std::vector<double> s_plain = krope_example::to_doubles(a_plain.scores);
  const std::vector<double> s_trunc = krope_example::to_doubles(a_trunc.scores);
  const std::vector<double> q_rot = krope_example::to_doubles(a_trunc.q_rot);
  const std::vector<double> k_rot = krope_example::to_doubles(a_trunc.k_rot);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim));

  // Score of query i against key j, split into truncated's rotated and unrotated pairs.
  auto unrotated_part = [&](int i, int j) {
    double s = 0;
    for (int p : still)
      s += q_rot[i * dim + p] * k_rot[j * dim + p] +
           q_rot[i * dim + p + half] * k_rot[j * dim + p + half];
    return s * scale;
  };

  const int i = seq - 1;  // the last query sees every distance 0 .. seq-1
  std::printf("query at position %d, key at position %d - distance\n", i, i);
  std::printf("| %8s | %10s | %10s | %16s | %16s |\n", "distance", "plain", "truncated",
              "trunc. rotated", "trunc. unrotated");
  std::printf("|----------|------------|------------|------------------|------------------|\n");
  std::vector<int> distances = {0, 1, 2, 3};
  for (int d = 4; d < seq; d *= 2) distances.push_back(d);
  if (distances.back() < seq - 1) distances.push_back(seq - 1);
  for (int d : distances) {
    const int j = i - d;
    const double t = s_trunc[static_cast<std::size_t>(i) * seq + j], u = unrotated_part(i, j);
    std::printf("| %8d | %10.4f | %10.4f | %16.4f | %16.4f |\n", d,
                s_plain[static_cast<std::size_t>(i) * seq + j], t, t - u, u);
  }

  // Checks. 1: the scores gemm produced are the fp64 theory at every causal (query, key) pair.
  std::vector<double> got_plain, got_trunc, want_plain, want_trunc;
  double u_min = INFINITY, u_max = -INFINITY;
  for (int qi = 0; qi < seq; ++qi)
    for (int kj = 0; kj <= qi; ++kj) {
      got_plain.push_back(s_plain[static_cast<std::size_t>(qi) * seq + kj]);
      got_trunc.push_back(s_trunc[static_cast<std::size_t>(qi) * seq + kj]);
      want_plain.push_back(theory_score(x0, x0, plain_freq, qi - kj));
      want_trunc.push_back(theory_score(x0, x0, truncated_freq, qi - kj));
      const double u = unrotated_part(qi, kj);
      u_min = std::min(u_min, u);
      u_max = std::max(u_max, u);
    }
  const double e_plain = krope_example::relative_error(got_plain, want_plain);
  const double e_trunc = krope_example::relative_error(got_trunc, want_trunc);
  checks.expect(e_plain <= 1e-5 && e_trunc <= 1e-5,
                "gemm scores match the fp64 formula at every causal pair (rel. error plain " +
                    format("%.1e", e_plain) + ", truncated " + format("%.1e", e_trunc) + ")");

  // 2: truncated's unrotated lanes leave RoPE bit for bit (cos 0 = 1 and sin 0 = 0 exactly).
  bool untouched = true;
  for (int t = 0; t < seq; ++t)
    for (int p : still)
      untouched = untouched && q_rot[t * dim + p] == x0[p] &&
                  q_rot[t * dim + p + half] == x0[p + half] && k_rot[t * dim + p] == x0[p] &&
                  k_rot[t * dim + p + half] == x0[p + half];
  checks.expect(untouched, "truncated: the zero-frequency lanes are bit-identical after RoPE");

  // 3: so their contribution is the same at every distance, exactly.
  checks.expect(u_max == u_min, "truncated: unrotated pairs contribute the same score (" +
                                    format("%.4f", u_min) + ") at every distance, exactly");

  // 4: at distance 0 no schedule can matter: both give <x, x> / sqrt(D).
  double zero_diff = 0;
  for (int t = 0; t < seq; ++t)
    zero_diff = std::max(zero_diff, std::abs(s_plain[static_cast<std::size_t>(t) * seq + t] -
                                             s_trunc[static_cast<std::size_t>(t) * seq + t]));
  checks.expect(zero_diff <= 1e-5 * std::abs(s_plain[0]),
                "distance 0: plain and truncated scores agree");
}

/// q and k rotated out of place by `rotary` with token t at position first + t, as doubles (q's
/// values, then k's).
template <class Rotary>
std::vector<double> rotated(const Space& space, const Rotary& rotary, const Heads& q,
                            const Heads& k, std::int64_t first) {
  Heads q_out("q_out", q.layout()), k_out("k_out", k.layout());
  krope::apply(space, rotary, q, k, q_out, k_out, krope::contiguous{first});
  std::vector<double> values = krope_example::to_doubles(q_out);
  const std::vector<double> k_values = krope_example::to_doubles(k_out);
  values.insert(values.end(), k_values.begin(), k_values.end());
  return values;
}

/// Largest absolute error of rotated values against the reference, and largest error relative
/// to the magnitude of the input pair it came from (|x| + |y|): rotation error scales with it.
struct Error {
  double abs = 0, rel = 0;
};
Error error_of(const std::vector<double>& got, const std::vector<double>& ref,
               const std::vector<double>& in, int dim) {
  const int half = dim / 2;
  Error e;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const int lane = static_cast<int>(i % dim);
    const std::size_t pair = i - lane + (lane < half ? lane + half : lane - half);
    const double err = std::abs(got[i] - ref[i]);
    e.abs = std::max(e.abs, err);
    e.rel = std::max(e.rel, err / (std::abs(in[i]) + std::abs(in[pair])));
  }
  return e;
}

// (c) Long positions: rotated values just below 2^20 .. 2^24 against fp64, for the fp32 table,
// the table-free path and, for contrast, angles formed in fp32 (host-side) as many codes do.
void long_positions(const Space& space, Checks& checks) {
  std::printf(
      "\n(c) long positions: 8 tokens just below 2^p, fp32 q and k, max abs error of the "
      "rotated values vs fp64\n");
  const int heads = 2, dim = 64, tokens = 8, half = dim / 2;
  const krope::Config config = plain_config(dim);
  const std::vector<double> inv_freq = krope::spectrum(config).inv_freq;
  const auto frequencies = krope::make_frequencies<Memory>(config);
  // A table to 2^20 costs 2^20 positions x 32 pairs x (cos, sin) x 4 bytes = 256 MiB; to 2^24 it
  // would cost 4 GiB, which is what the table-free path avoids. So the table runs only at 2^20.
  const int table_exponent = 20;
  const auto table = krope::make_table<Memory>(config, std::int64_t(1) << table_exponent);

  // The contract: cos/sin within 2 fp32 ulp (2.4e-7), plus fp32 rounding of the products and the
  // sum, so each rotated value is within 3.6e-7 (|x| + |y|) of the exact one.
  const double bound = 3.6e-7;
  std::vector<std::pair<bool, std::string>> results;
  auto record = [&](const Error& e, const std::string& what) {
    results.emplace_back(e.rel <= bound, what +
                                             ": max error / (|x|+|y|) = " + format("%.2e", e.rel) +
                                             " <= " + format("%.1e", bound));
  };
  std::printf("| %2s | %-12s | %-12s | %-12s | %-12s |\n", "p", "positions", "table", "table-free",
              "fp32 angles");
  std::printf("|----|--------------|--------------|--------------|--------------|\n");
  for (int p = 20; p <= 24; ++p) {
    const std::int64_t first = (std::int64_t(1) << p) - tokens;
    Heads q("q", 1, tokens, heads, dim), k("k", 1, tokens, heads, dim);
    std::vector<double> in = krope_example::fill_gaussian(q, 30 + p);
    const std::vector<double> k_in = krope_example::fill_gaussian(k, 60 + p);
    in.insert(in.end(), k_in.begin(), k_in.end());
    std::vector<std::int64_t> positions;  // one per row of q, then of k
    for (int pass = 0; pass < 2; ++pass)
      for (int t = 0; t < tokens; ++t) positions.insert(positions.end(), heads, first + t);
    const std::vector<double> ref = krope_example::reference_rope(config, in, positions);

    const Error free = error_of(rotated(space, frequencies, q, k, first), ref, in, dim);
    record(free, "table-free at 2^" + std::to_string(p) + " - 8");
    std::string table_text;
    if (p == table_exponent) {
      const Error e = error_of(rotated(space, table, q, k, first), ref, in, dim);
      record(e, "table at 2^" + std::to_string(p) + " - 8");
      table_text = format("%.2e", e.abs);
    } else {  // what the table would cost
      const std::int64_t mib = ((std::int64_t(1) << p) * half * 2 * 4) >> 20;
      table_text =
          "(" + (mib < 1024 ? std::to_string(mib) + " MiB" : std::to_string(mib >> 10) + " GiB") +
          ")";
    }

    // fp32 angles: pos * inv_freq rounded to fp32 keeps only 24 bits of an angle of up to 2^24
    // radians, so its low bits, the ones that matter after reduction mod 2 pi, are gone.
    std::vector<double> naive(in);
    for (std::size_t r = 0; r < positions.size(); ++r)
      for (int i = 0; i < half; ++i) {
        const float angle = static_cast<float>(positions[r]) * static_cast<float>(inv_freq[i]);
        const float c = std::cos(angle), s = std::sin(angle);
        const float x = static_cast<float>(in[r * dim + i]);
        const float y = static_cast<float>(in[r * dim + i + half]);
        naive[r * dim + i] = x * c - y * s;
        naive[r * dim + i + half] = x * s + y * c;
      }
    std::printf("| %2d | 2^%d - 8..   | %-12s | %12.2e | %12.2e |\n", p, p, table_text.c_str(),
                free.abs, error_of(naive, ref, in, dim).abs);
  }
  for (const auto& r : results) checks.expect(r.first, r.second);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (!krope_example::device_visible()) return krope_example::skipped(argv[0]);
  Kokkos::ScopeGuard kokkos(argc, argv);
  const int seq = static_cast<int>(krope_example::size_argument(argc, argv, 256));
  krope_example::print_execution_space();
  const Space space;
  Checks checks;
  relative_positions(space, seq, checks);
  plain_vs_truncated(space, seq, checks);
  long_positions(space, checks);
  return checks.exit_code();
}
