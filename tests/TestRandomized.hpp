// Randomized differential test. Thousands of random valid calls per backend (element type, head
// size 2..512, partial rotary, both pairings, every position mode, table and table-free, in place,
// out of place and half in place, LayoutRight, LayoutLeft, padded LayoutStride, q/k head slices
// of a fused qkv buffer, both kernels where the backend has two) against the fp64 host reference
// krope::reference_rope (lib/src/reference.cpp: long-double angles and std::cos/sin, no kernel
// code; it shares only the inverse frequencies of krope::spectrum, which test_spectrum.cpp checks
// against transformers), with outputs poisoned first and every byte outside the outputs checked
// unchanged. Then random invalid calls: each must throw std::invalid_argument naming the flaw and
// leave every buffer bit for bit as it was.
//
// Seeded: the seed is printed; KROPE_RANDOM_SEED=<n> replays a run, KROPE_RANDOM_CASES=<n> sets
// the valid cases per element type (default 750; invalid calls: a seventh of that).

#include "support/apply_case.hpp"
#include "support/kernel_log.hpp"
#include "support/operand_arena.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace krope;
using namespace krope::test;
using Space = TEST_EXECSPACE;
using Memory = Space::memory_space;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}
std::uint64_t run_seed() { return env_or("KROPE_RANDOM_SEED", 20240521); }
int valid_cases() { return static_cast<int>(env_or("KROPE_RANDOM_CASES", 750)); }
int invalid_cases() { return std::max(1, valid_cases() / 7); }

/// splitmix64: independent, reproducible seeds for each test and case from one run seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}
bool chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

enum class Mode { contiguous, sequence_offsets, position_ids, varlen };
enum class ViewLayout { right, left, stride };
enum class Outputs { in_place, out_of_place, q_in_place, k_in_place };
const char* name_of(Mode m) {
  const char* names[] = {"contiguous", "sequence_offsets", "position_ids", "varlen"};
  return names[int(m)];
}
const char* name_of(ViewLayout l) {
  const char* names[] = {"LayoutRight", "LayoutLeft", "LayoutStride"};
  return names[int(l)];
}
const char* name_of(Outputs o) {
  const char* names[] = {"in place", "out of place", "q in place", "k in place"};
  return names[int(o)];
}

/// One call: the rotation, the positions (host values), the operands' placements in two arenas
/// (0 holds q and k, 1 the separate outputs), and what the call must do.
struct Case {
  std::uint64_t seed = 0;
  Config config;
  bool table = true;
  std::int64_t table_positions = 0;  ///< table size (table cases)
  Mode mode = Mode::contiguous;
  bool check_range = true;
  std::int64_t batch = 0, seq = 0;  ///< [batch][seq] data; varlen: batch sequences of cu_seqlens
  int q_heads = 1, k_heads = 1;
  std::int64_t offset = 0;
  std::vector<std::int64_t> offsets, ids, cu_seqlens;  ///< ids [ids_rows][ids_cols]
  std::int64_t ids_rows = 0, ids_cols = 0;
  ViewLayout layout = ViewLayout::right;
  Outputs outputs = Outputs::in_place;
  Direction direction = Direction::forward;
  Impl::KernelChoice kernel = Impl::KernelChoice::best;
  bool empty_table = false;
  Placement q, k, q_out, k_out;
  std::size_t arena_size[2] = {0, 0};
  std::string placement_kind;

  int rank() const { return mode == Mode::varlen ? 3 : 4; }
  std::int64_t rows() const { return mode == Mode::varlen ? cu_seqlens.back() : batch * seq; }
  /// The position of every row (token) of q and k, [batch][seq] or packed order.
  std::vector<std::int64_t> row_positions() const {
    std::vector<std::int64_t> out;
    if (mode == Mode::varlen) {
      for (std::size_t b = 0; b + 1 < cu_seqlens.size(); ++b)
        for (std::int64_t t = 0; t < cu_seqlens[b + 1] - cu_seqlens[b]; ++t)
          out.push_back(t + (offsets.empty() ? 0 : offsets[b]));
      return out;
    }
    for (std::int64_t b = 0; b < batch; ++b)
      for (std::int64_t t = 0; t < seq; ++t)
        out.push_back(mode == Mode::contiguous         ? t + offset
                      : mode == Mode::sequence_offsets ? t + offsets[b]
                                                       : ids[b * seq + t]);
    return out;
  }
  std::string describe() const {
    std::ostringstream s;
    s << "case seed " << seed << ": head_dim " << config.head_dim << " rotary_dim "
      << config.rotary_dim
      << (config.pairing == Pairing::half_split ? " half_split" : " interleaved") << " theta "
      << config.theta << " scaling " << int(config.scaling.kind) << ", "
      << (table ? "table of " + std::to_string(table_positions) : std::string("table-free")) << ", "
      << name_of(mode) << (check_range ? "" : " unchecked") << ", batch " << batch << " seq " << seq
      << " heads " << q_heads << "/" << k_heads << ", " << name_of(layout) << " (" << placement_kind
      << "), " << name_of(outputs) << (direction == Direction::forward ? ", forward" : ", backward")
      << (kernel == Impl::KernelChoice::portable ? ", portable kernel" : ", best kernel");
    if (mode == Mode::contiguous) s << ", offset " << offset;
    auto list = [&](const char* name, const std::vector<std::int64_t>& v) {
      s << ", " << name << " {";
      for (std::size_t i = 0; i < v.size() && i < 16; ++i) s << (i ? ", " : "") << v[i];
      s << (v.size() > 16 ? ", ...}" : "}");
    };
    if (!offsets.empty()) list("offsets", offsets);
    if (!cu_seqlens.empty()) list("cu_seqlens", cu_seqlens);
    if (!ids.empty()) list("ids", ids);
    return s.str();
  }
};

std::vector<std::size_t> q_extent(const Case& c, int heads) {
  const std::size_t d = c.config.head_dim;
  if (c.rank() == 3) return {std::size_t(c.rows()), std::size_t(heads), d};
  return {std::size_t(c.batch), std::size_t(c.seq), std::size_t(heads), d};
}

/// Places q and k in arena 0 and the separate outputs the case asks for in arena 1: natural
/// strides for LayoutRight / LayoutLeft, padded strides or fused head slices for LayoutStride.
void place_operands(Case& c, std::mt19937_64& rng, std::size_t element_size) {
  ArenaPlanner planner(rng, element_size, 2);
  auto place_pair = [&](int arena, Placement& a, Placement& b, const char* what) {
    const auto ea = q_extent(c, c.q_heads), eb = q_extent(c, c.k_heads);
    std::string kind;
    if (c.layout != ViewLayout::stride) {
      a = planner.natural(arena, ea, c.layout == ViewLayout::right);
      b = planner.natural(arena, eb, c.layout == ViewLayout::right);
      kind = "natural";
    } else if (chance(rng, 0.5)) {
      std::tie(a, b) = planner.fused(arena, ea, c.k_heads, chance(rng, 0.5) ? c.k_heads : 0);
      kind = "fused";
    } else {
      a = planner.padded(arena, ea);
      b = planner.padded(arena, eb);
      kind = "padded";
    }
    c.placement_kind += std::string(c.placement_kind.empty() ? "" : ", ") + what + " " + kind;
  };
  c.placement_kind.clear();
  place_pair(0, c.q, c.k, "inputs");
  c.q_out = c.q;
  c.k_out = c.k;
  if (c.outputs != Outputs::in_place) {
    Placement q_out, k_out;
    place_pair(1, q_out, k_out, "outputs");
    if (c.outputs != Outputs::q_in_place) c.q_out = q_out;
    if (c.outputs != Outputs::k_in_place) c.k_out = k_out;
  }
  c.arena_size[0] = planner.size(0);
  c.arena_size[1] = planner.size(1);
}

/// A random valid call for element type T. Each of q and k gets at least `min_rotated` rotated
/// elements, so that one case's norm-wise error is a fair sample of the kernel's rounding.
template <class T>
Case draw_case(std::uint64_t seed, std::int64_t min_rotated) {
  constexpr bool fp64 = std::is_same<T, double>::value;
  std::mt19937_64 rng(seed);
  Case c;
  c.seed = seed;
  const int band = static_cast<int>(uniform(rng, 0, 9));  // most heads small: cheap cases
  const int d = 2 * static_cast<int>(band < 6   ? uniform(rng, 1, 32)
                                     : band < 9 ? uniform(rng, 33, 128)
                                                : uniform(rng, 129, 256));
  c.config.head_dim = d;
  c.config.rotary_dim = chance(rng, 0.5) ? 0 : 2 * static_cast<int>(uniform(rng, 1, d / 2));
  c.config.pairing = chance(rng, 0.5) ? Pairing::half_split : Pairing::interleaved;
  c.config.theta = std::pow(10.0, std::uniform_real_distribution<double>(2, 6)(rng));
  if (chance(rng, 0.2)) {
    c.config.scaling.kind = Scaling::Kind::linear;
    c.config.scaling.factor = std::uniform_real_distribution<double>(1, 8)(rng);
  }
  c.table = chance(rng, 0.5);
  c.mode = static_cast<Mode>(uniform(rng, 0, 3));
  c.check_range = c.mode == Mode::contiguous || chance(rng, 0.8);
  c.q_heads = static_cast<int>(uniform(rng, 1, 4));
  c.k_heads = static_cast<int>(uniform(rng, 1, 4));
  const std::int64_t rotated = c.config.rotated_lanes() * std::min(c.q_heads, c.k_heads);
  const std::int64_t rows = (min_rotated + rotated - 1) / rotated + uniform(rng, 0, 6);

  // Token counts first: the positions' window must hold the longest sequence.
  std::vector<std::int64_t> lengths;
  if (c.mode == Mode::varlen) {
    c.batch = uniform(rng, 1, 4);
    std::vector<std::int64_t> cuts{0, rows};
    for (std::int64_t b = 1; b < c.batch; ++b)
      cuts.push_back(chance(rng, 0.2) ? cuts[cuts.size() - 1] : uniform(rng, 0, rows));
    std::sort(cuts.begin(), cuts.end());
    c.cu_seqlens = cuts;
    for (std::int64_t b = 0; b < c.batch; ++b) lengths.push_back(cuts[b + 1] - cuts[b]);
  } else {
    c.batch = uniform(rng, 1, 3);
    c.seq = (rows + c.batch - 1) / c.batch;
    lengths.assign(c.batch, c.seq);
  }
  const std::int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  const std::int64_t need = std::max<std::int64_t>(1, c.mode == Mode::position_ids ? 1 : longest);

  // Positions lie in [lo, hi). Tables stay small (at most 2^14 entries beyond the need); the
  // table-free window sits at the bottom, the top (2^24, the last served position) or anywhere
  // between. fp64 data stays below 2^13: its bound (5e-13) is the fp64 angle's own rounding,
  // pos * 2^-53, spread over the frequencies; with head_dim 2 (one frequency, 1) it reaches
  // 5.3e-13 at 15389, inside the 2^14 the README quotes.
  std::int64_t lo = 0, hi = 0;
  if (c.table) {
    const std::int64_t cap =
        std::max(need, std::min<std::int64_t>(4096, 16384 * 2 / c.config.rotated_lanes()));
    c.table_positions = uniform(rng, need, cap);
    hi = c.table_positions;
  } else {
    const std::int64_t top = fp64 ? std::int64_t(1) << 13 : Frequencies<Memory>::max_positions();
    const std::int64_t width = uniform(rng, need, 4 * need + 64);
    const int where = static_cast<int>(uniform(rng, 0, 2));
    lo = where == 0 ? 0 : where == 1 ? top - width : uniform(rng, 0, top - width);
    hi = lo + width;
  }
  // A start for a run of `length` tokens inside the window, often at either end.
  auto start = [&](std::int64_t length) {
    const int edge = static_cast<int>(uniform(rng, 0, 5));
    return edge == 0 ? lo : edge == 1 ? hi - length : uniform(rng, lo, hi - length);
  };
  switch (c.mode) {
    case Mode::contiguous:
      c.offset = start(c.seq);
      break;
    case Mode::sequence_offsets:
      for (std::int64_t b = 0; b < c.batch; ++b) c.offsets.push_back(start(c.seq));
      break;
    case Mode::position_ids:
      c.ids_rows = c.batch;
      c.ids_cols = c.seq;
      for (std::int64_t i = 0; i < c.batch * c.seq; ++i) c.ids.push_back(uniform(rng, lo, hi - 1));
      if (chance(rng, 0.5)) c.ids[uniform(rng, 0, c.ids.size() - 1)] = hi - 1;
      if (chance(rng, 0.5)) c.ids[uniform(rng, 0, c.ids.size() - 1)] = lo;
      break;
    case Mode::varlen:
      if (chance(rng, 0.75))  // else no offsets: token t at position t
        for (std::int64_t b = 0; b < c.batch; ++b) c.offsets.push_back(start(lengths[b]));
      break;
  }
  c.layout = static_cast<ViewLayout>(uniform(rng, 0, 2));
  c.outputs = static_cast<Outputs>(uniform(rng, 0, 3));
  c.direction = chance(rng, 0.5) ? Direction::forward : Direction::backward;
  c.kernel = chance(rng, 0.5) ? Impl::KernelChoice::best : Impl::KernelChoice::portable;
  place_operands(c, rng, sizeof(T));
  return c;
}

// ---------------------------------------------------------------------------------------------
// Running a case

template <class T>
using Arena = Kokkos::View<T*, Memory>;
template <class T>
using HostArena = typename Arena<T>::HostMirror;

template <class T>
HostArena<T> snapshot(const Arena<T>& arena) {
  HostArena<T> host = Kokkos::create_mirror(arena);  // always a copy, also for host memory
  Kokkos::deep_copy(host, arena);
  return host;
}

template <class T>
std::vector<double> gather(const HostArena<T>& arena, const Placement& p) {
  std::vector<double> out(p.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = to_double(arena(p.index(i)));
  return out;
}

/// The position Views of a case, on the device.
struct DevicePositions {
  Kokkos::View<std::int64_t*, Memory> offsets, cu_seqlens;
  Kokkos::View<std::int64_t**, Memory> ids;
  explicit DevicePositions(const Case& c)
      : offsets(device_copy<Memory>(c.offsets, "offsets")),
        cu_seqlens(device_copy<Memory>(c.cu_seqlens, "cu_seqlens")),
        ids("ids", c.ids_rows, c.ids_cols) {
    auto host = Kokkos::create_mirror_view(ids);
    for (std::int64_t b = 0; b < c.ids_rows; ++b)
      for (std::int64_t t = 0; t < c.ids_cols; ++t) host(b, t) = c.ids[b * c.ids_cols + t];
    Kokkos::deep_copy(ids, host);
  }
  /// Host copies of every position View, to prove a rejected call left them alone.
  std::vector<std::int64_t> values() const {
    std::vector<std::int64_t> out;
    auto o = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), offsets);
    auto cu = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), cu_seqlens);
    auto i = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), ids);
    for (std::size_t n = 0; n < o.extent(0); ++n) out.push_back(o(n));
    for (std::size_t n = 0; n < cu.extent(0); ++n) out.push_back(cu(n));
    for (std::size_t b = 0; b < i.extent(0); ++b)
      for (std::size_t t = 0; t < i.extent(1); ++t) out.push_back(i(b, t));
    return out;
  }
};

template <class Rotary, class Positions, class V>
void call_with(const Rotary& rotary, const Case& c, const Positions& positions, const V& q,
               const V& k, const V& q_out, const V& k_out) {
  const Space space;
  if (c.kernel == Impl::KernelChoice::portable)
    Impl::apply_rotary<Impl::KernelChoice::portable>(space, rotary, q, k, q_out, k_out, positions,
                                                     c.direction);
  else if (c.outputs == Outputs::in_place)
    krope::apply(space, rotary, q, k, positions, c.direction);
  else
    krope::apply(space, rotary, q, k, q_out, k_out, positions, c.direction);
  space.fence();
}

template <class Rotary, class V>
void call(const Rotary& rotary, const Case& c, const DevicePositions& d, const V& q, const V& k,
          const V& q_out, const V& k_out) {
  if constexpr (V::rank == 3) {
    if (c.offsets.empty())
      call_with(rotary, c, krope::varlen<Memory>{d.cu_seqlens, {}, c.check_range}, q, k, q_out,
                k_out);
    else
      call_with(rotary, c, krope::varlen{d.cu_seqlens, d.offsets, c.check_range}, q, k, q_out,
                k_out);
  } else if (c.mode == Mode::contiguous) {
    call_with(rotary, c, krope::contiguous{c.offset}, q, k, q_out, k_out);
  } else if (c.mode == Mode::sequence_offsets) {
    call_with(rotary, c, krope::sequence_offsets{d.offsets, c.check_range}, q, k, q_out, k_out);
  } else {
    call_with(rotary, c, krope::position_ids{d.ids, c.check_range}, q, k, q_out, k_out);
  }
}

/// Runs case `c` as Views of Layout and rank Rank on arenas that `prepare` filled; returns the
/// kernels that ran. Throws what krope::apply throws.
template <class T, class Layout, int Rank>
std::vector<std::string> run_on(const Case& c, const Arena<T> (&arena)[2],
                                const DevicePositions& positions) {
  const auto view = [&](const Placement& p) {
    return unmanaged_view<Layout, Rank>(arena[p.arena], p);
  };
  const auto q = view(c.q), k = view(c.k), q_out = view(c.q_out), k_out = view(c.k_out);
  KernelLog log;
  if (c.table) {
    using Real = table_real_t<T>;
    const auto table = c.empty_table ? Table<Memory, Real>()
                                     : make_table<Memory, Real>(c.config, c.table_positions);
    call(table, c, positions, q, k, q_out, k_out);
  } else {
    call(make_frequencies<Memory>(c.config), c, positions, q, k, q_out, k_out);
  }
  return log.kernels();
}

template <class T>
std::vector<std::string> run(const Case& c, const Arena<T> (&arena)[2],
                             const DevicePositions& positions) {
  const bool packed = c.rank() == 3;
  switch (c.layout) {
    case ViewLayout::right:
      return packed ? run_on<T, Kokkos::LayoutRight, 3>(c, arena, positions)
                    : run_on<T, Kokkos::LayoutRight, 4>(c, arena, positions);
    case ViewLayout::left:
      return packed ? run_on<T, Kokkos::LayoutLeft, 3>(c, arena, positions)
                    : run_on<T, Kokkos::LayoutLeft, 4>(c, arena, positions);
    default:
      return packed ? run_on<T, Kokkos::LayoutStride, 3>(c, arena, positions)
                    : run_on<T, Kokkos::LayoutStride, 4>(c, arena, positions);
  }
}

/// Arena 0 gets Gaussian values (q, k and everything between them), arena 1 NaN poison.
template <class T>
void prepare(const Case& c, Arena<T> (&arena)[2]) {
  std::mt19937_64 rng(mix(c.seed));
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int a = 0; a < 2; ++a) {
    arena[a] = Arena<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "arena"), c.arena_size[a]);
    auto host = Kokkos::create_mirror_view(arena[a]);
    for (std::size_t i = 0; i < host.extent(0); ++i)
      host(i) = a == 0 ? from_double<T>(normal(rng)) : poison_value<T>();
    Kokkos::deep_copy(arena[a], host);
  }
}

template <class T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

/// Every element of both arenas outside `written` (the outputs' elements) kept its bits.
template <class T>
void expect_untouched(const HostArena<T> (&before)[2], const HostArena<T> (&after)[2],
                      const std::vector<const Placement*>& written) {
  for (int a = 0; a < 2; ++a) {
    std::vector<bool> output(before[a].extent(0), false);
    for (const Placement* p : written)
      if (p->arena == a)
        for (std::size_t i = 0; i < p->size(); ++i) output[p->index(i)] = true;
    for (std::size_t i = 0; i < output.size(); ++i)
      if (!output[i] && !same_bits(before[a](i), after[a](i))) {
        ADD_FAILURE() << "arena " << a << " element " << i << " changed, outside the outputs";
        return;
      }
  }
}

// ---------------------------------------------------------------------------------------------
// Valid calls

struct Tally {
  int cases = 0;
  std::map<std::string, int> kernels;
  RelativeError error;
  double worst_of_bound = 0;  ///< largest single-case error / its bound
};

template <class T>
void check_valid(const Case& c, Tally& tally) {
  SCOPED_TRACE(c.describe());
  Arena<T> arena[2];
  prepare(c, arena);
  const DevicePositions positions(c);
  const HostArena<T> before[2] = {snapshot(arena[0]), snapshot(arena[1])};
  std::vector<std::string> ran;
  try {
    ran = run<T>(c, arena, positions);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "valid call threw: " << e.what();
    return;
  }
  const HostArena<T> after[2] = {snapshot(arena[0]), snapshot(arena[1])};
  if (c.kernel == Impl::KernelChoice::portable)
    EXPECT_EQ(ran, std::vector<std::string>{"portable"});
  ASSERT_EQ(ran.size(), 1u) << "one kernel per call";
  ++tally.kernels[ran[0]];

  const Spectrum s = spectrum(c.config, c.table ? c.table_positions : 0);
  const std::vector<std::int64_t> rows = c.row_positions();
  const int d = c.config.head_dim, r = c.config.rotated_lanes();
  const double case_bound = sizeof(T) == 2 ? 1.5 * error_bound<T>() : error_bound<T>();
  for (const auto& [in, out, heads] :
       {std::tuple{&c.q, &c.q_out, c.q_heads}, std::tuple{&c.k, &c.k_out, c.k_heads}}) {
    const std::vector<double> x = gather<T>(before[in->arena], *in);
    const std::vector<double> y = gather<T>(after[out->arena], *out);
    const std::vector<double> ref =
        reference_rope(c.config, s, x, per_head(rows, heads), c.direction);
    const double error = relative_error(y, ref);  // infinite where an output stayed poisoned
    ASSERT_LE(error, case_bound) << (in == &c.q ? "q" : "k");
    tally.error.add(y, ref);
    tally.worst_of_bound = std::max(tally.worst_of_bound, error / case_bound);
    for (std::size_t row = 0; row < x.size() / d; ++row)
      for (int lane = r; lane < d; ++lane)  // pass-through lanes: copied exactly
        ASSERT_EQ(y[row * d + lane], x[row * d + lane]) << "lane " << lane;
  }
  expect_untouched<T>(before, after, {&c.q_out, &c.k_out});
  ++tally.cases;
}

template <class T>
void random_valid_calls() {
  const std::uint64_t seed = run_seed();
  const int count = valid_cases();
  std::printf("[krope] randomized valid calls, %s: KROPE_RANDOM_SEED=%llu, %d cases\n",
              type_name<T>(), static_cast<unsigned long long>(seed), count);
  const std::uint64_t stream = mix(seed ^ mix(sizeof(T) * 2 + std::is_same<T, bfloat16>::value));
  Tally tally;
  for (int i = 0; i < count; ++i) {
    const Case c = draw_case<T>(mix(stream + i), 512);
    check_valid<T>(c, tally);
    if (::testing::Test::HasFailure()) {
      std::printf("[krope] first failing case: #%d, %s\n", i, c.describe().c_str());
      break;
    }
  }
  EXPECT_EQ(tally.cases, count);
  EXPECT_LE(tally.error.relative(), error_bound<T>());
  std::printf(
      "[krope]   %d cases passed; relative error over all %.3e (bound %.1e); worst case at "
      "%.2f of its bound; kernels:",
      tally.cases, tally.error.relative(), error_bound<T>(), tally.worst_of_bound);
  for (const auto& [kernel, n] : tally.kernels) std::printf(" %s %d", kernel.c_str(), n);
  std::printf("\n");
#if defined(KOKKOS_ENABLE_CUDA)
  if constexpr (std::is_same<Space, Kokkos::Cuda>::value) {  // both kernels took cases
    EXPECT_GT(tally.kernels["cuda_vec16"], 0);
    EXPECT_GT(tally.kernels["portable"], 0);
  }
#endif
}

TEST(TEST_CATEGORY, random_valid_calls_float) { random_valid_calls<float>(); }
TEST(TEST_CATEGORY, random_valid_calls_double) { random_valid_calls<double>(); }
TEST(TEST_CATEGORY, random_valid_calls_bfloat16) { random_valid_calls<krope::bfloat16>(); }
TEST(TEST_CATEGORY, random_valid_calls_float16) { random_valid_calls<krope::float16>(); }

// ---------------------------------------------------------------------------------------------
// Invalid calls

bool same(const Placement& a, const Placement& b) {
  return a.arena == b.arena && a.offset == b.offset && a.extent == b.extent && a.stride == b.stride;
}

/// A new placement at the end of `arena`, with the strides the case's View type takes.
Placement fresh(Case& c, int arena, const std::vector<std::size_t>& extent) {
  Placement p{arena, c.arena_size[arena], extent, std::vector<std::size_t>(extent.size())};
  std::size_t stride = 1;
  for (std::size_t n = 0; n < extent.size(); ++n) {
    const std::size_t i = c.layout == ViewLayout::left ? n : extent.size() - 1 - n;
    p.stride[i] = stride;
    stride *= extent[i];
  }
  c.arena_size[arena] = p.offset + p.footprint() + 8;
  return p;
}

/// `p` moved by one step along a dimension with at least two entries (head_dim always has): the
/// two share elements without being the same View.
Placement shifted(Case& c, const Placement& p, std::mt19937_64& rng) {
  std::vector<std::size_t> dims;
  for (std::size_t i = 0; i < p.extent.size(); ++i)
    if (p.extent[i] >= 2) dims.push_back(i);
  Placement moved = p;
  moved.offset += p.stride[dims[uniform(rng, 0, dims.size() - 1)]];
  c.arena_size[p.arena] = std::max(c.arena_size[p.arena], moved.offset + moved.footprint() + 8);
  return moved;
}

struct Flawed {
  Case c;
  std::string flaw, needle;  ///< what is wrong; what the message must name
};

/// A flaw in the positions of `c`: out of range (past the end, negative, at the int64 edges),
/// or malformed (wrong counts, bad cu_seqlens).
void flaw_positions(Flawed& f, std::mt19937_64& rng) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  Case& c = f.c;
  c.check_range = true;
  const std::int64_t limit = c.table ? c.table_positions : Frequencies<Memory>::max_positions();
  // A first position that puts a run of `length` >= 1 tokens outside [0, limit).
  auto bad_start = [&](std::int64_t length) -> std::int64_t {
    switch (uniform(rng, 0, 5)) {
      case 0:
        return limit - length + uniform(rng, 1, 3);
      case 1:
        return limit + uniform(rng, 0, 1000);
      case 2:
        return max - uniform(rng, 0, length);
      case 3:
        return -uniform(rng, 1, 3);
      case 4:
        return min + uniform(rng, 0, 2);
      default:
        return max;
    }
  };
  const bool malformed = chance(rng, 0.35);
  switch (c.mode) {
    case Mode::contiguous:
      c.offset = bad_start(c.seq);
      f.flaw = "contiguous offset " + std::to_string(c.offset);
      f.needle = "contiguous offset";
      return;
    case Mode::sequence_offsets:
      if (malformed) {
        c.offsets.resize(c.batch + uniform(rng, 1, 2), 0);
        f.flaw = f.needle = "sequence_offsets has " + std::to_string(c.offsets.size()) + " entries";
      } else {
        c.offsets[uniform(rng, 0, c.batch - 1)] = bad_start(c.seq);
        f.flaw = f.needle = "sequence_offsets";
      }
      return;
    case Mode::position_ids:
      if (malformed) {
        (chance(rng, 0.5) ? c.ids_rows : c.ids_cols) += chance(rng, 0.5) ? 1 : -1;
        c.ids.assign(c.ids_rows * c.ids_cols, 0);
        f.flaw = f.needle = "position_ids is [" + std::to_string(c.ids_rows) + "][" +
                            std::to_string(c.ids_cols) + "]";
      } else {
        const std::int64_t bad[] = {limit + uniform(rng, 0, 3), max - uniform(rng, 0, 3),
                                    -uniform(rng, 1, 3), min + uniform(rng, 0, 3)};
        c.ids[uniform(rng, 0, c.ids.size() - 1)] = bad[uniform(rng, 0, 3)];
        f.flaw = f.needle = "position_ids";
      }
      return;
    case Mode::varlen:
      break;
  }
  std::vector<std::int64_t> busy;  // sequences with tokens
  for (std::int64_t b = 0; b < c.batch; ++b)
    if (c.cu_seqlens[b + 1] > c.cu_seqlens[b]) busy.push_back(b);
  const std::int64_t last_length = c.cu_seqlens[c.batch] - c.cu_seqlens[c.batch - 1];
  switch (malformed ? uniform(rng, 0, 3) : 4) {
    case 0:
      c.cu_seqlens[0] = uniform(rng, 1, 3);
      f.flaw = f.needle = "cu_seqlens must start at 0";
      return;
    case 1: {
      const std::int64_t i = uniform(rng, 1, c.batch);
      c.cu_seqlens[i] = c.cu_seqlens[i - 1] - uniform(rng, 1, 3);
      f.flaw = f.needle = "cu_seqlens must be non-decreasing";
      return;
    }
    case 2:
      if (last_length > 0) {
        c.cu_seqlens[c.batch] -= uniform(rng, 1, last_length);
        f.flaw = f.needle = "cu_seqlens ends at " + std::to_string(c.cu_seqlens[c.batch]);
        return;
      }
      [[fallthrough]];
    case 3:
      c.offsets.assign(c.batch > 1 && chance(rng, 0.5) ? c.batch - 1 : c.batch + 1, 0);
      f.flaw = f.needle = "varlen offsets has " + std::to_string(c.offsets.size()) + " entries";
      return;
    default: {
      if (c.offsets.empty()) c.offsets.assign(c.batch, 0);
      const std::int64_t b = busy[uniform(rng, 0, busy.size() - 1)];
      c.offsets[b] = bad_start(c.cu_seqlens[b + 1] - c.cu_seqlens[b]);
      f.flaw = f.needle = "varlen sequence " + std::to_string(b);
      return;
    }
  }
}

/// A random invalid call: a valid case with one flaw.
template <class T>
Flawed draw_flawed(std::uint64_t seed) {
  Flawed f{draw_case<T>(seed, 1), "", ""};
  Case& c = f.c;
  std::mt19937_64 rng(mix(seed + 1));
  const int heads_dim = c.rank() - 2, dim = c.rank() - 1;
  // Separate outputs (arena 1) for the flaws that need them.
  auto separate_q_out = [&] {
    if (same(c.q_out, c.q)) c.q_out = fresh(c, 1, c.q.extent);
  };
  auto separate_k_out = [&] {
    if (same(c.k_out, c.k)) c.k_out = fresh(c, 1, c.k.extent);
  };
  // k (and k_out) shaped like q, so that one can alias the other.
  auto k_like_q = [&] {
    if (c.k.extent == c.q.extent) return;
    const bool k_in_place = same(c.k_out, c.k);
    c.k = fresh(c, 0, c.q.extent);
    c.k_out = k_in_place ? c.k : fresh(c, 1, c.q.extent);
    c.k_heads = c.q_heads;
  };
  switch (uniform(rng, 0, 9)) {
    case 0:
      if (c.table) {
        c.empty_table = true;
        f.flaw = f.needle = "table is empty";
        break;
      }
      [[fallthrough]];
    case 1:
    case 2:
    case 3:
      flaw_positions(f, rng);
      break;
    case 4: {
      Placement& p = chance(rng, 0.5) ? c.q : c.k;
      auto extent = p.extent;
      extent[dim] += extent[dim] > 2 && chance(rng, 0.5) ? -2 : 2;
      p = fresh(c, 0, extent);
      f.flaw = (&p == &c.q ? "q " : "k ") + std::string("head_dim ") + std::to_string(extent[dim]);
      f.needle = "head_dim";
      break;
    }
    case 5: {
      auto extent = c.k.extent;
      extent[uniform(rng, 0, heads_dim - 1)] += 1;
      c.k = fresh(c, 0, extent);
      f.flaw = "k's batch or seq (tokens) differs from q's";
      f.needle = "batch and seq";
      break;
    }
    case 6: {
      const bool q_side = chance(rng, 0.5);
      Placement& out = q_side ? c.q_out : c.k_out;
      auto extent = (q_side ? c.q : c.k).extent;
      const std::size_t i = uniform(rng, 0, extent.size() - 1);
      extent[i] = extent[i] > 1 && chance(rng, 0.5) ? extent[i] - 1 : extent[i] + 1;
      out = fresh(c, 1, extent);
      f.flaw = f.needle = q_side ? "q_out is" : "k_out is";
      break;
    }
    case 7:  // an output partially over its own input
      if (chance(rng, 0.5)) {
        c.q_out = shifted(c, c.q, rng);
        f.flaw = f.needle = "q_out partially overlaps q";
      } else {
        c.k_out = shifted(c, c.k, rng);
        f.flaw = f.needle = "k_out partially overlaps k";
      }
      break;
    default: {  // a q-side operand sharing memory with a k-side one, exactly or partially
      k_like_q();
      const bool exact = chance(rng, 0.5);
      // The aliased operand lands exactly on `target` or one step off it; the partial case first
      // moves `target` to the end of its arena so that the step runs into nothing else.
      auto alias = [&](Placement& target) {
        if (!exact) target = fresh(c, target.arena, target.extent);
        return exact ? target : shifted(c, target, rng);
      };
      const char* pairs[] = {"q and k", "q_out and k_out", "q_out and k", "k_out and q"};
      const char* partial[] = {"q partially overlaps k", "q_out partially overlaps k_out",
                               "q_out partially overlaps k (", "k_out partially overlaps q"};
      const int pair = static_cast<int>(uniform(rng, 0, 3));
      switch (pair) {
        case 0: {
          const bool q_in_place = same(c.q_out, c.q), k_in_place = same(c.k_out, c.k);
          c.k = alias(c.q);
          if (q_in_place) c.q_out = c.q;
          if (k_in_place) c.k_out = c.k;
          break;
        }
        case 1:
          separate_q_out();
          separate_k_out();
          c.k_out = alias(c.q_out);
          break;
        case 2:
          separate_k_out();  // else q_out would alias k_out first
          c.q_out = alias(c.k);
          break;
        default:
          separate_q_out();  // else k_out would alias q_out first
          c.k_out = alias(c.q);
          break;
      }
      f.flaw = std::string(pairs[pair]) + (exact ? " exactly aliased" : " partially overlapping");
      f.needle = exact ? std::string(pairs[pair]) + " are the same memory" : partial[pair];
      break;
    }
  }
  c.outputs = same(c.q_out, c.q) && same(c.k_out, c.k) ? Outputs::in_place : Outputs::out_of_place;
  return f;
}

template <class T>
void check_invalid(const Flawed& f, std::map<std::string, int>& tally) {
  SCOPED_TRACE(f.c.describe() + "; flaw: " + f.flaw);
  Arena<T> arena[2];
  prepare(f.c, arena);
  const DevicePositions positions(f.c);
  const HostArena<T> before[2] = {snapshot(arena[0]), snapshot(arena[1])};
  const std::vector<std::int64_t> positions_before = positions.values();
  try {
    run<T>(f.c, arena, positions);
    ADD_FAILURE() << "accepted; expected std::invalid_argument naming '" << f.needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(f.needle), std::string::npos)
        << "message '" << e.what() << "' does not name '" << f.needle << "'";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw something other than std::invalid_argument: " << e.what();
  }
  Space().fence();
  const HostArena<T> after[2] = {snapshot(arena[0]), snapshot(arena[1])};
  expect_untouched<T>(before, after, {});  // nothing written, not even the outputs
  EXPECT_EQ(positions.values(), positions_before);
  const std::string kind = f.needle.substr(0, f.needle.find_first_of(" ("));
  ++tally[f.needle.find("partially") != std::string::npos     ? "partial overlap"
          : f.needle.find("same memory") != std::string::npos ? "aliased"
                                                              : kind];
}

template <class T>
void random_invalid_calls() {
  const std::uint64_t seed = run_seed();
  const int count = invalid_cases();
  std::printf("[krope] randomized invalid calls, %s: KROPE_RANDOM_SEED=%llu, %d calls\n",
              type_name<T>(), static_cast<unsigned long long>(seed), count);
  const std::uint64_t stream = mix(~seed ^ mix(sizeof(T) * 2 + std::is_same<T, bfloat16>::value));
  std::map<std::string, int> tally;
  for (int i = 0; i < count; ++i) {
    const Flawed f = draw_flawed<T>(mix(stream + i));
    check_invalid<T>(f, tally);
    if (::testing::Test::HasFailure()) {
      std::printf("[krope] first failing call: #%d, %s; flaw: %s\n", i, f.c.describe().c_str(),
                  f.flaw.c_str());
      break;
    }
  }
  std::printf("[krope]   rejected, by what the message names:");
  for (const auto& [kind, n] : tally) std::printf(" %s %d,", kind.c_str(), n);
  std::printf("\n");
}

TEST(TEST_CATEGORY, random_invalid_calls_float) { random_invalid_calls<float>(); }
TEST(TEST_CATEGORY, random_invalid_calls_double) { random_invalid_calls<double>(); }
TEST(TEST_CATEGORY, random_invalid_calls_bfloat16) { random_invalid_calls<krope::bfloat16>(); }
TEST(TEST_CATEGORY, random_invalid_calls_float16) { random_invalid_calls<krope::float16>(); }

}  // namespace
