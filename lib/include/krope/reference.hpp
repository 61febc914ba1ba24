#pragma once
/// \file reference.hpp
/// The fp64 reference rotation on the host: slow and simple, for validating krope::apply (and
/// an integration of it) on sampled data. Angles are formed in long double from the spectrum's
/// fp64 inverse frequencies, so the reference stays far below fp32 error at positions ~2^24.

#include <krope/config.hpp>
#include <krope/spectrum.hpp>

#include <cstdint>
#include <vector>

namespace krope {

/// Rotates the rows of `x` (row-major [rows][config.head_dim]); row r sits at `positions[r]`,
/// or with A = config.axes.count() > 1 axes at positions[r * A + a] on axis a (pair j turns by
/// the position of its axis). Uses `s` (from krope::spectrum(config, seq_len)), attention factor
/// included; pass-through lanes are copied. Throws std::invalid_argument when positions does not
/// hold A entries per row of x.
std::vector<double> reference_rope(const Config& config, const Spectrum& s,
                                   const std::vector<double>& x,
                                   const std::vector<std::int64_t>& positions,
                                   Direction direction = Direction::forward);

}  // namespace krope
