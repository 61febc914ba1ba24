#pragma once
/// \file buffers.hpp
/// Rings of input buffers larger than the last-level cache, filled with random data.
///
/// Timing the same buffer call after call measures the cache, not memory: a ring holds enough
/// equal slots that together they exceed twice the cache, and each timed call takes the next
/// slot. All slots live in one allocation (one cudaMalloc however many slots a small shape
/// needs), each slot 256-byte aligned. Data are uniform in [-1, 1), never zeros: zeros hide
/// unwritten outputs and can run faster than real data.

#include <Kokkos_Core.hpp>
#include <Kokkos_Random.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace krope::perf {

constexpr std::size_t slot_alignment = 256;

inline std::size_t round_up(std::size_t bytes, std::size_t to = slot_alignment) {
  return (bytes + to - 1) / to * to;
}

/// Fills n values at `data` with uniform random numbers in [-1, 1) converted to Value.
template <class ExecSpace, class Value>
struct RandomFill {
  using Pool = Kokkos::Random_XorShift64_Pool<ExecSpace>;
  Value* data;
  std::int64_t n;
  Pool pool;

  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const {
    auto gen = pool.get_state();
    const float u = gen.frand(-1.0f, 1.0f);
    pool.free_state(gen);
    data[i] = static_cast<Value>(u);
  }

  static void fill(const ExecSpace& space, Value* data, std::int64_t n, std::uint64_t seed) {
    Pool pool(seed);
    Kokkos::parallel_for(
        "krope::perf::random_fill",
        Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<std::int64_t>>(space, 0, n),
        RandomFill{data, n, pool});
    space.fence();
  }
};

/// `slots` equal slots of `slot_bytes` (rounded up to 256) in one allocation of `MemorySpace`.
template <class ExecSpace>
class Ring {
 public:
  using memory_space = typename ExecSpace::memory_space;

  Ring() = default;
  /// As many slots as needed to exceed `min_total_bytes`, at least `min_slots`.
  Ring(const std::string& label, std::size_t slot_bytes, std::size_t min_total_bytes,
       int min_slots = 2)
      : slot_stride_(round_up(std::max<std::size_t>(slot_bytes, 1))) {
    slots_ = std::max<int>(min_slots, static_cast<int>(min_total_bytes / slot_stride_ + 1));
    storage_ = Kokkos::View<unsigned char*, memory_space>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, label), slot_stride_ * slots_);
  }

  int slots() const { return slots_; }
  std::size_t slot_stride() const { return slot_stride_; }
  std::size_t total_bytes() const { return slot_stride_ * slots_; }
  /// Start of slot `i` (taken modulo the slot count) as Value*, plus `byte_offset`.
  template <class Value>
  Value* at(int i, std::size_t byte_offset = 0) const {
    return reinterpret_cast<Value*>(storage_.data() + slot_stride_ * (i % slots_) + byte_offset);
  }

  /// Random Value data in every slot (padding included).
  template <class Value>
  void fill_random(const ExecSpace& space, std::uint64_t seed) const {
    RandomFill<ExecSpace, Value>::fill(space, reinterpret_cast<Value*>(storage_.data()),
                                       static_cast<std::int64_t>(total_bytes() / sizeof(Value)),
                                       seed);
  }

 private:
  std::size_t slot_stride_ = 0;
  int slots_ = 0;
  Kokkos::View<unsigned char*, memory_space> storage_;
};

}  // namespace krope::perf
