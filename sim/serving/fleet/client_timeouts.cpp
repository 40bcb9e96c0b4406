#include "sim/serving/fleet/client_timeouts.hpp"

#include "sim/serving/fleet/serving_cluster.hpp"

namespace kunsim {

bool ClientTimeouts::live(const Entry& e) {
  const Phase p = e.request->phase;
  return e.request->id == e.id && p != Phase::Finished && p != Phase::Aborted && p != Phase::Rejected;
}

void ClientTimeouts::watch(const Request& r) {
  fifo_.push_back({r.arrival + timeout_, const_cast<Request*>(&r), r.id});
  if (!armed_) arm();
}

void ClientTimeouts::on_done(const Request& r) {
  if (!armed_ || fifo_.front().request != &r || fifo_.front().id != r.id) return;
  events_.cancel(*armed_);
  armed_.reset();
  fifo_.pop_front();
  arm();
}

void ClientTimeouts::arm() {
  while (!fifo_.empty() && !live(fifo_.front())) fifo_.pop_front();
  if (!fifo_.empty()) armed_ = events_.schedule(fifo_.front().deadline, this);
}

void ClientTimeouts::handle_event(SimTime now, std::uint64_t) {
  armed_.reset();
  while (!fifo_.empty() && fifo_.front().deadline <= now) {
    const Entry e = fifo_.front();
    fifo_.pop_front();
    if (live(e)) cluster_.abort(e.request, now);  // may end it now, or at its engine's next step
  }
  arm();
}

}  // namespace kunsim
