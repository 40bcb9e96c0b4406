// BatchScheduler: the rules an engine follows to form its batches: who may join the running
// batch (admission of waiting requests, swap-in of swapped ones), how much one iteration may
// carry, whether new requests join after a preemption, and whether the stretch ahead is decodes
// only (so the Engine may jump over it). The Engine owns the queues and carries out what
// the rules allow (allocation, preemption, pricing); another batching engine plugs in here.
// vLLM's rules (vllm_scheduler.cpp) are the first.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "sim/model/engine_params.hpp"
#include "sim/serving/engine/decode_cohort.hpp"
#include "sim/serving/engine/kv_block_manager.hpp"
#include "sim/serving/engine/running_list.hpp"

namespace kunsim {

// What a scheduler sees of its engine: read-only views of the engine's own state, built once.
struct EngineQueues {
  const RunningList& running;
  const std::deque<Request*>& waiting;
  const std::deque<Request*>& swapped;
  const DecodeCohort& cohort;
  const KvBlockManager& kv;
  const std::int64_t& watermark_blocks;              // kept free at admission
  const std::optional<std::int64_t>& admission_cap;  // blocks, while a group restores
  const int& stale;                                  // stale requests (KV not yet exchanged)
  int stages = 1;                                    // g: a pipeline group runs g micro-batches
};

enum class NextWork {
  Wait,       // nothing can run until something arrives or is freed
  Iteration,  // one step: prefills, admissions, swap-ins or preemptions to do
  Jump,       // only decodes until the next finish: the steps can be jumped over
};

class BatchScheduler {
 public:
  virtual ~BatchScheduler() = default;
  virtual int max_seqs(const EngineQueues& q) const = 0;
  // Tokens one iteration may compute (decodes count one each).
  virtual std::int64_t token_budget(const EngineQueues& q) const = 0;
  virtual bool can_admit(const EngineQueues& q, const Request& r) const = 0;
  virtual bool can_swap_in(const EngineQueues& q, const Request& r) const = 0;
  // Whether waiting requests may be admitted in a step that had to preempt.
  virtual bool admit_after_preemption(const EngineQueues& q, bool batch_empty) const = 0;
  virtual NextWork next(const EngineQueues& q) const = 0;
};

std::unique_ptr<BatchScheduler> make_vllm_scheduler(const EngineParams& engine);

}  // namespace kunsim
