#pragma once
/// \file context_parallel.hpp
/// Context parallelism: which global positions the shard of one rank holds.
///
/// Under context (sequence) parallelism each of P ranks holds a slice of the sequence axis of q
/// and k and must rotate its tokens by their *global* positions. This header only computes those
/// positions (host code, no MPI); the rotation is the ordinary krope::apply with one of the
/// existing position modes:
///
/// - contiguous layout: one piece, so `krope::apply(space, table, q, k, shard.contiguous())`;
/// - zigzag layout: two pieces, so either one apply per piece on a subview of the sequence axis
///   (`shard.piece(i).positions()`), or one apply with `krope::position_ids{ids}` where
///   `ids = krope::make_position_ids<MemorySpace>(shard, batch)`.
///
/// Both give the same bits as a single-rank run on the whole sequence (same kernel, same
/// positions).

#include <krope/positions.hpp>

#include <Kokkos_Core.hpp>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace krope {

/// How a sequence of L tokens is cut over P ranks.
enum class ShardLayout {
  /// Rank r holds the tokens [begin(r), begin(r+1)), begin(r) = r*(L/P) + min(r, L mod P): the
  /// first L mod P ranks hold L/P + 1 tokens, the others L/P (numpy.array_split /
  /// torch.tensor_split). When P divides L this is [r*L/P, (r+1)*L/P). Any L >= 0.
  contiguous,
  /// Load-balanced causal layout ("zigzag"): the sequence is cut into 2P chunks of C = L/(2P)
  /// tokens and rank r holds chunk r followed by chunk 2P-1-r, so every rank does the same causal
  /// attention work. Requires L to be a multiple of 2P.
  zigzag,
};

/// One run of consecutive positions in a shard: local tokens [local_begin, local_begin + length)
/// sit at global positions [global_begin, global_begin + length).
struct ShardPiece {
  std::int64_t local_begin = 0;
  std::int64_t global_begin = 0;
  std::int64_t length = 0;

  /// The positions of this piece for krope::apply on the subview
  /// [local_begin, local_begin + length) of the sequence axis.
  krope::contiguous positions() const { return krope::contiguous{global_begin}; }
};

/// The part of the sequence one rank holds. Built by make_shard (or contiguous_shard /
/// zigzag_shard); immutable.
class Shard {
 public:
  ShardLayout layout() const { return layout_; }
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  /// Global sequence length L.
  std::int64_t seq_len() const { return seq_len_; }
  /// Position of global token 0 (the `offset` given to make_shard).
  std::int64_t offset() const { return offset_; }
  /// Tokens this rank holds (the extent of its local sequence axis).
  std::int64_t local_len() const { return pieces_[0].length + pieces_[1].length; }
  /// 1 for the contiguous layout, 2 for zigzag (a piece may be empty when L = 0).
  int piece_count() const { return piece_count_; }
  /// Piece i < piece_count(), in local order.
  const ShardPiece& piece(int i) const {
    if (i < 0 || i >= piece_count_)
      throw std::invalid_argument("krope::Shard::piece: i = " + std::to_string(i) +
                                  " is outside [0, " + std::to_string(piece_count_) + ")");
    return pieces_[i];
  }

  /// The positions of the whole shard as one krope::contiguous (contiguous layout only; a zigzag
  /// shard throws std::invalid_argument: use its pieces or make_position_ids).
  krope::contiguous contiguous() const {
    if (piece_count_ != 1)
      throw std::invalid_argument(
          "krope::Shard::contiguous: a zigzag shard has two pieces; apply per piece() or use "
          "make_position_ids");
    return pieces_[0].positions();
  }

  /// Global position of local token t, 0 <= t < local_len().
  std::int64_t position(std::int64_t t) const {
    if (t < 0 || t >= local_len())
      throw std::invalid_argument("krope::Shard::position: t = " + std::to_string(t) +
                                  " is outside [0, " + std::to_string(local_len()) + ")");
    const ShardPiece& p = t < pieces_[0].length ? pieces_[0] : pieces_[1];
    return p.global_begin + (t - p.local_begin);
  }

  /// Global positions of all local tokens, in local order (host).
  std::vector<std::int64_t> positions() const {
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(local_len()));
    for (int i = 0; i < piece_count_; ++i)
      for (std::int64_t t = 0; t < pieces_[i].length; ++t)
        out.push_back(pieces_[i].global_begin + t);
    return out;
  }

 private:
  friend Shard make_shard(ShardLayout, std::int64_t, int, int, std::int64_t);
  ShardLayout layout_ = ShardLayout::contiguous;
  int rank_ = 0, ranks_ = 1, piece_count_ = 1;
  std::int64_t seq_len_ = 0, offset_ = 0;
  std::array<ShardPiece, 2> pieces_{};
};

/// The shard of rank `rank` of `ranks` for a sequence of `seq_len` tokens laid out as `layout`;
/// global token g sits at position offset + g (offset > 0: a later chunk of a longer sequence).
/// Throws std::invalid_argument naming the argument when ranks < 1, rank is outside [0, ranks),
/// seq_len < 0, offset < 0, or (zigzag) seq_len is not a multiple of 2*ranks.
inline Shard make_shard(ShardLayout layout, std::int64_t seq_len, int rank, int ranks,
                        std::int64_t offset = 0) {
  const std::string where = "krope::make_shard: ";
  if (ranks < 1)
    throw std::invalid_argument(where + "ranks must be >= 1 (got " + std::to_string(ranks) + ")");
  if (rank < 0 || rank >= ranks)
    throw std::invalid_argument(where + "rank " + std::to_string(rank) +
                                " is outside [0, ranks = " + std::to_string(ranks) + ")");
  if (seq_len < 0)
    throw std::invalid_argument(where + "seq_len must be >= 0 (got " + std::to_string(seq_len) +
                                ")");
  if (offset < 0)
    throw std::invalid_argument(where + "offset must be >= 0 (got " + std::to_string(offset) + ")");
  Shard s;
  s.layout_ = layout;
  s.rank_ = rank;
  s.ranks_ = ranks;
  s.seq_len_ = seq_len;
  s.offset_ = offset;
  if (layout == ShardLayout::contiguous) {
    const std::int64_t base = seq_len / ranks, extra = seq_len % ranks;
    const std::int64_t begin = rank * base + (rank < extra ? rank : extra);
    s.piece_count_ = 1;
    s.pieces_[0] = {0, offset + begin, base + (rank < extra ? 1 : 0)};
  } else if (layout == ShardLayout::zigzag) {
    const std::int64_t chunks = 2 * static_cast<std::int64_t>(ranks);
    if (seq_len % chunks != 0)
      throw std::invalid_argument(where + "zigzag needs seq_len (" + std::to_string(seq_len) +
                                  ") to be a multiple of 2 * ranks (" + std::to_string(chunks) +
                                  ")");
    const std::int64_t c = seq_len / chunks;
    s.piece_count_ = 2;
    s.pieces_[0] = {0, offset + rank * c, c};
    s.pieces_[1] = {c, offset + (chunks - 1 - rank) * c, c};
  } else {
    throw std::invalid_argument(where + "layout is not a ShardLayout value");
  }
  return s;
}

/// make_shard(ShardLayout::contiguous, ...).
inline Shard contiguous_shard(std::int64_t seq_len, int rank, int ranks, std::int64_t offset = 0) {
  return make_shard(ShardLayout::contiguous, seq_len, rank, ranks, offset);
}

/// make_shard(ShardLayout::zigzag, ...).
inline Shard zigzag_shard(std::int64_t seq_len, int rank, int ranks, std::int64_t offset = 0) {
  return make_shard(ShardLayout::zigzag, seq_len, rank, ranks, offset);
}

/// Fills `ids` (an int64 View [batch][shard.local_len()], any memory space) with the global
/// positions of the shard, the same row for every sequence. Host-accessible Views are written
/// directly; others through a host mirror and deep_copy (which fences). Throws
/// std::invalid_argument when ids' sequence extent is not shard.local_len().
template <class View>
void fill_position_ids(const Shard& shard, const View& ids) {
  static_assert(Kokkos::is_view<View>::value && View::rank == 2,
                "krope::fill_position_ids: ids must be a rank-2 Kokkos View");
  static_assert(std::is_same<typename View::value_type, std::int64_t>::value,
                "krope::fill_position_ids: ids must hold (non-const) std::int64_t");
  if (static_cast<std::int64_t>(ids.extent(1)) != shard.local_len())
    throw std::invalid_argument("krope::fill_position_ids: ids is [" +
                                std::to_string(ids.extent(0)) + "][" +
                                std::to_string(ids.extent(1)) + "], the shard holds " +
                                std::to_string(shard.local_len()) + " tokens");
  const std::vector<std::int64_t> row = shard.positions();
  auto fill = [&](const auto& host) {
    for (std::size_t b = 0; b < host.extent(0); ++b)
      for (std::size_t t = 0; t < row.size(); ++t) host(b, t) = row[t];
  };
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace,
                                           typename View::memory_space>::accessible) {
    fill(ids);
  } else {
    auto host = Kokkos::create_mirror_view(ids);
    fill(host);
    Kokkos::deep_copy(ids, host);
  }
}

/// A new int64 View [batch][shard.local_len()] in `MemorySpace` holding the shard's global
/// positions for every sequence: pass it as `krope::position_ids{ids}`. Throws
/// std::invalid_argument when batch < 0.
template <class MemorySpace>
Kokkos::View<std::int64_t**, MemorySpace> make_position_ids(const Shard& shard,
                                                            std::int64_t batch) {
  if (batch < 0)
    throw std::invalid_argument("krope::make_position_ids: batch must be >= 0 (got " +
                                std::to_string(batch) + ")");
  Kokkos::View<std::int64_t**, MemorySpace> ids(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "krope::context_parallel::position_ids"),
      batch, shard.local_len());
  fill_position_ids(shard, ids);
  return ids;
}

}  // namespace krope
