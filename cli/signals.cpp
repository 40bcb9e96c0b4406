#include "signals.hpp"

#include <csignal>

#include "sim/core/interruption.hpp"
#include "sim/core/output_folder.hpp"

namespace kunsim {
namespace {

extern "C" void on_signal(int sig) {
  // Only async-signal-safe work: atomic loads and stores, signal() and raise().
  if (live_outputs() == 0 || signal_recorded() != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  request_interrupt(sig);
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // file reads and writes go on; the run stops at its next check
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace kunsim
