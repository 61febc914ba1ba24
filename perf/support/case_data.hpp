#pragma once
/// \file case_data.hpp
/// Everything one case needs on the device, built once and shared by its paths (copy, naive,
/// generic, apply): the input ring (q then k in each slot), the output ring when out of place,
/// positions in every form the modes take, the table or frequencies, the naive baseline's
/// workspace, and the copy rings. Only one case is alive at a time (fixture()), so the suite's
/// memory is that of its largest case.

#include "buffers.hpp"
#include "naive_rope.hpp"
#include "rope_case.hpp"

#include <krope/frequencies.hpp>
#include <krope/impl/arithmetic.hpp>
#include <krope/multimodal_positions.hpp>
#include <krope/spectrum.hpp>
#include <krope/table.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace krope::perf {

/// What one path's checking call found (measured once per case and path).
struct PathCheck {
  double relative_error = 0;
  std::int64_t extra_bytes = 0;
};

template <class ExecSpace, class Value>
class CaseData {
 public:
  using memory_space = typename ExecSpace::memory_space;
  using Real = table_real_t<Value>;
  using Positions1 = Kokkos::View<std::int64_t*, memory_space>;

  CaseData(const Case& c, std::size_t working_set_bytes) : c(c) {
    ExecSpace space;
    const std::size_t q_bytes = c.q_elements() * sizeof(Value);
    k_offset = round_up(q_bytes);
    const std::size_t slot_bytes = k_offset + c.k_elements() * sizeof(Value);
    inputs = Ring<ExecSpace>("krope::perf::inputs", slot_bytes, working_set_bytes);
    inputs.template fill_random<Value>(space, 1);
    if (c.out_of_place) {
      outputs = Ring<ExecSpace>("krope::perf::outputs", slot_bytes, working_set_bytes);
      outputs.template fill_random<Value>(space, 2);
    }
    make_positions();
    const Config config = c.config();
    spectrum = krope::spectrum(config, max_position + 1);
    if (c.angles == AngleMode::table)
      table = make_table<memory_space, Real>(config, max_position + 1);
    else
      frequencies = make_frequencies<memory_space>(config, max_position + 1);
    space.fence();
  }

  Value* q(int slot) const { return inputs.template at<Value>(slot); }
  Value* k(int slot) const { return inputs.template at<Value>(slot, k_offset); }
  Value* q_out(int slot) const { return outputs.template at<Value>(slot); }
  Value* k_out(int slot) const { return outputs.template at<Value>(slot, k_offset); }

  NaiveRope<ExecSpace, Value>& naive() {
    if (!naive_) naive_ = std::make_unique<NaiveRope<ExecSpace, Value>>(c);
    return *naive_;
  }
  void run_naive(const ExecSpace& space, int slot) {
    const bool use_table = c.angles == AngleMode::table;
    naive().run(space, q(slot), k(slot), token_position, table.cos(), table.sin(),
                frequencies.inv_freq(), static_cast<float>(spectrum.attention_factor), use_table);
  }

  /// Copy ceiling: distinct source and destination rings of |q| + |k| bytes per slot, so one
  /// copy moves the same bytes (read + written) as one in-place rotation.
  void ensure_copy_rings(std::size_t working_set_bytes) {
    if (copy_source.slots() > 0) return;
    const std::size_t bytes = static_cast<std::size_t>(c.bytes() / 2);
    copy_source = Ring<ExecSpace>("krope::perf::copy_source", bytes, working_set_bytes);
    copy_destination = Ring<ExecSpace>("krope::perf::copy_destination", bytes, working_set_bytes);
    copy_source.template fill_random<unsigned>(ExecSpace(), 3);
    copy_destination.template fill_random<unsigned>(ExecSpace(),
                                                    4);  // touched: no first-touch faults
  }
  /// Device: Kokkos::deep_copy (cudaMemcpyAsync on the instance's stream). Serial: memcpy, as
  /// Kokkos' host deep_copy would run on the default host space's threads.
  /// The copy ceiling: bytes() / 2 copied from copy_source to copy_destination. Serial:
  /// memcpy; OpenMP: one memcpy of a contiguous slice per thread (Kokkos::deep_copy moves
  /// ~40% less on the development host, which would inflate percentages); devices: deep_copy.
  void run_copy(const ExecSpace& space, int slot) const {
    const std::size_t bytes = static_cast<std::size_t>(c.bytes() / 2);
    unsigned char* to = copy_destination.template at<unsigned char>(slot);
    const unsigned char* from = copy_source.template at<unsigned char>(slot);
    if constexpr (host_space) {
      for_each_slice(space, bytes, [=](std::size_t begin, std::size_t end) {
        std::memcpy(to + begin, from + begin, end - begin);
      });
    } else {
      using Bytes =
          Kokkos::View<unsigned char*, memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
      Kokkos::deep_copy(space, Bytes(to, bytes), Bytes(const_cast<unsigned char*>(from), bytes));
    }
  }

  /// Hosts: the same bytes read and written back in place ("touch": what an in-place rotation
  /// must move at least), one contiguous slice per thread, in 8-byte words XORed with a zero the
  /// compiler cannot see.
  void run_touch(const ExecSpace& space, int slot) const {
    static volatile std::uint64_t opaque_zero = 0;
    const std::uint64_t zero = opaque_zero;
    const std::size_t words = static_cast<std::size_t>(c.bytes() / 2) / 8;
    std::uint64_t* data = copy_source.template at<std::uint64_t>(slot);
    for_each_slice(space, words, [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) data[i] ^= zero;
    });
  }

  static constexpr bool host_space =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, memory_space>::accessible;

  /// f(begin, end) on one contiguous slice of [0, n) per host thread of `space`.
  template <class F>
  static void for_each_slice(const ExecSpace& space, std::size_t n, const F& f) {
    const int threads = space.concurrency();
    Kokkos::parallel_for(
        "krope::perf::slices", Kokkos::RangePolicy<ExecSpace>(space, 0, threads),
        [=](int i) { f(n * std::size_t(i) / threads, n * std::size_t(i + 1) / threads); });
    space.fence();
  }

  Case c;
  Ring<ExecSpace> inputs, outputs, copy_source, copy_destination;
  std::size_t k_offset = 0;
  /// Rotary position of each token row (axes.count() of them a row for axis_positions).
  std::vector<std::int64_t> host_position;
  Positions1 token_position;  ///< the same on the device (naive baseline)
  Kokkos::View<std::int64_t**, memory_space> ids;
  Kokkos::View<std::int64_t***, Kokkos::LayoutRight, memory_space> axis_ids;  ///< [b][t][axes]
  Positions1 offsets, cu_seqlens;
  std::int64_t max_position = 0;
  Spectrum spectrum;
  Table<memory_space, Real> table;
  Frequencies<memory_space> frequencies;
  int next_slot = 0;  ///< continues across repetitions so no run starts on a warm slot
  std::map<Path, PathCheck> checks;

 private:
  /// Host positions per mode (fixed seed), copied to the device in the form the mode takes.
  void make_positions() {
    std::mt19937_64 rng(2024);
    const std::int64_t batch = c.batch, seq = c.seq;
    const std::int64_t spread = std::max<std::int64_t>(seq, 4096);
    host_position.assign(c.tokens(), 0);
    switch (c.positions) {
      case PositionMode::contiguous:
        for (std::int64_t row = 0; row < c.tokens(); ++row) host_position[row] = row % seq;
        break;
      case PositionMode::position_ids: {  // arbitrary ids in [0, 2 * max(seq, 4096))
        std::uniform_int_distribution<std::int64_t> pick(0, 2 * spread - 1);
        ids = decltype(ids)("krope::perf::ids", batch, seq);
        auto h = Kokkos::create_mirror_view(ids);
        for (std::int64_t b = 0; b < batch; ++b)
          for (std::int64_t t = 0; t < seq; ++t) host_position[b * seq + t] = h(b, t) = pick(rng);
        Kokkos::deep_copy(ids, h);
        break;
      }
      case PositionMode::sequence_offsets: {  // a KV cache of up to max(seq, 4096) tokens each
        std::uniform_int_distribution<std::int64_t> pick(0, spread - 1);
        offsets = Positions1("krope::perf::offsets", batch);
        auto h = Kokkos::create_mirror_view(offsets);
        for (std::int64_t b = 0; b < batch; ++b) {
          h(b) = pick(rng);
          for (std::int64_t t = 0; t < seq; ++t) host_position[b * seq + t] = h(b) + t;
        }
        Kokkos::deep_copy(offsets, h);
        break;
      }
      case PositionMode::varlen: {  // batch sequences of seq +- up to seq/2 tokens, same total
        std::uniform_int_distribution<std::int64_t> pick(0, seq / 2);
        std::vector<std::int64_t> length(batch, seq);
        for (std::int64_t b = 0; b + 1 < batch; b += 2) {
          const std::int64_t delta = pick(rng);
          length[b] += delta;
          length[b + 1] -= delta;
        }
        cu_seqlens = Positions1("krope::perf::cu_seqlens", batch + 1);
        auto h = Kokkos::create_mirror_view(cu_seqlens);
        h(0) = 0;
        for (std::int64_t b = 0; b < batch; ++b) {
          h(b + 1) = h(b) + length[b];
          for (std::int64_t t = 0; t < length[b]; ++t) host_position[h(b) + t] = t;
        }
        Kokkos::deep_copy(cu_seqlens, h);
        break;
      }
      case PositionMode::axis_positions:
        make_axis_positions();
        break;
    }
    max_position = *std::max_element(host_position.begin(), host_position.end());
    token_position = Positions1("krope::perf::token_position", c.tokens());
    auto h = Kokkos::create_mirror_view(token_position);  // the naive baseline: the first axis
    const int axes = c.axes.count();
    for (std::int64_t row = 0; row < c.tokens(); ++row) h(row) = host_position[row * axes];
    Kokkos::deep_copy(token_position, h);
  }

  /// Three axes: every sequence a prompt of text, a 64-wide image grid of about 3/4 of its
  /// tokens and text (krope::multimodal_positions); two: a patch grid 64 wide, (row, column).
  void make_axis_positions() {
    const int axes = c.axes.count();
    const std::int64_t seq = c.seq, width = std::min<std::int64_t>(seq, 64);
    std::vector<std::int64_t> sequence;
    if (axes == 3) {
      const std::int64_t rows = seq * 3 / 4 / width, before = (seq - rows * width) / 4;
      sequence = multimodal_positions({PromptSegment::text_tokens(before),
                                       PromptSegment::grid(1, rows, width),
                                       PromptSegment::text_tokens(seq - before - rows * width)})
                     .ids;
    } else {
      for (std::int64_t t = 0; t < seq; ++t)
        for (int a = 0; a < axes; ++a) sequence.push_back(a == 0 ? t / width : t % width);
    }
    host_position.clear();
    for (int b = 0; b < c.batch; ++b)
      host_position.insert(host_position.end(), sequence.begin(), sequence.end());
    axis_ids = decltype(axis_ids)("krope::perf::axis_ids", c.batch, seq, axes);
    auto h = Kokkos::create_mirror_view(axis_ids);
    for (std::size_t i = 0; i < host_position.size(); ++i) h.data()[i] = host_position[i];
    Kokkos::deep_copy(axis_ids, h);
  }

  std::unique_ptr<NaiveRope<ExecSpace, Value>> naive_;
};

/// The one live case: a new key releases the previous case's memory before building.
struct FixtureSlot {
  std::string key;
  std::shared_ptr<void> data;
};
inline FixtureSlot& fixture_slot() {
  static FixtureSlot slot;
  return slot;
}
inline void release_fixtures() {
  fixture_slot().data.reset();
  fixture_slot().key.clear();
}

template <class ExecSpace, class Value>
CaseData<ExecSpace, Value>& fixture(const Case& c, std::size_t working_set_bytes) {
  FixtureSlot& slot = fixture_slot();
  const std::string key = c.key() + "@" + ExecSpace::name();
  if (slot.key != key) {
    release_fixtures();
    slot.data = std::make_shared<CaseData<ExecSpace, Value>>(c, working_set_bytes);
    slot.key = key;
  }
  return *static_cast<CaseData<ExecSpace, Value>*>(slot.data.get());
}

}  // namespace krope::perf
