// Test driver: initialises Kokkos once for every test group of every enabled backend. In a CUDA
// build on a machine without a visible GPU, Kokkos cannot initialise at all, so every test is
// reported as skipped (not failed): CI compiles the CUDA build but has no GPU.

#include <gtest/gtest.h>
#include <Kokkos_Core.hpp>

#include <cstdio>

#if defined(KOKKOS_ENABLE_CUDA)
#include <cuda_runtime.h>
#endif

namespace {

bool device_visible() {
#if defined(KOKKOS_ENABLE_CUDA)
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
#else
  return true;
#endif
}

class NoDevice : public ::testing::Environment {
 public:
  void SetUp() override {
    GTEST_SKIP() << "no CUDA device visible: Kokkos (CUDA build) not initialised";
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  const bool listing = ::testing::GTEST_FLAG(list_tests);
  if (listing) return RUN_ALL_TESTS();
  if (!device_visible()) {
    std::printf("[krope] no CUDA device visible: every test of this CUDA build is skipped\n");
    ::testing::AddGlobalTestEnvironment(new NoDevice);
    return RUN_ALL_TESTS();
  }
  Kokkos::initialize(argc, argv);
  const int result = RUN_ALL_TESTS();
  Kokkos::finalize();
  return result;
}
