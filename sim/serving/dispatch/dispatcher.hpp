// Dispatcher: the global front door. Picks the instance (seen as an EngineView) an arriving request joins, from the
// instances taking arrivals. Dispatchers register by name (`deployment.dispatch`); a new one is
// a file in sim/serving/dispatch/ with a subclass and a KUNSIM_REGISTER_DISPATCHER line. An overload
// policy may override the pick (Llumnix's freeness-based dispatch is part of that baseline).
#pragma once
#include <functional>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/registry.hpp"
#include "sim/serving/engine/engine_view.hpp"

namespace kunsim {

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Index into `instances` (non-empty) for arriving request `r`, at `now` (non-decreasing over calls).
  virtual std::size_t pick(std::span<const EngineView* const> instances, const Request& r, SimTime now) = 0;
  // Dispatchers that decide on load reports rather than exact state: how often every engine
  // reports (0: never), and the reports themselves (`engines`: every engine, at `now`).
  virtual SimDuration report_interval() const { return {}; }
  virtual void on_report(std::span<const EngineView* const> /*engines*/, SimTime /*now*/) {}
};

// An instance's KV load as least_kv weighs it: (blocks used at `now` + blocks its waiting
// requests need) / capacity.
inline double kv_load(const EngineView& inst, SimTime now) {
  const EngineView::KvLoad l = inst.kv_load_at(now);
  return static_cast<double>(l.used + l.queued) / static_cast<double>(l.capacity);
}

struct DispatchParams {
  SimDuration load_report_interval = kNsPerSecond / 2;  // deployment.load_report_interval_s
};

using DispatcherFactory = std::function<std::unique_ptr<Dispatcher>(const DispatchParams&)>;
Registry<DispatcherFactory>& dispatcher_registry();
// The dispatcher named `name`; an unknown name is an InputError at `json_path`.
std::unique_ptr<Dispatcher> make_dispatcher(const std::string& name, const std::string& json_path,
                                            const DispatchParams& params = {});

}  // namespace kunsim

#define KUNSIM_REGISTER_DISPATCHER(ident, name, description, factory) \
  KUNSIM_REGISTER(::kunsim::dispatcher_registry, dispatcher_##ident, name, description, ::kunsim::DispatcherFactory(factory))
