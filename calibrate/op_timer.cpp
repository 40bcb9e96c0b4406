#include "calibrate/op_timer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "kernels/cuda_check.hpp"

namespace kunsim::calibrate {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median, min and p90 (nearest rank) of the trials' per-launch times.
Timing summarize(std::vector<double> v, int repeats) {
  std::sort(v.begin(), v.end());
  Timing t;
  t.repeats = repeats;
  t.min_s = v.front();
  t.p90_s = v[std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(v.size()))) - 1)];
  t.seconds = median(v);
  return t;
}

}  // namespace

OpTimer::OpTimer(cudaStream_t s, TimerOptions o) : s_(s), o_(o) {
  KUNSIM_CUDA(cudaEventCreate(&start_));
  KUNSIM_CUDA(cudaEventCreate(&stop_));
}

OpTimer::~OpTimer() {
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
}

int OpTimer::launches_per_trial(double one_launch_s) const {
  return std::clamp(static_cast<int>(std::ceil(o_.min_trial_s / std::max(1e-7, one_launch_s))), 1, o_.max_inner);
}

Timing OpTimer::time(const std::function<void(int)>& launch) {
  int index = 0;
  for (int i = 0; i < 3; ++i) launch(index++);
  KUNSIM_CUDA(cudaStreamSynchronize(s_));
  // One timed launch sizes the graph.
  KUNSIM_CUDA(cudaEventRecord(start_, s_));
  launch(index++);
  KUNSIM_CUDA(cudaEventRecord(stop_, s_));
  KUNSIM_CUDA(cudaEventSynchronize(stop_));
  float ms = 0;
  KUNSIM_CUDA(cudaEventElapsedTime(&ms, start_, stop_));
  const int inner = launches_per_trial(ms * 1e-3);

  cudaGraph_t graph;
  KUNSIM_CUDA(cudaStreamBeginCapture(s_, cudaStreamCaptureModeThreadLocal));
  try {
    for (int i = 0; i < inner; ++i) launch(index++);
  } catch (...) {
    cudaStreamEndCapture(s_, &graph);
    throw;
  }
  KUNSIM_CUDA(cudaStreamEndCapture(s_, &graph));
  cudaGraphExec_t exec;
  KUNSIM_CUDA(cudaGraphInstantiate(&exec, graph, 0));
  KUNSIM_CUDA(cudaGraphLaunch(exec, s_));  // the graph's own warm-up
  std::vector<double> per;
  for (int t = 0; t < o_.trials; ++t) {
    KUNSIM_CUDA(cudaEventRecord(start_, s_));
    KUNSIM_CUDA(cudaGraphLaunch(exec, s_));
    KUNSIM_CUDA(cudaEventRecord(stop_, s_));
    KUNSIM_CUDA(cudaEventSynchronize(stop_));
    KUNSIM_CUDA(cudaEventElapsedTime(&ms, start_, stop_));
    per.push_back(ms * 1e-3 / inner);
  }
  KUNSIM_CUDA(cudaGraphExecDestroy(exec));
  KUNSIM_CUDA(cudaGraphDestroy(graph));
  return summarize(per, o_.trials * inner);
}

Timing OpTimer::time_host(const std::function<void(int)>& launch, const std::function<void()>& synchronize) {
  using clock = std::chrono::steady_clock;
  int index = 0;
  for (int i = 0; i < 3; ++i) launch(index++);
  synchronize();
  auto t0 = clock::now();
  launch(index++);
  synchronize();
  const int inner = launches_per_trial(std::chrono::duration<double>(clock::now() - t0).count());
  std::vector<double> per;
  for (int t = 0; t < o_.trials; ++t) {
    t0 = clock::now();
    for (int i = 0; i < inner; ++i) launch(index++);
    synchronize();
    per.push_back(std::chrono::duration<double>(clock::now() - t0).count() / inner);
  }
  return summarize(per, o_.trials * inner);
}

}  // namespace kunsim::calibrate
