// CUDA graphs: a krope::apply recorded by a stream capture and replayed gives the bits of the
// same call run directly, in every position mode (range checks off, as captures require); a
// range check asked for inside a capture throws std::invalid_argument naming check_range before
// anything is recorded, and the capture stays usable. Cuda backend only.

#include "support/rope_reference.hpp"

#include <krope/krope.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace krope;
using namespace krope::test;
using Memory = Kokkos::CudaSpace;
using T = bfloat16;

template <class View>
std::vector<std::uint16_t> bits_of(const View& v) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  std::vector<std::uint16_t> bits(host.size());
  std::memcpy(bits.data(), host.data(), bits.size() * sizeof(std::uint16_t));
  return bits;
}

template <class View>
View copy_of(const View& v, const char* label) {
  View c(std::string(label), v.layout());
  Kokkos::deep_copy(c, v);
  return c;
}

/// The kernel nodes of a captured graph (0 for a graph of nothing).
int kernel_nodes(cudaGraph_t graph) {
  std::size_t count = 0;
  EXPECT_EQ(cudaGraphGetNodes(graph, nullptr, &count), cudaSuccess);
  std::vector<cudaGraphNode_t> nodes(count);
  if (count > 0) EXPECT_EQ(cudaGraphGetNodes(graph, nodes.data(), &count), cudaSuccess);
  int kernels = 0;
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type;
    EXPECT_EQ(cudaGraphNodeGetType(node, &type), cudaSuccess);
    kernels += type == cudaGraphNodeTypeKernel;
  }
  return kernels;
}

/// `call(space, q, k)` (in place) twice directly and as a graph replayed twice, on copies of the
/// same random q and k: the same bits.
template <class View, class Call>
void expect_replays_match_direct_calls(const View& q0, const View& k0, Call&& call) {
  const View q_direct = copy_of(q0, "q_direct"), k_direct = copy_of(k0, "k_direct");
  const View q_graph = copy_of(q0, "q_graph"), k_graph = copy_of(k0, "k_graph");
  call(Kokkos::Cuda(), q_direct, k_direct);
  call(Kokkos::Cuda(), q_direct, k_direct);
  Kokkos::fence();

  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  {
    const Kokkos::Cuda space(stream);
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    try {
      call(space, q_graph, k_graph);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the captured call threw: " << e.what();
    }
    cudaGraph_t graph = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    EXPECT_GE(kernel_nodes(graph), 1);
    cudaGraphExec_t exec;
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    EXPECT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    EXPECT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  }
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_TRUE(bits_of(q_graph) == bits_of(q_direct));
  EXPECT_TRUE(bits_of(k_graph) == bits_of(k_direct));
  EXPECT_FALSE(bits_of(q_graph) == bits_of(q0));  // the rotation did something
}

/// `call(space, q, k)` inside a capture must throw std::invalid_argument naming check_range,
/// record nothing, and leave the capture able to end cleanly.
template <class View, class Call>
void expect_refused_in_capture(const View& q, const View& k, Call&& call) {
  const std::vector<std::uint16_t> before = bits_of(q);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  {
    const Kokkos::Cuda space(stream);
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    std::string message;
    try {
      call(space, q, k);
    } catch (const std::invalid_argument& e) {
      message = e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not std::invalid_argument: " << e.what();
    }
    cudaGraph_t graph = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    EXPECT_EQ(kernel_nodes(graph), 0);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    EXPECT_NE(message.find("check_range"), std::string::npos) << message;
  }
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_TRUE(bits_of(q) == before);
}

struct Shape {
  int batch = 3, seq = 40, q_heads = 8, k_heads = 2, dim = 128;
};

using Rows = Kokkos::View<T****, Kokkos::LayoutRight, Memory>;
using Packed = Kokkos::View<T***, Kokkos::LayoutRight, Memory>;

Rows random_rows(const Shape& s, int heads, std::uint64_t seed) {
  Rows v("rows", s.batch, s.seq, heads, s.dim);
  fill_gaussian(v, seed);
  return v;
}

Kokkos::View<std::int64_t*, Memory> device_values(const std::vector<std::int64_t>& values) {
  Kokkos::View<std::int64_t*, Memory> v("values", values.size());
  auto host = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) host(i) = values[i];
  Kokkos::deep_copy(v, host);
  return v;
}

/// ids(b, t) = (97 (b seq + t)) mod limit: positions all over the table.
Kokkos::View<std::int64_t**, Memory> scattered_ids(int batch, int seq, int limit) {
  Kokkos::View<std::int64_t**, Memory> ids("ids", batch, seq);
  auto host = Kokkos::create_mirror_view(ids);
  for (int b = 0; b < batch; ++b)
    for (int t = 0; t < seq; ++t) host(b, t) = (97 * (b * seq + t)) % limit;
  Kokkos::deep_copy(ids, host);
  return ids;
}

TEST(TEST_CATEGORY, cuda_graphs_replay_every_position_mode) {
  const Shape s;
  Config config;
  config.head_dim = s.dim;
  const auto table = make_table<Memory, float>(config, 4096);
  const auto frequencies = make_frequencies<Memory>(config, 4096);
  const Rows q = random_rows(s, s.q_heads, 31), k = random_rows(s, s.k_heads, 32);

  expect_replays_match_direct_calls(q, k, [&](const Kokkos::Cuda& space, Rows a, Rows b) {
    krope::apply(space, table, a, b, contiguous{17});
  });
  expect_replays_match_direct_calls(q, k, [&](const Kokkos::Cuda& space, Rows a, Rows b) {
    krope::apply(space, frequencies, a, b, contiguous{17});
  });
  const auto offsets = device_values({0, 900, 3000});
  expect_replays_match_direct_calls(q, k, [&](const Kokkos::Cuda& space, Rows a, Rows b) {
    krope::apply(space, table, a, b, sequence_offsets{offsets, false});
  });
  const auto ids = scattered_ids(s.batch, s.seq, 4096);
  expect_replays_match_direct_calls(q, k, [&](const Kokkos::Cuda& space, Rows a, Rows b) {
    krope::apply(space, table, a, b, position_ids{ids, false});
  });

  // Packed: sequences of 10, 0 and 30 tokens.
  Packed qp("qp", 40, s.q_heads, s.dim), kp("kp", 40, s.k_heads, s.dim);
  fill_gaussian(qp, 33);
  fill_gaussian(kp, 34);
  const auto cu_seqlens = device_values({0, 10, 10, 40});
  expect_replays_match_direct_calls(qp, kp, [&](const Kokkos::Cuda& space, Packed a, Packed b) {
    krope::apply(space, table, a, b, varlen{cu_seqlens, offsets, false});
  });
}

TEST(TEST_CATEGORY, cuda_graphs_refuse_range_checks_inside_a_capture) {
  const Shape s;
  Config config;
  config.head_dim = s.dim;
  const auto table = make_table<Memory, float>(config, 4096);
  const Rows q = random_rows(s, s.q_heads, 41), k = random_rows(s, s.k_heads, 42);
  const auto offsets = device_values({0, 900, 3000});
  expect_refused_in_capture(q, k, [&](const Kokkos::Cuda& space, Rows a, Rows b) {
    krope::apply(space, table, a, b, sequence_offsets{offsets});
  });
  const auto ids = scattered_ids(s.batch, s.seq, 4096);
  expect_refused_in_capture(q, k, [&](const Kokkos::Cuda& space, Rows a, Rows b) {
    krope::apply(space, table, a, b, position_ids{ids});
  });
  Packed qp("qp", 40, s.q_heads, s.dim), kp("kp", 40, s.k_heads, s.dim);
  fill_gaussian(qp, 43);
  const auto cu_seqlens = device_values({0, 10, 10, 40});
  expect_refused_in_capture(qp, kp, [&](const Kokkos::Cuda& space, Packed a, Packed b) {
    krope::apply(space, table, a, b, varlen{cu_seqlens});
  });
}

}  // namespace
