// ProfileWriter: collects measured rows and writes them in the profile format sim/cost reads
// (ops.csv, iterations.csv, attention_mixed.csv, meta.json; see sim/cost/profile.hpp), merging with a profile already
// in the folder: a re-measured (op, model, tp) replaces its old rows, others are kept, so one
// folder accumulates every model and TP degree measured on a GPU kind.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kunsim::calibrate {

struct OpRow {
  std::string op, model;  // model empty for transfers
  int tp = 0;             // for all-reduce: the number of ranks
  double p1 = 0, p2 = 0, seconds = 0;
  int repeats = 0;
  double min_s = 0, p90_s = 0;  // the spread over the trials (0: not recorded)
};

struct IterationRow {
  std::string model;
  int tp = 1;
  long long prefill_tokens = 0, prefill_context = 0, decodes = 0, decode_context_sum = 0;
  double seconds = 0;
};

class ProfileWriter {
 public:
  explicit ProfileWriter(std::string dir) : dir_(std::move(dir)) {}
  void add(OpRow r) { ops_.push_back(std::move(r)); }
  void add(IterationRow r) { iterations_.push_back(std::move(r)); }
  // One layer's attention (prefill and decode launches) for a mixed batch.
  void add_mixed_attention(IterationRow r) { mixed_.push_back(std::move(r)); }
  const std::vector<OpRow>& ops() const { return ops_; }
  // device: GPU name, driver, clocks...; runs: one object per (model, tp) or "transfers".
  void write(const nlohmann::json& device, const std::vector<nlohmann::json>& runs) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<OpRow> ops_;
  std::vector<IterationRow> iterations_, mixed_;
};

}  // namespace kunsim::calibrate
