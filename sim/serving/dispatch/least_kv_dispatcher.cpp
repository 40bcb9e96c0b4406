// least_kv: the instance with the lowest (KV blocks used + blocks its queue needs) / capacity,
// ties to the lowest index. Idealised: it sees every instance's exact state at every arrival.
#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {
namespace {

class LeastKvDispatcher final : public Dispatcher {
 public:
  std::size_t pick(std::span<const EngineView* const> instances, const Request&, SimTime now) override {
    std::size_t best = 0;
    double best_load = 0;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const double load = kv_load(*instances[i], now);
      if (i == 0 || load < best_load) {
        best = i;
        best_load = load;
      }
    }
    return best;
  }
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(least_kv, "least_kv",
                           "the lowest (KV used + KV queued) / capacity, seen exactly at each arrival (idealised)",
                           [](const DispatchParams&) { return std::make_unique<LeastKvDispatcher>(); });

}  // namespace kunsim
