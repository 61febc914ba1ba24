// krope decode: incremental decoding with a KV cache for sequences of different lengths.
//
// The prompts are prefilled as one packed variable-length batch (krope::varlen). Then each decode
// step rotates the new token of every sequence at that sequence's own position
// (krope::sequence_offsets, offsets = current lengths, kept on the device), appends k and v to
// the cache and attends over it. At the end, every attention output must equal a one-shot
// prefill of the full token sequences: left-padded, with explicit position ids
// (krope::position_ids), so all three position modes have to agree.
//
//   ./decode [steps]      (default 32 decode steps; CTest runs 8)

#include <example_support.hpp>

#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Memory = Space::memory_space;
using Tokens = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;  // [batch][slot][heads][dim]
using Rows = Kokkos::View<float***, Kokkos::LayoutRight, Memory>;     // [token][heads][dim]
using Index = Kokkos::View<std::int64_t*, Memory>;
using krope_example::Checks;
using krope_example::format;

constexpr int max_head_dim = 128;  // per-thread accumulator size of the attention kernel

/// Which queries attend to what: query n is row q_row(n) of the (rotated) queries, attends to
/// slots first(n)..last(n) of sequence seq(n) in the k/v caches, and writes output token
/// token(n) of that sequence.
struct QueryPlan {
  Index q_row, seq, first, last, token;
};

/// Plain dot-product attention of one query head over its cache slots (two passes: max, then
/// softmax-weighted sum of v), q head h reading k/v head h / group (GQA).
struct CachedAttention {
  Kokkos::View<const float***, Kokkos::LayoutRight, Memory> q;
  Kokkos::View<const float****, Kokkos::LayoutRight, Memory> k, v;
  QueryPlan plan;
  Tokens out;  // [batch][token][q_heads][dim]

  KOKKOS_INLINE_FUNCTION float score(std::int64_t row, int h, std::int64_t b, std::int64_t slot,
                                     int kh) const {
    const int dim = static_cast<int>(q.extent(2));
    float s = 0;
    for (int d = 0; d < dim; ++d) s += q(row, h, d) * k(b, slot, kh, d);
    return s / krope_example::kokkos_math::sqrt(static_cast<float>(dim));
  }

  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t n, int h) const {
    const int dim = static_cast<int>(q.extent(2));
    const int kh = h / static_cast<int>(q.extent(1) / k.extent(2));
    const std::int64_t row = plan.q_row(n), b = plan.seq(n);
    const std::int64_t first = plan.first(n), last = plan.last(n);
    float top = score(row, h, b, first, kh);
    for (std::int64_t j = first + 1; j <= last; ++j)
      top = krope_example::kokkos_math::fmax(top, score(row, h, b, j, kh));
    float acc[max_head_dim] = {};
    float sum = 0;
    for (std::int64_t j = first; j <= last; ++j) {
      const float w = krope_example::kokkos_math::exp(score(row, h, b, j, kh) - top);
      sum += w;
      for (int d = 0; d < dim; ++d) acc[d] += w * v(b, j, kh, d);
    }
    for (int d = 0; d < dim; ++d) out(b, plan.token(n), h, d) = acc[d] / sum;
  }
};

void attend(const Space& space, const Rows& q, const Tokens& k, const Tokens& v,
            const QueryPlan& plan, const Tokens& out) {
  Kokkos::parallel_for(
      "krope_example::cached_attention",
      Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>, Kokkos::IndexType<std::int64_t>>(
          space, {0, 0},
          {static_cast<std::int64_t>(plan.seq.extent(0)), static_cast<std::int64_t>(q.extent(1))}),
      CachedAttention{q, k, v, plan, out});
}

Index device_index(const std::vector<std::int64_t>& values, const char* label) {
  Index v(std::string(label), values.size());
  auto host = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = values[i];
  Kokkos::deep_copy(v, host);
  return v;
}

/// Seeded N(0, 1) projections, one [seq][heads][dim] block per sequence (token t of sequence b
/// at [b][t] of a [batch][max_len] View: the unpadded storage decode reads from).
Tokens random_tokens(const char* label, int batch, int max_len, int heads, int dim,
                     std::uint64_t seed) {
  Tokens x(std::string(label), batch, max_len, heads, dim);
  krope_example::fill_gaussian(x, seed);
  return x;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (!krope_example::device_visible()) return krope_example::skipped(argv[0]);
  Kokkos::ScopeGuard kokkos(argc, argv);
  const int steps = static_cast<int>(krope_example::size_argument(argc, argv, 32));
  krope_example::print_execution_space();
  const Space space;
  Checks checks;

  const std::vector<std::int64_t> prompt = {5, 9, 13, 2};
  const int batch = static_cast<int>(prompt.size()), q_heads = 4, k_heads = 2;
  const int dim = 64;                       // <= max_head_dim
  std::vector<std::int64_t> length(batch);  // final length of each sequence
  for (int b = 0; b < batch; ++b) length[b] = prompt[b] + steps;
  const int max_len = static_cast<int>(*std::max_element(length.begin(), length.end()));

  krope::Config config;
  config.head_dim = dim;
  config.pairing = krope::Pairing::half_split;
  config.theta = 10000.0;
  const auto table = krope::make_table<Memory>(config, max_len);

  // The model's q, k, v projections of every token of every sequence, before RoPE.
  const Tokens raw_q = random_tokens("raw_q", batch, max_len, q_heads, dim, 1);
  const Tokens raw_k = random_tokens("raw_k", batch, max_len, k_heads, dim, 2);
  const Tokens raw_v = random_tokens("raw_v", batch, max_len, k_heads, dim, 3);

  std::printf("%d sequences, prompt lengths", batch);
  for (auto p : prompt) std::printf(" %lld", static_cast<long long>(p));
  std::printf(", %d decode steps; Hq=%d Hk=%d D=%d fp32\n", steps, q_heads, k_heads, dim);

  // ---- Incremental: prefill the prompts, then decode token by token. ----
  Tokens k_cache("k_cache", batch, max_len, k_heads, dim);
  Tokens v_cache("v_cache", batch, max_len, k_heads, dim);
  Tokens out_incremental("out_incremental", batch, max_len, q_heads, dim);
  {
    // Prefill: the prompts packed back to back ([total tokens][heads][dim], no padding), sequence
    // b owning tokens cu_seqlens(b) .. cu_seqlens(b+1)-1, token t of it at position t.
    std::vector<std::int64_t> cu_seqlens = {0}, seq, pos;
    for (int b = 0; b < batch; ++b) {
      cu_seqlens.push_back(cu_seqlens.back() + prompt[b]);
      for (std::int64_t t = 0; t < prompt[b]; ++t) {
        seq.push_back(b);
        pos.push_back(t);
      }
    }
    const std::int64_t total = cu_seqlens.back();
    const Index seq_of = device_index(seq, "seq_of"), pos_of = device_index(pos, "pos_of");
    Rows q("q_packed", total, q_heads, dim), k("k_packed", total, k_heads, dim);
    Kokkos::parallel_for(
        "krope_example::pack_prompts",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>(space, {0, 0}, {total, dim}),
        KOKKOS_LAMBDA(std::int64_t n, int d) {
          for (int h = 0; h < q_heads; ++h) q(n, h, d) = raw_q(seq_of(n), pos_of(n), h, d);
          for (int h = 0; h < k_heads; ++h) k(n, h, d) = raw_k(seq_of(n), pos_of(n), h, d);
        });
    krope::apply(space, table, q, k, krope::varlen{device_index(cu_seqlens, "cu_seqlens")});
    Kokkos::parallel_for(
        "krope_example::fill_cache",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>(space, {0, 0}, {total, dim}),
        KOKKOS_LAMBDA(std::int64_t n, int d) {
          for (int h = 0; h < k_heads; ++h) {
            k_cache(seq_of(n), pos_of(n), h, d) = k(n, h, d);
            v_cache(seq_of(n), pos_of(n), h, d) = raw_v(seq_of(n), pos_of(n), h, d);
          }
        });
    // Prompt token t of sequence b attends to cache slots 0..t.
    std::vector<std::int64_t> row(total), zero(total, 0);
    for (std::int64_t n = 0; n < total; ++n) row[n] = n;
    const Index first = device_index(zero, "first");
    attend(space, q, k_cache, v_cache, {device_index(row, "q_row"), seq_of, first, pos_of, pos_of},
           out_incremental);
    std::printf("prefill: %lld prompt tokens packed with krope::varlen\n",
                static_cast<long long>(total));
  }

  // Decode. lengths(b) is the current length of sequence b = the position of its next token,
  // and stays on the device: a step needs no host round trip.
  const Index lengths = device_index(prompt, "lengths");
  std::vector<std::int64_t> iota(batch), zero(batch, 0);
  for (int b = 0; b < batch; ++b) iota[b] = b;
  const Index seq_of = device_index(iota, "seq_of"), first = device_index(zero, "first");
  // The new token's query attends to slots 0..lengths(b) (itself included, once appended).
  const QueryPlan step_plan{seq_of, seq_of, first, lengths, lengths};
  Tokens q_step("q_step", batch, 1, q_heads, dim), k_step("k_step", batch, 1, k_heads, dim);
  const Rows q_step_rows(q_step.data(), batch, q_heads, dim);  // the same memory, one row each
  std::vector<double> step_us;
  std::printf("\n| %4s | %-26s | %9s |\n", "step", "positions rotated", "RoPE (us)");
  std::printf("|------|----------------------------|-----------|\n");
  for (int s = 0; s < steps; ++s) {
    // The model's projections of each sequence's next token (token lengths(b) of sequence b).
    Kokkos::parallel_for(
        "krope_example::next_tokens",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>(space, {0, 0}, {batch, dim}),
        KOKKOS_LAMBDA(int b, int d) {
          for (int h = 0; h < q_heads; ++h) q_step(b, 0, h, d) = raw_q(b, lengths(b), h, d);
          for (int h = 0; h < k_heads; ++h) k_step(b, 0, h, d) = raw_k(b, lengths(b), h, d);
        });
    space.fence();
    Kokkos::Timer timer;
    // Each sequence's single new token sits at its own position, lengths(b). The table covers
    // every position this loop reaches, so the range check (a reduction and a host sync) is off.
    krope::apply(space, table, q_step, k_step, krope::sequence_offsets{lengths, false});
    space.fence();
    step_us.push_back(timer.seconds() * 1e6);

    // Append k (rotated) and v to the caches, attend, then grow every sequence by one.
    Kokkos::parallel_for(
        "krope_example::append",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>(space, {0, 0}, {batch, dim}),
        KOKKOS_LAMBDA(int b, int d) {
          for (int h = 0; h < k_heads; ++h) {
            k_cache(b, lengths(b), h, d) = k_step(b, 0, h, d);
            v_cache(b, lengths(b), h, d) = raw_v(b, lengths(b), h, d);
          }
        });
    attend(space, q_step_rows, k_cache, v_cache, step_plan, out_incremental);
    Kokkos::parallel_for(
        "krope_example::grow", Kokkos::RangePolicy<Space>(space, 0, batch),
        KOKKOS_LAMBDA(int b) { lengths(b) += 1; });

    if (s < 3 || s == steps - 1 || s % 8 == 7) {
      std::string positions;
      for (int b = 0; b < batch; ++b) positions += (b ? ", " : "") + std::to_string(prompt[b] + s);
      std::printf("| %4d | %-26s | %9.1f |\n", s, positions.c_str(), step_us.back());
    }
  }
  space.fence();

  // ---- One-shot: the full sequences left-padded into one [batch][max_len] batch. ----
  // Sequence b starts at slot pad(b) = max_len - length(b); its token t sits at position t, so
  // the positions are explicit ids (pads get id 0; their results are never read).
  Tokens q_full("q_full", batch, max_len, q_heads, dim),
      k_full("k_full", batch, max_len, k_heads, dim);
  Tokens v_full("v_full", batch, max_len, k_heads, dim);
  Tokens out_one_shot("out_one_shot", batch, max_len, q_heads, dim);
  {
    Kokkos::View<std::int64_t**, Memory> ids("position_ids", batch, max_len);
    auto ids_host = Kokkos::create_mirror_view(ids);
    std::vector<std::int64_t> row, seq, first, last, token;
    for (int b = 0; b < batch; ++b) {
      const std::int64_t pad = max_len - length[b];
      for (std::int64_t i = 0; i < max_len; ++i) ids_host(b, i) = i < pad ? 0 : i - pad;
      for (std::int64_t t = 0; t < length[b]; ++t) {
        row.push_back(b * max_len + pad + t);
        seq.push_back(b);
        first.push_back(pad);
        last.push_back(pad + t);
        token.push_back(t);
      }
    }
    Kokkos::deep_copy(ids, ids_host);
    std::vector<std::int64_t> pad_of(batch);
    for (int b = 0; b < batch; ++b) pad_of[b] = max_len - length[b];
    const Index pad_view = device_index(pad_of, "pad");
    Kokkos::parallel_for(
        "krope_example::left_pad",
        Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>(space, {0, 0}, {batch, max_len}),
        KOKKOS_LAMBDA(int b, int t) {
          const std::int64_t slot = pad_view(b) + t;
          if (slot >= max_len) return;
          for (int d = 0; d < dim; ++d) {
            for (int h = 0; h < q_heads; ++h) q_full(b, slot, h, d) = raw_q(b, t, h, d);
            for (int h = 0; h < k_heads; ++h) {
              k_full(b, slot, h, d) = raw_k(b, t, h, d);
              v_full(b, slot, h, d) = raw_v(b, t, h, d);
            }
          }
        });
    krope::apply(space, table, q_full, k_full, krope::position_ids{ids});
    const Rows q_rows(q_full.data(), batch * max_len, q_heads, dim);
    attend(space, q_rows, k_full, v_full,
           {device_index(row, "q_row"), device_index(seq, "seq"), device_index(first, "first"),
            device_index(last, "last"), device_index(token, "token")},
           out_one_shot);
    space.fence();
  }

  // ---- Timing summary: the RoPE call of a decode step. ----
  std::sort(step_us.begin(), step_us.end());
  std::printf(
      "\nRoPE per decode step (%d new tokens): median %.1f us over %d steps "
      "(fenced, check_range = false)\n",
      batch, step_us[step_us.size() / 2], steps);
  {
    // The same call repeated at the last decode positions, with and without the range check.
    std::vector<std::int64_t> last_positions(batch);
    for (int b = 0; b < batch; ++b) last_positions[b] = length[b] - 1;
    const Index offsets = device_index(last_positions, "offsets");
    const double unchecked = krope_example::median_seconds(space, 21, [&] {
      krope::apply(space, table, q_step, k_step, krope::sequence_offsets{offsets, false});
    });
    const double checked = krope_example::median_seconds(space, 21, [&] {
      krope::apply(space, table, q_step, k_step, krope::sequence_offsets{offsets});
    });
    std::printf(
        "  repeated x21: %.1f us with check_range = false, %.1f us with the range check "
        "(a reduction and a host sync)\n",
        unchecked * 1e6, checked * 1e6);
  }

  // ---- Checks. ----
  std::printf("\nchecks:\n");
  auto valid_tokens = [&](const Tokens& x, bool left_padded) {
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), x);
    std::vector<double> values;
    for (int b = 0; b < batch; ++b)
      for (std::int64_t t = 0; t < length[b]; ++t)
        for (std::size_t h = 0; h < x.extent(2); ++h)
          for (int d = 0; d < dim; ++d)
            values.push_back(host(b, left_padded ? max_len - length[b] + t : t, h, d));
    return values;
  };
  const double out_error = krope_example::relative_error(valid_tokens(out_incremental, false),
                                                         valid_tokens(out_one_shot, false));
  checks.expect(out_error <= 1e-6, "decoded attention outputs equal the one-shot prefill (rel. " +
                                       format("%.1e", out_error) + " <= 1e-6)");
  const std::vector<double> cached = valid_tokens(k_cache, false);
  const double cache_error = krope_example::relative_error(cached, valid_tokens(k_full, true));
  checks.expect(cache_error <= 1e-6,
                "k cache (varlen + sequence_offsets) equals one-shot k (position_ids) (rel. " +
                    format("%.1e", cache_error) + ")");
  // And both are RoPE at the right positions: the cache against the fp64 reference.
  std::vector<std::int64_t> positions;
  for (int b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < length[b]; ++t) positions.insert(positions.end(), k_heads, t);
  const double ref_error = krope_example::relative_error(
      cached, krope_example::reference_rope(config, valid_tokens(raw_k, false), positions));
  checks.expect(ref_error <= 5e-8,
                "k cache equals the fp64 reference RoPE at positions 0..len-1 "
                "(rel. " +
                    format("%.1e", ref_error) + " <= 5e-8)");
  return checks.exit_code();
}
