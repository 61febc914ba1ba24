#pragma once
/// \file layout.hpp
/// How q and k lie in memory in a test or benchmark case.

namespace krope::support {

enum class Layout {
  bshd,       ///< [batch][seq][heads][dim], LayoutRight (varlen: [tokens][heads][dim])
  bhsd,       ///< [batch][heads][seq][dim] memory seen as a strided [batch][seq][heads][dim] View
  fused_qkv,  ///< q and k as head slices of one [batch][seq][q+2k heads][dim] buffer
};

}  // namespace krope::support
