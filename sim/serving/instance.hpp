// Instance: one vLLM engine on a TP group of GPUs holding all layers. Continuous batching:
// each iteration runs every decode once, continues running prefills in chunks, then admits
// waiting requests FCFS while blocks, the token budget and max_num_seqs allow; when decodes
// need blocks that are not free it preempts the newest running request (the policy picks
// recompute or swap). When nothing but decodes can happen until the next finish, the instance
// jumps over all those steps in one event; an arrival cuts the jump at the next step boundary.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "sim/core/event_queue.hpp"
#include "sim/serving/decode_cohort.hpp"
#include "sim/serving/kv_block_manager.hpp"
#include "sim/serving/running_list.hpp"
#include "sim/serving/serving_context.hpp"

namespace kunsim {

struct InstanceCounters {
  std::int64_t iterations = 0;   // iterations simulated one by one
  std::int64_t jumps = 0;        // decode runs simulated as one event
  std::int64_t jumped_steps = 0;
  std::int64_t preemptions = 0;
  std::int64_t recomputes = 0;
  std::int64_t swaps_out = 0;
  std::int64_t swaps_in = 0;
  SimTime busy_ns = 0;
};

class Instance final : public EventHandler {
 public:
  Instance(int id, std::vector<int> gpus, const ServingContext& ctx, std::int64_t num_blocks,
           std::int64_t host_swap_blocks);

  // A request routed here by the dispatcher.
  void enqueue(Request* r, SimTime now);
  void handle_event(SimTime now, std::uint64_t arg) override;

  int id() const { return id_; }
  const std::vector<int>& gpus() const { return gpus_; }
  const KvBlockManager& kv() const { return kv_; }
  std::int64_t host_swap_capacity() const { return host_capacity_; }
  std::int64_t host_swap_used() const { return host_used_; }
  int running() const { return running_.size(); }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  int swapped() const { return static_cast<int>(swapped_.size()); }
  int decoding() const { return cohort_.size(); }
  // KV blocks the waiting requests would need to be admitted (prompt + outputs so far).
  std::int64_t queued_blocks() const { return queued_blocks_; }
  bool busy() const { return busy_; }
  bool idle() const { return !busy_ && running_.empty() && waiting_.empty() && swapped_.empty(); }
  // KV blocks in use at time `t` (>= the last event): exact within a decode jump too.
  std::int64_t kv_used_at(SimTime t) const;
  const InstanceCounters& counters() const { return counters_; }
  // Requests still here when the run stops (for the `unfinished` count), with outputs synced.
  std::vector<Request*> take_all();

 private:
  enum class Work { None, Iteration, Jump };
  void plan(SimTime now);
  bool can_admit(const Request* r) const;
  bool can_swap_in(const Request* r) const;
  void run_iteration(SimTime now);
  void start_jump(SimTime now, std::int64_t steps);
  void end_iteration(SimTime now);
  void end_jump(SimTime now);
  void finish_decodes(SimTime now);
  void preempt(Request* victim, SimTime now, SimTime& blocked_until);
  void swap_in(Request* r, SimTime now, SimTime& blocked_until);
  SimTime transfer_per_gpu(std::int64_t bytes, bool to_host, SimTime now);
  void finish(Request* r, SimTime now);
  void decision(SimTime now, const char* kind, const Request& r, const std::string& reason, std::int64_t blocks);

  int id_;
  std::vector<int> gpus_;
  ServingContext ctx_;
  KvBlockManager kv_;
  std::int64_t host_capacity_, host_used_ = 0;
  std::int64_t watermark_blocks_;
  DecodeCohort cohort_;
  RunningList running_;
  std::deque<Request*> waiting_;
  std::deque<Request*> swapped_;
  std::int64_t queued_blocks_ = 0;

  // The work in flight.
  bool busy_ = false;
  bool kick_pending_ = false;  // a plan() is scheduled for the current instant
  Work work_ = Work::None;
  SimTime work_start_ = 0, work_end_ = 0;
  EventId work_event_;
  std::int64_t jump_steps_ = 0;
  DecodeRun jump_run_;
  bool decoded_ = false;  // the iteration in flight ran a decode step
  std::vector<std::pair<Request*, int>> prefills_;  // (request, chunk tokens) in flight
  BatchShape shape_;
  InstanceCounters counters_;
};

}  // namespace kunsim
