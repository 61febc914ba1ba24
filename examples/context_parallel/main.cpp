// Context-parallel RoPE with MPI: P ranks each hold a shard of the sequence axis of q and k, rotate
// it by the shard's global positions (krope/context_parallel.hpp), and rank 0 gathers the shards,
// puts them back in sequence order and compares them with a single-rank run on the whole
// sequence. Same kernel, same positions: the results must agree within 1 ulp (in practice they
// are bit-identical). Checked for the contiguous and zigzag layouts (zigzag both as two apply
// calls on subviews and as one apply with position ids), both pairings, fp32 and bf16.
//
//   mpirun -np 2 ./context_parallel [--seq-len 97] [--batch 2] [--q-heads 4] [--k-heads 2]
//                                    [--head-dim 64] [--rotary-dim 0] [--seed 2024]
//
// The contiguous layout uses seq-len as given (an uneven split when P does not divide it); the
// zigzag layout needs a multiple of 2P and uses seq-len rounded down to one. Exit status 0 when
// every case agrees, 1 on any mismatch (on every rank), 2 on bad arguments, 77 (skipped) in a
// CUDA build without a visible GPU.
//
// q and k are the head slices of one [batch][seq][q_heads + k_heads][dim] buffer (a fused qk
// projection output), so a single MPI_Gatherv of raw bytes collects both.
// Data moves through host mirrors (no CUDA-aware MPI needed). In a GPU build each rank uses the
// device (node-local rank) % (device count).

#include <mpi.h>

#include <common/device.hpp>
#include <common/values.hpp>
#include <krope/context_parallel.hpp>
#include <krope/krope.hpp>

#include <Kokkos_Core.hpp>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
template <class T>
using View4 = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;

struct Options {
  std::int64_t seq_len = 97;
  std::int64_t batch = 2;
  std::int64_t q_heads = 4;
  std::int64_t k_heads = 2;
  int head_dim = 64;
  int rotary_dim = 0;
  std::uint64_t seed = 2024;
};

struct Comm {
  int rank = 0;
  int size = 1;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h")
      throw std::invalid_argument(
          "usage: context_parallel [--seq-len N] [--batch N] [--q-heads N] [--k-heads N] "
          "[--head-dim N] [--rotary-dim N] [--seed N]");
    if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
    const long long v = std::stoll(argv[++i]);
    if (v < 0) throw std::invalid_argument(a + " must be >= 0");
    if (a == "--seq-len")
      o.seq_len = v;
    else if (a == "--batch")
      o.batch = v;
    else if (a == "--q-heads")
      o.q_heads = v;
    else if (a == "--k-heads")
      o.k_heads = v;
    else if (a == "--head-dim")
      o.head_dim = static_cast<int>(v);
    else if (a == "--rotary-dim")
      o.rotary_dim = static_cast<int>(v);
    else if (a == "--seed")
      o.seed = static_cast<std::uint64_t>(v);
    else
      throw std::invalid_argument("unknown argument " + a);
  }
  if (o.seq_len < 1 || o.batch < 1 || o.q_heads < 1 || o.k_heads < 1)
    throw std::invalid_argument("--seq-len, --batch, --q-heads and --k-heads must be >= 1");
  return o;
}

// splitmix64: the same stream on every rank for the same seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// The whole tensor [batch][seq][heads][dim], identical on every rank: uniform in [-2, 2).
template <class T>
std::vector<T> full_tensor(std::uint64_t seed, std::uint64_t stream, std::size_t count) {
  std::vector<T> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t r = mix(seed ^ mix(stream ^ mix(i)));
    out[i] = T(static_cast<float>(r >> 40) * (4.0f / 16777216.0f) - 2.0f);
  }
  return out;
}

/// Distance in units in the last place between two values of the same type (NaN: huge).
template <class T>
std::int64_t ulp_distance(T a, T b) {
  using Bits = typename std::conditional<sizeof(T) == 4, std::uint32_t, std::uint16_t>::type;
  Bits ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  constexpr Bits sign = Bits(1) << (8 * sizeof(Bits) - 1);
  const float fa = static_cast<float>(a), fb = static_cast<float>(b);
  if (fa != fa || fb != fb) return ua == ub ? 0 : INT64_MAX;
  auto key = [&](Bits u) {
    return (u & sign) ? -static_cast<std::int64_t>(u & ~sign) : static_cast<std::int64_t>(u);
  };
  const std::int64_t d = key(ua) - key(ub);
  return d < 0 ? -d : d;
}

const char* name(krope::Pairing p) {
  return p == krope::Pairing::half_split ? "half_split" : "interleaved";
}
using krope::support::type_name;

enum class Mode { contiguous, zigzag_pieces, zigzag_ids };
const char* name(Mode m) {
  return m == Mode::contiguous      ? "contiguous"
         : m == Mode::zigzag_pieces ? "zigzag/pieces"
                                    : "zigzag/position_ids";
}

/// Copies the shard's tokens of the host tensor `full` [batch][seq_len][heads][dim] into a new
/// device View [batch][local_len][heads][dim].
template <class T>
View4<T> slice(const std::vector<T>& full, const krope::Shard& shard, std::int64_t batch,
               std::int64_t heads, int dim) {
  View4<T> local(Kokkos::view_alloc(Kokkos::WithoutInitializing, "local"), batch, shard.local_len(),
                 heads, dim);
  auto host = Kokkos::create_mirror_view(local);
  const std::size_t token = static_cast<std::size_t>(heads) * dim;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < shard.local_len(); ++t) {
      const std::int64_t g = shard.position(t) - shard.offset();
      std::memcpy(&host(b, t, 0, 0), &full[(b * shard.seq_len() + g) * token], token * sizeof(T));
    }
  Kokkos::deep_copy(local, host);
  return local;
}

/// Gathers every rank's host buffer of raw bytes on rank 0 and returns the tensor in sequence
/// order [batch][seq_len][heads][dim] there (empty elsewhere).
template <class T>
std::vector<T> gather(const Comm& comm, const View4<T>& local, const Options& o,
                      krope::ShardLayout layout, std::int64_t seq_len, std::int64_t heads) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local);
  const std::int64_t token_bytes = heads * o.head_dim * static_cast<std::int64_t>(sizeof(T));
  std::vector<int> counts(comm.size), displs(comm.size);
  std::int64_t total = 0;
  for (int r = 0; r < comm.size; ++r) {
    const std::int64_t bytes =
        o.batch * krope::make_shard(layout, seq_len, r, comm.size).local_len() * token_bytes;
    if (total + bytes > INT_MAX)
      throw std::invalid_argument("the gathered tensor exceeds 2 GiB: use smaller sizes");
    counts[r] = static_cast<int>(bytes);
    displs[r] = static_cast<int>(total);
    total += bytes;
  }
  std::vector<char> bytes(comm.rank == 0 ? total : 0);
  MPI_Gatherv(host.data(), counts[comm.rank], MPI_BYTE, bytes.data(), counts.data(), displs.data(),
              MPI_BYTE, 0, MPI_COMM_WORLD);
  std::vector<T> out;
  if (comm.rank != 0) return out;
  out.resize(static_cast<std::size_t>(o.batch * seq_len * heads * o.head_dim));
  for (int r = 0; r < comm.size; ++r) {
    const krope::Shard s = krope::make_shard(layout, seq_len, r, comm.size);
    const char* segment = bytes.data() + displs[r];
    for (std::int64_t b = 0; b < o.batch; ++b)
      for (std::int64_t t = 0; t < s.local_len(); ++t)
        std::memcpy(
            reinterpret_cast<char*>(out.data()) + (b * seq_len + s.position(t)) * token_bytes,
            segment + (b * s.local_len() + t) * token_bytes, token_bytes);
  }
  return out;
}

/// One case: returns true when the gathered shards agree with the single-rank run (rank 0's
/// verdict, broadcast to every rank).
template <class T>
bool run_case(const Comm& comm, const Options& o, Mode mode, krope::Pairing pairing) {
  const krope::ShardLayout layout =
      mode == Mode::contiguous ? krope::ShardLayout::contiguous : krope::ShardLayout::zigzag;
  const std::int64_t seq_len = layout == krope::ShardLayout::contiguous
                                   ? o.seq_len
                                   : o.seq_len / (2 * comm.size) * (2 * comm.size);
  krope::Config config;
  config.head_dim = o.head_dim;
  config.rotary_dim = o.rotary_dim;
  config.pairing = pairing;
  const auto table = krope::make_table<Mem>(config, seq_len > 0 ? seq_len : 1);

  // q and k are head slices of one buffer [batch][seq][q_heads + k_heads][dim] (the output of a
  // fused qk projection), generated whole and identically on every rank; one Gatherv moves both.
  const std::int64_t heads = o.q_heads + o.k_heads;
  const std::vector<T> qk_full =
      full_tensor<T>(o.seed, 1, static_cast<std::size_t>(o.batch * seq_len * heads * o.head_dim));
  const auto q_heads = Kokkos::make_pair(std::int64_t{0}, o.q_heads);
  const auto k_heads = Kokkos::make_pair(o.q_heads, heads);

  // Every rank: its shard, rotated by its global positions.
  const Exec exec;
  const krope::Shard shard = krope::make_shard(layout, seq_len, comm.rank, comm.size);
  View4<T> qk = slice(qk_full, shard, o.batch, heads, o.head_dim);
  const auto q = Kokkos::subview(qk, Kokkos::ALL, Kokkos::ALL, q_heads, Kokkos::ALL);
  const auto k = Kokkos::subview(qk, Kokkos::ALL, Kokkos::ALL, k_heads, Kokkos::ALL);
  if (mode == Mode::contiguous) {
    krope::apply(exec, table, q, k, shard.contiguous());
  } else if (mode == Mode::zigzag_pieces) {
    for (int i = 0; i < shard.piece_count(); ++i) {
      const krope::ShardPiece& p = shard.piece(i);
      const auto tokens = Kokkos::make_pair(p.local_begin, p.local_begin + p.length);
      krope::apply(exec, table, Kokkos::subview(q, Kokkos::ALL, tokens, Kokkos::ALL, Kokkos::ALL),
                   Kokkos::subview(k, Kokkos::ALL, tokens, Kokkos::ALL, Kokkos::ALL),
                   p.positions());
    }
  } else {
    const auto ids = krope::make_position_ids<Mem>(shard, o.batch);
    krope::apply(exec, table, q, k, krope::position_ids{ids});
  }
  exec.fence();
  const std::vector<T> qk_cp = gather(comm, qk, o, layout, seq_len, heads);

  int ok = 1;
  if (comm.rank == 0) {
    // Rank 0: the single-rank run on the whole sequence.
    const krope::Shard whole = krope::contiguous_shard(seq_len, 0, 1);
    View4<T> qk_ref = slice(qk_full, whole, o.batch, heads, o.head_dim);
    krope::apply(exec, table,
                 Kokkos::subview(qk_ref, Kokkos::ALL, Kokkos::ALL, q_heads, Kokkos::ALL),
                 Kokkos::subview(qk_ref, Kokkos::ALL, Kokkos::ALL, k_heads, Kokkos::ALL),
                 krope::contiguous{0});
    exec.fence();
    auto ref = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), qk_ref);
    std::int64_t max_ulp = 0, differing = 0;
    for (std::size_t i = 0; i < qk_cp.size(); ++i) {
      const std::int64_t d = ulp_distance(qk_cp[i], ref.data()[i]);
      if (d > max_ulp) max_ulp = d;
      if (d != 0) ++differing;
    }
    ok = max_ulp <= 1;
    std::printf("%-20s %-11s %s  L=%-6lld P=%d  max ulp %lld, %lld of %zu values differ  %s\n",
                name(mode), name(pairing), type_name<T>(), static_cast<long long>(seq_len),
                comm.size, static_cast<long long>(max_ulp), static_cast<long long>(differing),
                qk_cp.size(), ok ? "OK" : "MISMATCH");
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return ok != 0;
}

bool run_all(const Comm& comm, const Options& o) {
  bool ok = true;
  for (Mode mode : {Mode::contiguous, Mode::zigzag_pieces, Mode::zigzag_ids})
    for (krope::Pairing pairing : {krope::Pairing::half_split, krope::Pairing::interleaved}) {
      ok = run_case<float>(comm, o, mode, pairing) && ok;
      ok = run_case<krope::bfloat16>(comm, o, mode, pairing) && ok;
    }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  Comm comm;
  MPI_Comm_rank(MPI_COMM_WORLD, &comm.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &comm.size);

  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    if (comm.rank == 0) std::fprintf(stderr, "%s\n", e.what());
    MPI_Finalize();
    return 2;
  }

  // One device per rank: node-local rank modulo the visible devices.
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, comm.rank, MPI_INFO_NULL, &node);
  int local_rank = 0;
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_free(&node);
  // Kokkos 3.7 replaced InitArguments (gone in 4.x) with InitializationSettings.
#if KOKKOS_VERSION >= 30700
  Kokkos::InitializationSettings args;
#else
  Kokkos::InitArguments args;
#endif
#if defined(KOKKOS_ENABLE_CUDA)
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 1) {
    // A CUDA build on a machine without a GPU (CI): report a skip, as the test suite does.
    if (comm.rank == 0) std::printf("no CUDA device visible: skipped\n");
    MPI_Finalize();
    return krope::support::skipped_exit_code;
  }
#if KOKKOS_VERSION >= 30700
  args.set_device_id(local_rank % devices);
#else
  args.device_id = local_rank % devices;
#endif
#else
  (void)local_rank;
#endif
  Kokkos::initialize(args);

  bool ok = false;
  try {
    if (comm.rank == 0)
      std::printf("krope context parallel: %d ranks, %s, batch %lld, heads %lld/%lld, dim %d\n",
                  comm.size, Exec::name(), static_cast<long long>(options.batch),
                  static_cast<long long>(options.q_heads), static_cast<long long>(options.k_heads),
                  options.head_dim);
    ok = run_all(comm, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", comm.rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (comm.rank == 0) std::printf("%s\n", ok ? "PASSED" : "FAILED");
  Kokkos::finalize();
  MPI_Finalize();
  return ok ? 0 : 1;
}
