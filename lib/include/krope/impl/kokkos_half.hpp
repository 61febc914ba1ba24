#pragma once
/// \file kokkos_half.hpp
/// Kokkos 4's own 16-bit types, Kokkos::Experimental::half_t and bhalf_t, accepted where
/// krope::float16 and krope::bfloat16 are. Where Kokkos gives them 16-bit storage (builds with a
/// GPU backend) they hold the same IEEE binary16 / bfloat16 bits, so their Views are re-viewed
/// as krope's storage types (unmanaged, same layout and strides) and computed with the same
/// numerics: fp32 arithmetic, one rounding. Where Kokkos makes them aliases of float (host-only
/// builds) they are float Views and need nothing. Kokkos 3.4 has no usable half_t with CUDA 13:
/// there the API is unchanged.

#include <krope/bfloat16.hpp>
#include <krope/float16.hpp>

#include <Kokkos_Core.hpp>
#include <type_traits>

namespace krope::Impl {

/// The krope element type that stores T's bits: T itself except for Kokkos' 16-bit types.
template <class T>
struct StorageOf {
  using type = T;
};
template <class T>
struct StorageOf<const T> {
  using type = const typename StorageOf<T>::type;
};
#if KOKKOS_VERSION >= 40000
#if !KOKKOS_HALF_T_IS_FLOAT
template <>
struct StorageOf<Kokkos::Experimental::half_t> {
  using type = float16;
};
#endif
#if !KOKKOS_BHALF_T_IS_FLOAT
template <>
struct StorageOf<Kokkos::Experimental::bhalf_t> {
  using type = bfloat16;
};
#endif
#endif

template <class T, unsigned Rank>
struct ArrayOf;
template <class T>
struct ArrayOf<T, 3> {
  using type = T***;
};
template <class T>
struct ArrayOf<T, 4> {
  using type = T****;
};

/// `v` itself, or for a View of a Kokkos 16-bit type an unmanaged View of krope's type over the
/// same memory, extents and strides (memory traits other than Unmanaged are dropped).
template <class View>
decltype(auto) as_storage(const View& v) {
  if constexpr (!Kokkos::is_view<View>::value) {
    return (v);  // not a View: apply_rotary says so
  } else {
    using Value = typename View::value_type;
    using Storage = typename StorageOf<Value>::type;
    if constexpr (std::is_same<Storage, Value>::value) {
      return (v);
    } else {
      static_assert(sizeof(Storage) == sizeof(Value) && alignof(Storage) <= alignof(Value),
                    "krope: Kokkos' 16-bit type is not 16-bit storage here");
      using Array = typename ArrayOf<Storage, unsigned(View::rank)>::type;
      using Out = Kokkos::View<Array, typename View::array_layout, typename View::memory_space,
                               Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
      return Out(reinterpret_cast<Storage*>(v.data()), v.layout());
    }
  }
}

}  // namespace krope::Impl
