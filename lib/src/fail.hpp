#pragma once
/// \file fail.hpp
/// How the compiled sources reject bad input: one std::invalid_argument whose message is
/// "krope: " and the parts, streamed in order.

#include <sstream>
#include <stdexcept>

namespace krope::Impl {

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  message << "krope: ";
  (message << ... << parts);
  throw std::invalid_argument(message.str());
}

}  // namespace krope::Impl
