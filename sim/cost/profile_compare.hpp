// compare_profiles: two measured profiles priced side by side, op by op: `kunsim
// compare-profiles A B`. Each profile becomes the cost model a run would use (either format:
// kunsim-calibrate's rows of kunsim's own kernels, or an imported table of production kernels),
// and both price the same iterations of the same model shard: prompts alone, chunks after cached
// context, and decode batches of several sizes and contexts. Per op family (qkv, o_proj, mlp,
// attn_prefill, attn_decode, lm_head, allreduce, and the iteration without host time) it reports
// the ratio of A's time to B's (geometric mean over the shapes, with its range) and the MAPE of A
// against B, so B is the reference: e.g. kunsim's kernels (A) against measured vLLM (B).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/cost/profile.hpp"

namespace kunsim {

// The model shards compared: (model name, TP). Empty: those A's rows cover (kunsim-calibrate
// profiles), else B's, else llama-3.1-8b at TP 1 (two imported tables price any model).
Json compare_profiles(const Profile& a, const Profile& b, std::vector<std::pair<std::string, int>> shards = {});
// The comparison as a table for the console.
std::string comparison_table(const Json& comparison);

}  // namespace kunsim
