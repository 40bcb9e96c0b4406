#include "run/key_survey.hpp"

#include "run/scenario.hpp"
#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

// Each survey scenario is the default one with some sections replaced. Together they take
// every branch of the parser that reads keys; a key a branch reads only when it is present
// (max_time_s, group_size, ...) is present in one of them.
const char* const kSurveys[] = {
    // The single forms, every optional key given.
    R"({"model": {"name": "survey", "layers": 32, "hidden": 4096, "heads": 32, "kv_heads": 8, "head_dim": 128,
                  "ffn": 14336, "vocab": 128256, "dtype_bytes": 2, "qkv_bias": false, "tied_embeddings": false,
                  "max_model_len": 131072, "weight_dtype": "bf16",
                  "moe": {"experts": 4, "top_k": 2, "expert_ffn": 1024, "shared_experts": 1, "shared_expert_ffn": 512,
                          "dense_layers": 1}},
        "cluster": {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 8, "gpu_memory_gib": 80,
                    "nvlink": {"gb_per_s": 450, "latency_us": 2}, "pcie": {"gb_per_s": 55, "latency_us": 5},
                    "network": {"gb_per_s": 50, "latency_us": 5}, "host_memory_gib": 1024, "price_per_gpu_hour": 2.5},
        "deployment": {"instances": 2, "workspace_gib": 2, "weight_dtype": "fp8", "kv_cache_dtype": "fp8",
                       "expert_parallel": true,
                       "speculative": {"method": "eagle3", "num_tokens": 2, "acceptance": 0.7}},
        "cost": {"model": "roofline"},
        "workload": {"synthetic": {"arrival": "gamma", "rate": 2, "cv": 2, "duration_s": 10,
                                   "input_tokens": {"type": "lognormal", "median": 512, "sigma": 1, "max": 4096},
                                   "output_tokens": {"type": "uniform", "min": 16, "max_value": 256}},
                     "window": {"start_s": 0, "duration_s": 5}, "bursts": [{"start_s": 1, "duration_s": 1, "multiplier": 2}],
                     "sharing": {"system_prompt_tokens": 256}, "max_requests": 10, "client_timeout_s": 60,
                     "speculative_acceptance": 0.6},
        "sim": {"timeline_interval_s": 1, "max_time_s": 100}})",
    // A latent-attention model (its own head keys in place of kv_heads and head_dim), with
    // sliding windows.
    R"({"model": {"name": "survey-mla", "layers": 4, "hidden": 1024, "heads": 8, "ffn": 2048, "vocab": 1000,
                  "mla": {"q_lora_rank": 256, "kv_lora_rank": 128, "qk_nope_head_dim": 64, "qk_rope_head_dim": 32,
                          "v_head_dim": 64},
                  "sliding_window": {"tokens": 128, "full_every": 2}, "attention_sinks": true}})",
    // The fleet forms.
    R"({"cluster": {"node_groups": [{"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 8}],
                    "price_per_gpu_hour": {"h100-sxm": 2.5}},
        "deployment": {"groups": [{"name": "p", "gpu": "h100-sxm", "count": 1, "role": "prefill", "cost": {}},
                                  {"name": "d", "count": 1, "role": "decode"}]},
        "workload": {"synthetic": {"rate": 2, "duration_s": 10,
                                   "input_tokens": {"type": "quantiles", "values": [100, 200, 300]},
                                   "output_tokens": {"type": "fixed", "value": 64}}}})",
    // The other two length distributions on each side.
    R"({"workload": {"synthetic": {"rate": 2, "duration_s": 10, "input_tokens": {"type": "uniform", "min": 1, "max_value": 9},
                                   "output_tokens": {"type": "lognormal", "median": 64, "sigma": 1}}}})",
    R"({"workload": {"synthetic": {"rate": 2, "duration_s": 10, "input_tokens": {"type": "fixed", "value": 100},
                                   "output_tokens": {"type": "quantiles", "values": [10, 20]}}}})",
    // A trace workload: its file is the user's, so this one stops at the file (after its keys).
    R"({"workload": {"trace": {"format": "kunsim", "path": "survey-trace-that-is-not-here.jsonl"}}})",
};

void parse_survey(const Json& base, const Json& patch) {
  Json doc = base;
  for (auto it = patch.begin(); it != patch.end(); ++it) doc[it.key()] = it.value();  // whole sections
  try {
    scenario_from_json(doc, {});
  } catch (const InputError&) {
    // Only the trace survey may stop early: every key it reads comes before its file is opened.
    if (!doc["workload"].contains("trace")) throw;
  }
}

}  // namespace

std::vector<KeyDoc> survey_scenario_keys() {
  KeyCatalogue catalogue;
  const Json base = parse_json_text(default_scenario_text(), "scenarios/default.json");
  scenario_from_json(base, {});
  for (const char* survey : kSurveys) parse_survey(base, parse_json_text(survey, "run/key_survey.cpp"));
  // Each registered policy with its own keys at their defaults (kunserve's group_size too).
  for (const auto& [name, entry] : policy_registry().items()) {
    Json policy = {{"name", name}};
    if (name == "kunserve") policy["group_size"] = 2;
    parse_survey(base, {{"policy", policy}});
  }
  return catalogue.keys();
}

std::string key_listing(const std::vector<KeyDoc>& keys) {
  std::string out = "key\ttype\tdefault\trange\twhen\thelp\n";
  for (const KeyDoc& k : keys)
    out += k.path + "\t" + k.type + "\t" + k.dflt + "\t" + k.range + "\t" + k.when + "\t" + k.help + "\n";
  return out;
}

}  // namespace kunsim
