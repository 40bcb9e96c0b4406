// least_unfinished: the reference KunServe benchmark client's rule. Each arrival goes to the
// engine with the fewest unfinished requests (running, waiting or swapped), as the engines last
// reported them (every deployment.load_report_interval_s, 0.5 s in the reference), plus one for
// each request the client has sent it since that report. Between reports the client is blind to
// what the engines finished, admitted or preempted: that staleness is the point of the rule.
// An engine with no report yet (a group formed since the last one) reports on first sight.
// Ties go to the lowest index.
#include <map>

#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {
namespace {

class LeastUnfinishedDispatcher final : public Dispatcher {
 public:
  explicit LeastUnfinishedDispatcher(SimDuration interval) : interval_(interval) {}
  SimDuration report_interval() const override { return interval_; }

  void on_report(std::span<const EngineView* const> engines, SimTime) override {
    reported_.clear();
    for (const EngineView* e : engines) reported_[e->id()] = e->request_count();
  }

  std::size_t pick(std::span<const EngineView* const> instances, const Request&, SimTime) override {
    std::size_t best = 0;
    std::int64_t best_load = 0;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const EngineView& e = *instances[i];
      auto it = reported_.find(e.id());
      if (it == reported_.end()) it = reported_.emplace(e.id(), e.request_count()).first;
      if (i == 0 || it->second < best_load) {
        best = i;
        best_load = it->second;
      }
    }
    ++reported_[instances[best]->id()];  // the client counts what it sent since the report
    return best;
  }

 private:
  SimDuration interval_;
  std::map<int, std::int64_t> reported_;  // engine id -> reported unfinished + sent since
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(least_unfinished, "least_unfinished",
                           "the fewest unfinished requests as last reported (every load_report_interval_s), plus those "
                           "sent since: the reference client's rule",
                           [](const DispatchParams& p) { return std::make_unique<LeastUnfinishedDispatcher>(p.load_report_interval); });

}  // namespace kunsim
