// least_kv: the instance with the lowest (KV blocks used + blocks its queue needs) / capacity,
// ties to the lowest index. Idealised: it sees every instance's exact state at every arrival.
// It keeps the instances ordered by that load (LeastLoadIndex), weighing again only those whose
// load moved, so a pick costs the same at 32 instances as at 10,000; pick() is the walk it
// must agree with.
#include "sim/serving/dispatch/dispatcher.hpp"
#include "sim/serving/dispatch/least_load_index.hpp"

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

  bool tracks_loads() const override { return true; }
  void track(std::span<const EngineView* const> instances) override { index_.reset(instances); }
  void load_changed(std::size_t index) override { index_.mark(index); }
  std::size_t pick_tracked(const Request&, SimTime now) override { return index_.least(now); }

 private:
  LeastLoadIndex index_{kv_load};
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(least_kv, "least_kv",
                           "the lowest (KV used + KV queued) / capacity, seen exactly at each arrival (idealised)",
                           [](const DispatchParams&) { return std::make_unique<LeastKvDispatcher>(); });

}  // namespace kunsim
