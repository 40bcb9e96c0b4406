// vllm and vllm-swap: vLLM's own answer to KV overload. New requests queue until blocks are
// free; when running decodes outgrow the cache the newest request is preempted, and either its
// KV is dropped and recomputed later (vllm, the default) or copied to host memory over PCIe and
// copied back before it resumes (vllm-swap; vLLM's swap_space per GPU bounds the host side).
#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

class VllmPolicy final : public MemoryOverloadPolicy {
 public:
  explicit VllmPolicy(PreemptMode mode) : mode_(mode) {}
  std::string name() const override { return mode_ == PreemptMode::Swap ? "vllm-swap" : "vllm"; }

 private:
  PreemptDecision do_on_preempt(const EngineView&, const Request&) override {
    if (mode_ == PreemptMode::Swap) return {PreemptMode::Swap, "vllm preemption_mode=swap"};
    return {PreemptMode::Recompute, "vllm preemption_mode=recompute"};
  }
  PreemptMode mode_;
};

}  // namespace

KUNSIM_REGISTER_POLICY(vllm, "vllm", "vLLM: FCFS queue; preempt the newest request and recompute its KV later",
                       [](JsonFields&) -> PolicyMaker { return [] { return std::make_unique<VllmPolicy>(PreemptMode::Recompute); }; });
KUNSIM_REGISTER_POLICY(vllm_swap, "vllm-swap",
                       "vLLM with preemption_mode=swap: the newest request's KV goes to host memory over PCIe",
                       [](JsonFields&) -> PolicyMaker { return [] { return std::make_unique<VllmPolicy>(PreemptMode::Swap); }; });

}  // namespace kunsim
