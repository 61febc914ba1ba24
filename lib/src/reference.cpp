#include "fail.hpp"

#include <krope/impl/axis_map.hpp>
#include <krope/reference.hpp>

#include <cmath>

namespace krope {

std::vector<double> reference_rope(const Config& config, const Spectrum& s,
                                   const std::vector<double>& x,
                                   const std::vector<std::int64_t>& positions,
                                   Direction direction) {
  const int d = config.head_dim, half = config.rotated_lanes() / 2;
  const std::size_t axes = static_cast<std::size_t>(config.axes.count());
  if (d <= 0 || x.size() * axes != positions.size() * static_cast<std::size_t>(d))
    Impl::fail("reference_rope: x holds ", x.size(), " values, positions ", positions.size(),
               ", for rows of head_dim ", d, " and ", axes, " position(s) per row");
  const Impl::AxisMap map = Impl::axis_map(config.axes);
  if (s.inv_freq.size() != static_cast<std::size_t>(half))
    Impl::fail("reference_rope: spectrum has ", s.inv_freq.size(), " frequencies, config ", half,
               " pairs");
  const bool interleaved = config.pairing == Pairing::interleaved;
  std::vector<double> y(x);
  const std::size_t rows = positions.size() / axes;
  for (std::size_t row = 0; row < rows; ++row) {
    const double* in = &x[row * d];
    double* out = &y[row * d];
    for (int p = 0; p < half; ++p) {
      const std::int64_t position = positions[row * axes + map.axis_of(p)];
      const long double angle =
          static_cast<long double>(position) * static_cast<long double>(s.inv_freq[p]);
      const double c = static_cast<double>(std::cos(angle)) * s.attention_factor;
      double sn = static_cast<double>(std::sin(angle)) * s.attention_factor;
      if (direction == Direction::backward) sn = -sn;
      const int i0 = interleaved ? 2 * p : p, i1 = interleaved ? 2 * p + 1 : p + half;
      out[i0] = in[i0] * c - in[i1] * sn;
      out[i1] = in[i0] * sn + in[i1] * c;
    }
  }
  return y;
}

}  // namespace krope
