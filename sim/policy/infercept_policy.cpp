// infercept: InferCept (Abhyankar et al., "InferCept: Efficient Intercept Support for Augmented
// Large Language Model Inference", ICML 2024) as a memory-overload baseline. What kunsim takes
// from the paper:
//   - min-waste: per request that must leave the GPU, the option that wastes the least GPU
//     memory over time. Discarding wastes the recompute time times the memory of the request
//     and of every running request it stalls (the batch waits while the context is recomputed).
//     Swapping wastes the copy time times the request's own memory, plus, for the part of the
//     copy that one iteration's compute cannot hide, the whole batch's memory.
//   - swaps pipelined with compute (layer by layer), so an iteration with swaps ends when both
//     are done rather than computing after the copies (swaps_overlap_compute); what one
//     iteration's compute hides is the per-iteration swap budget of the waste above.
//   - preserve applies to requests paused on an external call (an interception). kunsim's
//     workloads carry no such pauses, so no request is preserved, and InferCept's chunked
//     recomputation and interception-aware scheduling are not modelled: it is the preemption
//     side of InferCept only.
// Memory is in KV blocks, time in seconds, from the simulated hardware.
#include <cstdio>

#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

class InferCeptPolicy final : public MemoryOverloadPolicy {
 public:
  std::string name() const override { return "infercept"; }
  bool swaps_overlap_compute() const override { return true; }

 private:
  PreemptDecision do_on_preempt(const EngineView& inst, const Request& r) override {
    BatchShape prefill;
    prefill.prefills = {{r.prompt + r.generated, 0}};
    prefill.layers = inst.model().layers;
    prefill.sampled = 1;
    const double recompute_s = inst.cost().iteration(prefill).sum();
    // One way over the request's PCIe link; it goes out now and comes back later.
    const double copy_s = ns_to_seconds(inst.swap_copy_time(r.blocks));
    // The compute one iteration of the current batch takes: what hides a copy.
    BatchShape batch;
    batch.num_decodes = inst.decoding();
    batch.decode_context_sum = inst.decode_context_sum();
    batch.layers = inst.model().layers;
    batch.sampled = inst.decoding();
    const double step_s = inst.decoding() > 0 ? inst.cost().iteration(batch).sum() : 0;
    const auto own = static_cast<double>(r.blocks);
    const double others = static_cast<double>(std::max<std::int64_t>(0, inst.kv_used() - r.blocks));
    const double discard = recompute_s * (own + others);
    const double stall = 2 * std::max(0.0, copy_s - step_s);  // out and back, past each step's compute
    const double swap = 2 * copy_s * own + stall * (own + others);
    char why[200];
    std::snprintf(why, sizeof why, "infercept min-waste: discard %.4g block-s (recompute %.4f s) vs swap %.4g block-s (copy %.4f s)",
                  discard, recompute_s, swap, 2 * copy_s);
    return {swap < discard ? PreemptMode::Swap : PreemptMode::Recompute, why};
  }
};

}  // namespace

KUNSIM_REGISTER_POLICY(infercept, "infercept",
                       "InferCept: per request, discard or swap by least GPU memory waste; swaps pipelined with compute",
                       [](JsonFields&) -> PolicyMaker { return [] { return std::make_unique<InferCeptPolicy>(); }; });

}  // namespace kunsim
