#pragma once
// Which krope kernel a call ran, read from its name through Kokkos' profiling callbacks: the
// portable kernel is the parallel_for "krope::apply[portable]", a backend kernel announces itself
// with a region ("krope::apply[cuda_vec16]"). A KernelLog records them for its lifetime.

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace krope::test {

class KernelLog {
 public:
  KernelLog() {
    names().clear();
    Kokkos::Tools::Experimental::set_begin_parallel_for_callback(&on_parallel_for);
    Kokkos::Tools::Experimental::set_push_region_callback(&on_region);
  }
  ~KernelLog() {
    Kokkos::Tools::Experimental::set_begin_parallel_for_callback(nullptr);
    Kokkos::Tools::Experimental::set_push_region_callback(nullptr);
  }
  KernelLog(const KernelLog&) = delete;
  KernelLog& operator=(const KernelLog&) = delete;

  /// The krope kernels ran since construction, in order ("portable", "cuda_vec16", ...).
  std::vector<std::string> kernels() const { return names(); }

 private:
  static std::vector<std::string>& names() {
    static std::vector<std::string> recorded;
    return recorded;
  }
  static void record(const char* name) {
    const std::string s(name), prefix = "krope::apply[";
    if (s.compare(0, prefix.size(), prefix) == 0 && s.back() == ']')
      names().push_back(s.substr(prefix.size(), s.size() - prefix.size() - 1));
  }
  static void on_parallel_for(const char* name, std::uint32_t, std::uint64_t*) { record(name); }
  static void on_region(const char* name) { record(name); }
};

}  // namespace krope::test
