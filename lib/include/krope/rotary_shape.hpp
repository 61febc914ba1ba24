#pragma once
/// \file rotary_shape.hpp
/// What an angle source (krope::Table, krope::Frequencies) is built for, checked when it is
/// built: both hold it, and krope::apply reads the call's shape from it.

#include <krope/config.hpp>
#include <krope/spectrum.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace krope {

/// The head and rotary dims, the pairing, the attention factor folded into cos/sin and the
/// position axes of an angle source.
class RotaryShape {
 public:
  RotaryShape() = default;

  int head_dim() const { return head_dim_; }
  /// Rotated lanes R (head_dim when the config's rotary_dim was 0).
  int rotary_dim() const { return rotary_dim_; }
  Pairing pairing() const { return pairing_; }
  double attention_factor() const { return attention_factor_; }
  /// The position axes (multi-axis RoPE): pair j turns by the position of its own axis.
  const Axes& axes() const { return axes_; }
  bool empty() const { return head_dim_ == 0; }

 protected:
  /// Throws std::invalid_argument, naming `owner` and the argument, unless the shape and the
  /// axes are valid (as validate checks a Config) and `pairs`, the values the source holds per
  /// position, is rotary_dim / 2.
  RotaryShape(const char* owner, int head_dim, int rotary_dim, Pairing pairing,
              double attention_factor, Axes axes, std::int64_t pairs)
      : head_dim_(head_dim),
        rotary_dim_(rotary_dim),
        pairing_(pairing),
        attention_factor_(attention_factor),
        axes_(std::move(axes)) {
    validate_angle_source(owner, head_dim, rotary_dim, pairs, axes_);
  }

 private:
  int head_dim_ = 0;
  int rotary_dim_ = 0;
  Pairing pairing_ = Pairing::half_split;
  double attention_factor_ = 1.0;
  Axes axes_;
};

/// Table and Frequencies: what krope::apply rotates by.
template <class T>
constexpr bool is_angle_source_v = std::is_base_of<RotaryShape, T>::value;

}  // namespace krope
