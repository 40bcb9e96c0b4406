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

  // Dispatchers that keep the instances ordered by load (LeastLoadIndex), so that a pick does
  // not weigh every instance: track() names the instances taking arrivals (again whenever that
  // list changes), load_changed() one of them whose load may have changed, and pick_tracked()
  // answers what pick() would over the tracked list. Their pick() stays the plain walk: it
  // serves a subset of the instances (a fleet's request that only some groups hold), and the
  // debug builds check every tracked pick against it, so it must not change any state.
  virtual bool tracks_loads() const { return false; }
  virtual void track(std::span<const EngineView* const> /*instances*/) {}
  virtual void load_changed(std::size_t /*index*/) {}
  virtual std::size_t pick_tracked(const Request& r, SimTime now);
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
