#pragma once
/// \file stream_capture.hpp
/// Whether an execution space instance's stream is being captured into a graph. A capture
/// records work instead of running it and fails any call that waits for the device, so a
/// position range check (a reduction whose result the host reads) cannot run inside one.

#include <Kokkos_Core.hpp>

namespace krope::Impl {

/// Host backends (and GPU backends krope does not query) never capture.
template <class ExecSpace>
bool stream_is_capturing(const ExecSpace&) {
  return false;
}

#if defined(KOKKOS_ENABLE_CUDA)
inline bool stream_is_capturing(const Kokkos::Cuda& space) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  return cudaStreamIsCapturing(space.cuda_stream(), &status) == cudaSuccess &&
         status != cudaStreamCaptureStatusNone;
}
#endif

}  // namespace krope::Impl
