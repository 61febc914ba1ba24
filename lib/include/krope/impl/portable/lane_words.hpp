#pragma once
/// \file lane_words.hpp
/// How a thread holds the lanes it has loaded until it stores them: as words of one or two
/// lanes, and how words are read from and written to a run of a head row. GPUs hold 16-bit lanes
/// two to a 32-bit word: nvcc gives every 16-bit value a register of its own, so a batch of four
/// heads held lane by lane (or widened to float) ran out of registers, and two heads per thread
/// kept too few loads in flight (perf/NOTES.md). Everything else is held one lane per word, as
/// the element type: CPUs widen inside the rotation loop, which g++ vectorises.

#include <krope/impl/arithmetic.hpp>
#include <krope/impl/portable/row_access.hpp>
#include <krope/impl/portable/unroll.hpp>

#include <Kokkos_Macros.hpp>
#include <cstdint>

namespace krope::Impl::portable {

/// One lane per word.
template <class T, bool Paired = false>
struct LaneWords {
  using Word = T;
  using Real = arithmetic_t<T>;
  static constexpr int lanes = 1;
  KOKKOS_FORCEINLINE_FUNCTION static void unpack(const Word& w, Real (&x)[lanes]) {
    x[0] = widen(w);
  }
  KOKKOS_FORCEINLINE_FUNCTION static Word pack(const Real (&x)[lanes]) { return narrow<T>(x[0]); }
  KOKKOS_FORCEINLINE_FUNCTION static void join(Word& w, const T (&v)[lanes]) { copy_lane(w, v[0]); }
  KOKKOS_FORCEINLINE_FUNCTION static void split(T (&v)[lanes], const Word& w) {
    copy_lane(v[0], w);
  }
};

/// Two 16-bit lanes per 32-bit word, the lower lane in the low half (the order of memory).
template <class T>
struct LaneWords<T, true> {
  static_assert(sizeof(T) == 2, "two lanes per word are 16-bit lanes");
  using Word = std::uint32_t;
  using Real = float;
  static constexpr int lanes = 2;
  KOKKOS_FORCEINLINE_FUNCTION static void unpack(const Word& w, Real (&x)[lanes]) {
    x[0] = T::to_float(static_cast<std::uint16_t>(w & 0xffffu));
    x[1] = T::to_float(static_cast<std::uint16_t>(w >> 16));
  }
  KOKKOS_FORCEINLINE_FUNCTION static Word pack(const Real (&x)[lanes]) {
    return Word(T::round_from_float(x[0])) | (Word(T::round_from_float(x[1])) << 16);
  }
  KOKKOS_FORCEINLINE_FUNCTION static void join(Word& w, const T (&v)[lanes]) {
    w = Word(v[0].bits) | (Word(v[1].bits) << 16);
  }
  KOKKOS_FORCEINLINE_FUNCTION static void split(T (&v)[lanes], const Word& w) {
    v[0].bits = static_cast<std::uint16_t>(w & 0xffffu);
    v[1].bits = static_cast<std::uint16_t>(w >> 16);
  }
};

/// The first `valid` lanes of N words, lane by lane (the short chunk); the other lanes zero.
template <class W, RowAccess A, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void load_words_masked(const T* p, std::int64_t stride,
                                                   typename W::Word (&w)[N], int valid) {
  KROPE_UNROLL
  for (int k = 0; k < N; ++k) {
    T v[W::lanes];
    KROPE_UNROLL
    for (int l = 0; l < W::lanes; ++l) {
      const int i = k * W::lanes + l;
      v[l] = i < valid ? p[A == RowAccess::strided ? i * stride : i] : T(0.0f);
    }
    W::join(w[k], v);
  }
}

template <class W, RowAccess A, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void store_words_masked(T* p, std::int64_t stride,
                                                    const typename W::Word (&w)[N], int valid) {
  KROPE_UNROLL
  for (int k = 0; k < N; ++k) {
    T v[W::lanes];
    W::split(v, w[k]);
    KROPE_UNROLL
    for (int l = 0; l < W::lanes; ++l) {
      const int i = k * W::lanes + l;
      if (i < valid) copy_lane(p[A == RowAccess::strided ? i * stride : i], v[l]);
    }
  }
}

/// N words of lanes starting at p. Bytes: the alignment p is known to have, and the width of
/// each access (16 or 4); 0 = none known, lane by lane (elements `stride` apart when strided).
template <class W, RowAccess A, int Bytes, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void load_words(const T* p, std::int64_t stride,
                                            typename W::Word (&w)[N]) {
  using Word = typename W::Word;
  if constexpr (Bytes >= static_cast<int>(sizeof(Word))) {
    using P = Pack<Word, Bytes>;
    static_assert(N % P::width == 0, "aligned runs are whole packs");
    KROPE_UNROLL
    for (int k = 0; k < N / P::width; ++k) {
      const P pack = reinterpret_cast<const P*>(p)[k];
      KROPE_UNROLL
      for (int i = 0; i < P::width; ++i) w[k * P::width + i] = pack.values[i];
    }
  } else {
    load_words_masked<W, A>(p, stride, w, N * W::lanes);
  }
}

template <class W, RowAccess A, int Bytes, int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void store_words(T* p, std::int64_t stride,
                                             const typename W::Word (&w)[N]) {
  using Word = typename W::Word;
  if constexpr (Bytes >= static_cast<int>(sizeof(Word))) {
    using P = Pack<Word, Bytes>;
    static_assert(N % P::width == 0, "aligned runs are whole packs");
    KROPE_UNROLL
    for (int k = 0; k < N / P::width; ++k) {
      P pack;
      KROPE_UNROLL
      for (int i = 0; i < P::width; ++i) pack.values[i] = w[k * P::width + i];
      reinterpret_cast<P*>(p)[k] = pack;
    }
  } else {
    store_words_masked<W, A>(p, stride, w, N * W::lanes);
  }
}

}  // namespace krope::Impl::portable
