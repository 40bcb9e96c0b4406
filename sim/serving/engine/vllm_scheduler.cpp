// vLLM's batch forming (V0 scheduler, chunked prefill): every decode runs each step; running
// prefills continue; swapped requests come back first, then waiting ones are admitted FCFS
// (head-of-line: the first that does not fit stops admission) while blocks above the watermark,
// max_num_seqs and the token budget allow; after a preemption nothing new is admitted unless the
// batch would otherwise be empty. A pipeline group runs one micro-batch per stage, each with an
// engine's limits (the reference's virtual engines): g x max_num_seqs and g x the token budget.
#include "sim/serving/engine/batch_scheduler.hpp"

namespace kunsim {
namespace {

class VllmScheduler final : public BatchScheduler {
 public:
  explicit VllmScheduler(const EngineParams& e) : e_(e) {}

  int max_seqs(const EngineQueues& q) const override { return e_.max_num_seqs * q.stages; }
  std::int64_t token_budget(const EngineQueues& q) const override {
    return std::int64_t{e_.max_num_batched_tokens} * q.stages;
  }

  bool can_admit(const EngineQueues& q, const Request& r) const override {
    if (q.running.size() >= max_seqs(q)) return false;
    const std::int64_t need = q.kv.blocks_to_admit(r, e_.block_size);
    const std::int64_t growth = q.cohort.blocks_needed(1);
    if (q.admission_cap && q.kv.used() + growth + need > *q.admission_cap) return false;
    return q.kv.free() - growth - need >= q.watermark_blocks;
  }

  bool can_swap_in(const EngineQueues& q, const Request& r) const override {
    if (q.running.size() >= max_seqs(q)) return false;
    // Its blocks (and its cached prefix, where not here now) plus one for its next step, on top
    // of what the current decodes need.
    return q.kv.free() - q.cohort.blocks_needed(1) - r.blocks - q.kv.blocks_to_hold(r, r.cached_keys) - 1 >=
           q.watermark_blocks;
  }

  bool admit_after_preemption(const EngineQueues&, bool batch_empty) const override { return batch_empty; }

  NextWork next(const EngineQueues& q) const override {
    const bool prefilling = q.running.prefilling() > 0;
    const bool admissible = (!q.swapped.empty() && can_swap_in(q, *q.swapped.front())) ||
                            (!q.waiting.empty() && can_admit(q, *q.waiting.front()));
    // While a pipeline group has stale requests, every step may exchange some of them (and
    // remote attention's traffic interleaves with it): steps go one by one.
    if (prefilling || admissible || q.cohort.blocks_needed(1) > q.kv.free() || q.stale > 0) return NextWork::Iteration;
    // Only decodes until the next finish: nothing can be admitted before blocks are freed, and
    // blocks are freed only by a finish.
    return q.cohort.size() > 0 ? NextWork::Jump : NextWork::Wait;
  }

 private:
  const EngineParams& e_;
};

}  // namespace

std::unique_ptr<BatchScheduler> make_vllm_scheduler(const EngineParams& engine) {
  return std::make_unique<VllmScheduler>(engine);
}

}  // namespace kunsim
