// OpTimer: how calibrate/ times anything. Warm-up first (module load, cuBLASLt plans, the
// shared-memory attribute stay out of the numbers); then each trial replays a CUDA graph of
// `inner` back-to-back launches between two CUDA events, so launch gaps shrink to what a
// graph-captured serving engine sees; the result is the median over trials of trial / inner.
// launch(i) gets a running index so callers rotate among input sets and nothing is timed out
// of the L2 cache that would not be there in a real iteration.
#pragma once
#include <cuda_runtime.h>

#include <functional>

namespace kunsim::calibrate {

struct Timing {
  double seconds = 0;  // median per launch over the trials
  int repeats = 0;     // launches timed
  double min_s = 0, p90_s = 0;  // the fastest trial and the 90th percentile, per launch
};

struct TimerOptions {
  int trials = 9;
  double min_trial_s = 1e-3;  // launches per trial grow until a trial lasts about this long
  int max_inner = 256;
};

class OpTimer {
 public:
  OpTimer(cudaStream_t s, TimerOptions o);
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

  Timing time(const std::function<void(int)>& launch);
  // Multi-GPU work (NCCL across devices) is not captured: the host clock around a full
  // synchronisation of every GPU, over `inner` launches per trial.
  Timing time_host(const std::function<void(int)>& launch, const std::function<void()>& synchronize);

 private:
  int launches_per_trial(double one_launch_s) const;  // enough to last min_trial_s
  cudaStream_t s_;
  TimerOptions o_;
  cudaEvent_t start_, stop_;
};

}  // namespace kunsim::calibrate
