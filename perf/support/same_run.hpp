#pragma once
/// \file same_run.hpp
/// Per-call medians of the copy ceiling and the naive baseline measured earlier in this run,
/// so the later paths of a case can report percent_of_copy and speedup_vs_naive directly.
/// Each benchmark invocation records its median; the reference is the median of those.

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace krope::perf {

class SameRun {
 public:
  static void record(const std::string& key, double seconds) { table()[key].push_back(seconds); }
  /// Median of what was recorded under `key`, or 0 if nothing was (path filtered out).
  static double median(const std::string& key) {
    auto it = table().find(key);
    if (it == table().end() || it->second.empty()) return 0;
    std::vector<double> v = it->second;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  }

 private:
  static std::map<std::string, std::vector<double>>& table() {
    static std::map<std::string, std::vector<double>> t;
    return t;
  }
};

}  // namespace krope::perf
