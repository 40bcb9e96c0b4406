// PerfettoTrace: trace.json in the Chrome trace event format, which ui.perfetto.dev and
// chrome://tracing open. Process 1 has a track per engine with its iterations and decode
// jumps as slices; process 2 a track per link with its transfers; process 3 the decisions as
// instant events. Written as the run goes (timestamps in microseconds).
#pragma once
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/sim_time.hpp"

namespace kunsim {

class PerfettoTrace {
 public:
  explicit PerfettoTrace(std::FILE* out);  // out may be null: nothing is written
  ~PerfettoTrace();
  void work(int engine, const std::string& engine_name, SimTime start, SimTime end, std::int64_t steps, int decodes,
            std::int64_t prefill_tokens);
  void transfer(int link, const std::string& link_name, SimTime start, SimTime end, std::int64_t bytes);
  void decision(const nlohmann::json& row);

 private:
  void event(const nlohmann::json& e);
  void name_track(int pid, int tid, const std::string& name, std::set<int>& named);
  std::FILE* out_;
  bool first_ = true;
  std::set<int> engines_, links_;
};

}  // namespace kunsim
