// infercept: InferCept's per-request choice of what to do with a request's KV when it must
// leave the GPU: discard and recompute later, swap to host, or preserve. kunsim prices the
// first two with the simulated hardware and picks the cheaper in GPU time (InferCept's
// min-waste rule, weighing each option's time by the memory it ties up, which is the same
// KV for both): recompute = a prefill of its prompt + outputs so far; swap = out and back over
// its GPUs' PCIe links. Preserve applies to requests paused by an external call (an
// interception); the public traces carry none, so no request is preserved.
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/instance.hpp"

namespace kunsim {
namespace {

class InferCeptPolicy final : public MemoryOverloadPolicy {
 public:
  std::string name() const override { return "infercept"; }

 private:
  PreemptDecision do_on_preempt(const Instance& inst, const Request& r) override {
    const ServingContext& ctx = inst.context();
    BatchShape prefill;
    prefill.prefills = {{r.prompt + r.generated, 0}};
    prefill.layers = ctx.model->layers;
    prefill.sampled = 1;
    const double recompute_s = ctx.cost->iteration(prefill).sum();
    const Route& pcie = ctx.topology->gpu_to_host(inst.members()[0].gpus[0]);
    const double swap_s = 2.0 * ns_to_seconds(ctx.links->duration(pcie, r.blocks * ctx.memory->block_bytes));
    char why[160];
    std::snprintf(why, sizeof why, "infercept: recompute %.4f s vs swap %.4f s", recompute_s, swap_s);
    return {swap_s < recompute_s ? PreemptMode::Swap : PreemptMode::Recompute, why};
  }
};

}  // namespace

KUNSIM_REGISTER_POLICY(infercept, "infercept",
                       "InferCept: per request, the cheaper of discard+recompute and swap to host (preserve when paused)",
                       [](JsonFields&) -> PolicyMaker { return [] { return std::make_unique<InferCeptPolicy>(); }; });

}  // namespace kunsim
