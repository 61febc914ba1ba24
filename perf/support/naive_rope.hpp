#pragma once
/// \file naive_rope.hpp
/// The baseline the original reports compared with: PyTorch eager
///
///     cos, sin = cos_cached[position_ids], sin_cached[position_ids]   # [tokens][R], element type
///     x_rot, x_pass = x[..., :R], x[..., R:]                          # views, no copy
///     rotate_half(x) = cat(-x2, x1)                                   # neg, then cat
///     out = cat(x_rot * cos + rotate_half(x_rot) * sin, x_pass)       # mul, mul, add (, cat)
///
/// written as one Kokkos kernel per eager op, each reading and writing whole tensors in the
/// element type (fp32 arithmetic, rounded after every op like PyTorch's bf16 kernels), with
/// temporaries and new output tensors (eager returns new tensors; it never rotates in place).
/// Interleaved pairing uses GPT-J's rotate_every_two (neg, then stack), the table-free variant
/// forms cos/sin in fp32 from inv_freq like HF's rotary embedding, backward negates sin.
/// The workspace is allocated once and reused, as PyTorch's caching allocator would; its size
/// (temporaries plus the new outputs) is the baseline's extra device memory per call.

#include "rope_case.hpp"

#include <krope/config.hpp>
#include <krope/impl/arithmetic.hpp>
#include <krope/impl/div_mod.hpp>
#include <krope/table.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace krope::perf {

/// n / d for n, d < 2^31 by the library's multiply-high split (Impl::DivMod, as PyTorch's
/// IntDivider): eager elementwise kernels do not pay a hardware-less 64-bit division per element,
/// and neither may the baseline, or it measures index arithmetic instead of memory passes.
struct FastDivider {
  Impl::DivMod split;

  FastDivider() = default;
  explicit FastDivider(std::uint32_t d) : split(d, (std::int64_t(1) << 31) - 1) {}
  KOKKOS_INLINE_FUNCTION std::uint32_t div(std::uint32_t n) const {
    std::int64_t quotient, remainder;
    split(n, quotient, remainder);
    return static_cast<std::uint32_t>(quotient);
  }
};

/// One eager op over whole tensors; `op` picks which (one kernel launch each). Element indices
/// are 32-bit (the constructor of NaiveRope checks that every tensor has < 2^31 elements).
template <class Value, class MemorySpace>
struct NaiveOp {
  using Real = table_real_t<Value>;
  enum Op { gather_cos_sin, neg, rotate_half, mul_cos, mul_sin, add, cat_pass };
  Op op;
  int heads, dim, rotated, half;
  bool interleaved, backward, use_table;
  // Inputs and outputs of the op (unused ones are null).
  const Value* x = nullptr;  // q or k, in its layout
  TensorIndex x_index;
  const Value *a = nullptr, *b = nullptr;
  Value* out = nullptr;
  Value *cos_full = nullptr, *sin_full = nullptr;  // [tokens][R]
  // gather_cos_sin only:
  Kokkos::View<const std::int64_t*, MemorySpace> position;
  Kokkos::View<const Real**, Kokkos::LayoutRight, MemorySpace> table_cos, table_sin;
  Kokkos::View<const double*, MemorySpace> inv_freq;
  float attention_factor = 1.0f;
  FastDivider by_rotated, by_half, by_dim, by_heads, by_seq;

  KOKKOS_INLINE_FUNCTION float ld(const Value* p, std::int64_t i) const {
    return static_cast<float>(p[i]);
  }
  /// Offset of x(token, h, d) in its layout (TensorIndex without the 64-bit division).
  KOKKOS_INLINE_FUNCTION std::int64_t x_at(std::uint32_t token, int h, int d) const {
    if (x_index.layout == Layout::bhsd) {
      const std::uint32_t b = by_seq.div(token);
      const std::uint32_t t = token - b * static_cast<std::uint32_t>(x_index.seq);
      return ((std::int64_t(b) * heads + h) * x_index.seq + t) * dim + d;
    }
    return (std::int64_t(token) * heads + h) * dim + d;
  }

  KOKKOS_INLINE_FUNCTION void operator()(std::uint32_t i) const {
    switch (op) {
      case gather_cos_sin: {  // i over [tokens][R]
        const std::uint32_t token = by_rotated.div(i);
        const int j = static_cast<int>(i - token * rotated);
        const int pair = interleaved ? j / 2 : (j < half ? j : j - half);
        const std::int64_t pos = position(token);
        float c, s;
        if (use_table) {
          c = static_cast<float>(table_cos(pos, pair));
          s = static_cast<float>(table_sin(pos, pair));
        } else {  // HF: freqs = inv_freq.float() * pos.float(), cos/sin in fp32
          const float angle = static_cast<float>(pos) * static_cast<float>(inv_freq(pair));
          c = cosf(angle) * attention_factor;
          s = sinf(angle) * attention_factor;
        }
        cos_full[i] = static_cast<Value>(c);
        sin_full[i] = static_cast<Value>(backward ? -s : s);
        break;
      }
      case neg: {  // i over [tokens][heads][R/2]: -x2
        const std::uint32_t row = by_half.div(i);
        const int p = static_cast<int>(i - row * half);
        const std::uint32_t token = by_heads.div(row);
        const int h = static_cast<int>(row - token * heads);
        const int lane = interleaved ? 2 * p + 1 : p + half;
        out[i] = static_cast<Value>(-ld(x, x_at(token, h, lane)));
        break;
      }
      case rotate_half: {  // i over [tokens][heads][R]: cat(-x2, x1) or stack(-x2, x1)
        const std::uint32_t row = by_rotated.div(i);
        const int j = static_cast<int>(i - row * rotated);
        const std::uint32_t token = by_heads.div(row);
        const int h = static_cast<int>(row - token * heads);
        if (interleaved)
          out[i] = (j % 2 == 0) ? a[std::int64_t(row) * half + j / 2] : x[x_at(token, h, j - 1)];
        else
          out[i] = j < half ? a[std::int64_t(row) * half + j] : x[x_at(token, h, j - half)];
        break;
      }
      case mul_cos: {  // x_rot * cos
        const std::uint32_t row = by_rotated.div(i);
        const int j = static_cast<int>(i - row * rotated);
        const std::uint32_t token = by_heads.div(row);
        const int h = static_cast<int>(row - token * heads);
        out[i] = static_cast<Value>(ld(x, x_at(token, h, j)) *
                                    ld(cos_full, std::int64_t(token) * rotated + j));
        break;
      }
      case mul_sin: {  // rotate_half(x_rot) * sin
        const std::uint32_t row = by_rotated.div(i);
        const int j = static_cast<int>(i - row * rotated);
        const std::uint32_t token = by_heads.div(row);
        out[i] = static_cast<Value>(ld(a, i) * ld(sin_full, std::int64_t(token) * rotated + j));
        break;
      }
      case add:
        out[i] = static_cast<Value>(ld(a, i) + ld(b, i));
        break;
      case cat_pass: {  // i over [tokens][heads][D]: cat(rotated, x_pass)
        const std::uint32_t row = by_dim.div(i);
        const int d = static_cast<int>(i - row * dim);
        const std::uint32_t token = by_heads.div(row);
        const int h = static_cast<int>(row - token * heads);
        out[i] = d < rotated ? a[std::int64_t(row) * rotated + d] : x[x_at(token, h, d)];
        break;
      }
    }
  }
};

/// Runs an op over n elements with `unroll` elements per work item, spaced `items` apart (each
/// load and store still coalesced across a warp). One element per thread made Kokkos 3.4 launch
/// 2M blocks of 64 threads per pass on the Llama shape, bound by block scheduling at 12% of DRAM
/// bandwidth (ncu); PyTorch's elementwise kernels likewise give each thread several elements.
template <class Op>
struct Unrolled {
  static constexpr std::uint32_t unroll = 8;
  Op op;
  std::uint32_t n, items;

  KOKKOS_INLINE_FUNCTION void operator()(std::uint32_t item) const {
    for (std::uint32_t k = 0; k < unroll; ++k) {
      const std::uint32_t i = item + k * items;
      if (i < n) op(i);
    }
  }
};

/// The unfused baseline for one case: workspace, outputs, and the op sequence.
template <class ExecSpace, class Value>
class NaiveRope {
 public:
  using memory_space = typename ExecSpace::memory_space;
  using Buffer = Kokkos::View<Value*, memory_space>;
  using Op = NaiveOp<Value, memory_space>;

  explicit NaiveRope(const Case& c) : c_(c) {
    if (c.q_elements() >= (std::int64_t(1) << 31) || c.k_elements() >= (std::int64_t(1) << 31))
      throw std::invalid_argument("naive baseline: tensors of 2^31 elements or more");
    const std::int64_t tokens = c.tokens(), r = c.rotated();
    const std::int64_t rows = tokens * (c.q_heads > c.k_heads ? c.q_heads : c.k_heads);
    auto alloc = [](const char* label, std::int64_t n) {
      return Buffer(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), n);
    };
    cos_full_ = alloc("naive::cos", tokens * r);
    sin_full_ = alloc("naive::sin", tokens * r);
    neg_ = alloc("naive::neg", rows * (r / 2));
    rotated_half_ = alloc("naive::rotate_half", rows * r);
    t1_ = alloc("naive::x_cos", rows * r);
    t2_ = alloc("naive::rh_sin", rows * r);
    if (r < c.head_dim) out_rot_ = alloc("naive::out_rot", rows * r);
    q_out_ = alloc("naive::q_embed", c.q_elements());
    k_out_ = alloc("naive::k_embed", c.k_elements());
  }

  /// Device bytes the baseline holds: temporaries and new outputs.
  std::size_t bytes() const {
    std::size_t n = cos_full_.span() + sin_full_.span() + neg_.span() + rotated_half_.span() +
                    t1_.span() + t2_.span() + out_rot_.span() + q_out_.span() + k_out_.span();
    return n * sizeof(Value);
  }
  const Buffer& q_out() const { return q_out_; }
  const Buffer& k_out() const { return k_out_; }

  /// q_embed, k_embed = the eager expression for q and k (one launch per op).
  template <class TableCos, class InvFreq>
  void run(const ExecSpace& space, const Value* q, const Value* k,
           const Kokkos::View<const std::int64_t*, memory_space>& position,
           const TableCos& table_cos, const TableCos& table_sin, const InvFreq& inv_freq,
           float attention_factor, bool use_table) const {
    Op base{};
    base.dim = c_.head_dim;
    base.rotated = c_.rotated();
    base.half = c_.rotated() / 2;
    base.interleaved = c_.pairing == Pairing::interleaved;
    base.backward = c_.direction == Direction::backward;
    base.use_table = use_table;
    base.cos_full = cos_full_.data();
    base.sin_full = sin_full_.data();
    base.by_rotated = FastDivider(base.rotated);
    base.by_half = FastDivider(base.half);
    base.by_dim = FastDivider(base.dim);
    base.by_seq = FastDivider(static_cast<std::uint32_t>(c_.seq));

    Op gather = base;
    gather.op = Op::gather_cos_sin;
    gather.position = position;
    gather.table_cos = table_cos;
    gather.table_sin = table_sin;
    gather.inv_freq = inv_freq;
    gather.attention_factor = attention_factor;
    launch(space, "krope::perf::naive::gather_cos_sin", gather, c_.tokens() * base.rotated);

    rotate(space, base, q, q_index(c_), c_.q_heads, q_out_.data());
    rotate(space, base, k, k_index(c_), c_.k_heads, k_out_.data());
  }

 private:
  static void launch(const ExecSpace& space, const char* label, const Op& op, std::int64_t n) {
    const std::uint32_t items =
        static_cast<std::uint32_t>((n + Unrolled<Op>::unroll - 1) / Unrolled<Op>::unroll);
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<std::uint32_t>>(space, 0, items),
        Unrolled<Op>{op, static_cast<std::uint32_t>(n), items});
  }

  void rotate(const ExecSpace& space, Op op, const Value* x, TensorIndex index, int heads,
              Value* out) const {
    const std::int64_t rows = c_.tokens() * heads;
    const std::int64_t r = op.rotated;
    op.heads = heads;
    op.by_heads = FastDivider(heads);
    op.x = x;
    op.x_index = index;

    op.op = Op::neg;  // -x2
    op.out = neg_.data();
    launch(space, "krope::perf::naive::neg", op, rows * (r / 2));

    op.op = Op::rotate_half;  // cat(-x2, x1)
    op.a = neg_.data();
    op.out = rotated_half_.data();
    launch(space, "krope::perf::naive::cat", op, rows * r);

    op.op = Op::mul_cos;  // x * cos
    op.out = t1_.data();
    launch(space, "krope::perf::naive::mul_cos", op, rows * r);

    op.op = Op::mul_sin;  // rotate_half(x) * sin
    op.a = rotated_half_.data();
    op.out = t2_.data();
    launch(space, "krope::perf::naive::mul_sin", op, rows * r);

    const bool partial = r < c_.head_dim;
    op.op = Op::add;  // x * cos + rotate_half(x) * sin
    op.a = t1_.data();
    op.b = t2_.data();
    op.out = partial ? out_rot_.data() : out;
    launch(space, "krope::perf::naive::add", op, rows * r);

    if (partial) {  // cat(x_rot', x_pass)
      op.op = Op::cat_pass;
      op.a = out_rot_.data();
      op.out = out;
      launch(space, "krope::perf::naive::cat_pass", op, rows * c_.head_dim);
    }
  }

  Case c_;
  Buffer cos_full_, sin_full_, neg_, rotated_half_, t1_, t2_, out_rot_, q_out_, k_out_;
};

}  // namespace krope::perf
