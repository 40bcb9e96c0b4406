// Timeline: timeline.csv, one row per instance per sample, sampled every `interval` of
// simulated time: KV blocks used (exact even inside a decode jump), running, waiting and
// swapped requests, and the instance's state.
#pragma once
#include <cstdio>

#include "sim/serving/instance.hpp"

namespace kunsim {

class Timeline {
 public:
  explicit Timeline(std::FILE* out);  // out may be null
  void sample(SimTime now, const Instance& inst);

 private:
  std::FILE* out_;
};

}  // namespace kunsim
