// round_robin: each arrival goes to the next instance in turn, blind to load (the reference
// KunServe server's default).
#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {
namespace {

class RoundRobinDispatcher final : public Dispatcher {
 public:
  std::size_t pick(std::span<const EngineView* const> instances, const Request&, SimTime) override { return next_++ % instances.size(); }

 private:
  std::size_t next_ = 0;
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(round_robin, "round_robin", "each arrival to the next instance in turn",
                           [](const DispatchParams&) { return std::make_unique<RoundRobinDispatcher>(); });

}  // namespace kunsim
