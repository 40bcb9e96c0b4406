// Timeline: timeline.csv, one row per instance slot per sample, sampled every `interval` of
// simulated time: the slot's KV blocks used and capacity (exact even inside a decode jump; in
// a pipeline group, its member's share, which grows by the dropped weights), the running,
// waiting and swapped requests (a group's on its first member's row only, so they sum over
// slots) and the state of the engine it belongs to.
#pragma once
#include <cstdio>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

class Timeline {
 public:
  explicit Timeline(std::FILE* out);  // out may be null
  void sample(SimTime now, int slot, const Engine& engine, int member);

 private:
  std::FILE* out_;
};

}  // namespace kunsim
