#pragma once
/// \file apply.hpp
/// krope::apply: rotate q and k by their positions, in place or into q_out/k_out.
///
/// q is [batch][seq][q_heads][head_dim] and k [batch][seq][k_heads][head_dim] (k_heads may differ:
/// GQA/MQA), any layout including LayoutStride ([batch][heads][seq][dim] data as a strided View,
/// q/k slices of a fused qkv buffer). With krope::varlen positions they are
/// [total_tokens][heads][head_dim]. Element types: double, float, krope::bfloat16,
/// krope::float16 (or Kokkos 4's bhalf_t / half_t, the same bits: impl/kokkos_half.hpp); 16-bit
/// and fp32 data compute in fp32 with a float Table, double data in fp64 with a
/// Table<M, double>.
///
/// Every call validates before it touches memory and throws std::invalid_argument naming the
/// argument: head_dim mismatch, q/k batch or seq mismatch, q_out/k_out shape mismatch, q_out
/// partially overlapping q or k_out partially overlapping k (exact aliasing is in place and
/// allowed), any shared memory between a q-side operand (q, q_out) and a k-side one (k, k_out),
/// positions outside the table, malformed cu_seqlens, axis_positions whose shape or axis count
/// does not fit. Empty tensors are a no-op.

#include <krope/frequencies.hpp>
#include <krope/impl/angle_sources.hpp>
#include <krope/impl/apply_spec.hpp>
#include <krope/impl/kokkos_half.hpp>
#include <krope/impl/overlap.hpp>
#include <krope/impl/position_checks.hpp>
#include <krope/impl/rotation.hpp>
#include <krope/positions.hpp>
#include <krope/rotary_shape.hpp>
#include <krope/spectrum.hpp>
#include <krope/table.hpp>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace krope {
namespace Impl {

template <class View>
std::string shape_of(const View& v) {
  std::string s;
  for (unsigned i = 0; i < View::rank; ++i) s += "[" + std::to_string(v.extent(i)) + "]";
  return s;
}

template <class Out, class In>
void check_output(const char* name, const Out& out, const In& in) {
  for (unsigned i = 0; i < In::rank; ++i)
    if (out.extent(i) != in.extent(i))
      throw std::invalid_argument(std::string("krope::apply: ") + name + " is " + shape_of(out) +
                                  ", its input is " + shape_of(in));
}

/// An output and its own input: exactly aliased (in place) or apart.
template <class Out, class In>
void check_in_place_or_apart(const char* out_name, const Out& out, const char* in_name,
                             const In& in) {
  if (partially_overlap(out, in))
    throw std::invalid_argument(std::string("krope::apply: ") + out_name + " partially overlaps " +
                                in_name + " (only exact aliasing, i.e. in place, is allowed)");
}

/// A q-side operand (q, q_out) and a k-side one (k, k_out): no shared element at all. Aliased,
/// the kernel would rotate the shared elements twice or let one result overwrite the other.
template <class A, class B>
void check_apart(const char* a_name, const A& a, const char* b_name, const B& b) {
  const char* rule = " (q-side and k-side operands must not share memory)";
  if (a.size() > 0 && b.size() > 0 && exactly_aliased(a, b))
    throw std::invalid_argument(std::string("krope::apply: ") + a_name + " and " + b_name +
                                " are the same memory" + rule);
  if (partially_overlap(a, b))
    throw std::invalid_argument(std::string("krope::apply: ") + a_name + " partially overlaps " +
                                b_name + rule);
}

/// The one implementation behind every public overload: validates, builds the Rotation and hands
/// it to Impl::Apply (KernelChoice::portable: the portable kernel on every backend, for
/// benchmarks and tests that compare the kernels).
template <KernelChoice Choice = KernelChoice::best, class ExecSpace, class Rotary, class QIn,
          class KIn, class QOut, class KOut, class Positions>
void apply_rotary(const ExecSpace& space, const Rotary& rotary, const QIn& q, const KIn& k,
                  const QOut& q_out, const KOut& k_out, const Positions& positions,
                  Direction direction) {
  using Value = typename QOut::non_const_value_type;
  using Real = arithmetic_t<Value>;
  static_assert(Kokkos::is_view<QIn>::value && Kokkos::is_view<KIn>::value &&
                    Kokkos::is_view<QOut>::value && Kokkos::is_view<KOut>::value,
                "krope::apply: q, k, q_out and k_out must be Kokkos Views");
  static_assert(std::is_same<typename QIn::non_const_value_type, Value>::value &&
                    std::is_same<typename KIn::non_const_value_type, Value>::value &&
                    std::is_same<typename KOut::non_const_value_type, Value>::value,
                "krope::apply: q, k, q_out and k_out must hold the same element type");
  static_assert(!std::is_const<typename QOut::value_type>::value &&
                    !std::is_const<typename KOut::value_type>::value,
                "krope::apply: outputs must be writable Views");
  constexpr unsigned rank = QIn::rank;  // View ranks are distinct enum types: compare as integers
  static_assert(
      rank == unsigned(KIn::rank) && rank == unsigned(QOut::rank) && rank == unsigned(KOut::rank),
      "krope::apply: q, k, q_out and k_out must have the same rank");
  static_assert(Kokkos::SpaceAccessibility<ExecSpace, typename QIn::memory_space>::accessible &&
                    Kokkos::SpaceAccessibility<ExecSpace, typename KIn::memory_space>::accessible,
                "krope::apply: q and k must be accessible from the execution space");
  static_assert(
      Kokkos::SpaceAccessibility<ExecSpace, typename Rotary::memory_space>::accessible,
      "krope::apply: the table / frequencies must be accessible from the execution space");
  if constexpr (!std::is_same<Rotary, Frequencies<typename Rotary::memory_space>>::value) {
    static_assert(std::is_same<typename Rotary::real_type, table_real_t<Value>>::value,
                  "krope::apply: use a float Table for float/bfloat16/float16 data and a "
                  "Table<MemorySpace, double> for double data");
  }

  if (rotary.empty()) throw std::invalid_argument("krope::apply: table is empty (default-built)");
  const int head_dim = rotary.head_dim();
  constexpr unsigned dim = QIn::rank - 1, heads = QIn::rank - 2;
  if (static_cast<int>(q.extent(dim)) != head_dim || static_cast<int>(k.extent(dim)) != head_dim)
    throw std::invalid_argument("krope::apply: q head_dim " + std::to_string(q.extent(dim)) +
                                " and k head_dim " + std::to_string(k.extent(dim)) +
                                " must equal the table's head_dim " + std::to_string(head_dim));
  for (unsigned i = 0; i < heads; ++i)
    if (q.extent(i) != k.extent(i))
      throw std::invalid_argument("krope::apply: q is " + shape_of(q) + " and k is " + shape_of(k) +
                                  ": batch and seq (or tokens) must match");
  check_output("q_out", q_out, q);
  check_output("k_out", k_out, k);
  check_in_place_or_apart("q_out", q_out, "q", q);
  check_in_place_or_apart("k_out", k_out, "k", k);
  check_apart("q", q, "k", k);
  check_apart("q_out", q_out, "k_out", k_out);
  check_apart("q_out", q_out, "k", k);
  check_apart("k_out", k_out, "q", q);
  const bool in_place = exactly_aliased(q, q_out) && exactly_aliased(k, k_out);

  const PositionLimit limit = position_limit(rotary);
  const int axes = rotary.axes().count();  // valid: the Table / Frequencies constructor checked
  auto make = [&](auto tokens, std::int64_t token_count) {
    using Tokens = decltype(tokens);
    auto angles = angles_of<Real>(rotary);
    using R = Rotation<decltype(angles), Tokens, QIn, QOut, KIn, KOut>;
    R rotation{angles,
               tokens,
               q,
               q_out,
               k,
               k_out,
               token_count,
               static_cast<int>(q.extent(heads)),
               static_cast<int>(k.extent(heads)),
               head_dim,
               rotary.rotary_dim(),
               rotary.pairing(),
               direction,
               in_place,
               axis_map(rotary.axes())};
    if (token_count == 0 || (q.size() == 0 && k.size() == 0)) return;
    apply_t<Choice, ExecSpace, R>::run(space, rotation);
  };
  if constexpr (QIn::rank == 4) {
    const std::int64_t batch = q.extent(0), seq_len = q.extent(1);
    make(tokens_for(space, positions, batch, seq_len, limit, axes), batch * seq_len);
  } else {
    static_assert(QIn::rank == 3,
                  "krope::apply: q and k must be rank 4, or rank 3 with varlen or [tokens][axes] "
                  "axis_positions");
    const std::int64_t tokens = q.extent(0);
    make(tokens_for(space, positions, tokens, limit, axes), tokens);
  }
}

}  // namespace Impl

/// Rotates q and k in place by the positions `positions` (contiguous, sequence_offsets,
/// position_ids, varlen, or axis_positions for a multi-axis source), reading cos/sin from
/// `angles`: a Table, or Frequencies for the table-free path (angles formed in the kernel from
/// fp64 inverse frequencies). Runs on `space` asynchronously.
template <class ExecSpace, class AngleSource, class Q, class K, class Positions,
          class = std::enable_if_t<is_angle_source_v<AngleSource>>>
void apply(const ExecSpace& space, const AngleSource& angles, const Q& q, const K& k,
           const Positions& positions, Direction direction = Direction::forward) {
  using Impl::as_storage;
  Impl::apply_rotary(space, angles, as_storage(q), as_storage(k), as_storage(q), as_storage(k),
                     positions, direction);
}

/// Out of place: q_out/k_out receive the rotated q/k (and a copy of the pass-through lanes).
/// q_out may alias q exactly (then that half is in place), but must not partially overlap it;
/// likewise k_out and k. q and q_out must share no memory with k and k_out.
template <class ExecSpace, class AngleSource, class Q, class K, class QOut, class KOut,
          class Positions, class = std::enable_if_t<is_angle_source_v<AngleSource>>>
void apply(const ExecSpace& space, const AngleSource& angles, const Q& q, const K& k,
           const QOut& q_out, const KOut& k_out, const Positions& positions,
           Direction direction = Direction::forward) {
  using Impl::as_storage;
  Impl::apply_rotary(space, angles, as_storage(q), as_storage(k), as_storage(q_out),
                     as_storage(k_out), positions, direction);
}

}  // namespace krope
