// InstanceGroup: one group of a fleet (`deployment.groups`): `count` identical instances of one
// GPU kind and TP degree, with their own engine knobs, memory plan and cost model, and a role.
// A mixed instance serves a request from arrival to its last token. Disaggregated serving
// splits that: a prefill instance takes arrivals and computes prompts, then hands each
// request's KV to a decode instance (kv_handoff.hpp), which generates the rest. The single
// form of a scenario is one mixed group.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

enum class InstanceRole { Mixed, Prefill, Decode };
inline const char* instance_role_name(InstanceRole r) {
  switch (r) {
    case InstanceRole::Mixed: return "mixed";
    case InstanceRole::Prefill: return "prefill";
    case InstanceRole::Decode: return "decode";
  }
  return "?";
}

struct InstanceGroup {
  std::string name;
  std::string gpu;   // GPU kind
  InstanceRole role = InstanceRole::Mixed;
  // The cluster's context with this group's engine, memory plan and cost model (and `group`).
  ServingContext ctx;
  std::int64_t blocks_per_instance = 0;       // KV blocks of one instance
  std::int64_t host_blocks_per_instance = 0;  // host swap blocks of one instance
  std::vector<std::vector<int>> gpus;         // per instance: its global GPU ids, one per TP rank
};

}  // namespace kunsim
