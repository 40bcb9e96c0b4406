#include "sim/core/interruption.hpp"

#include <atomic>

namespace kunsim {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may only touch lock-free atomics");

}  // namespace

void request_interrupt(int signal) noexcept { g_signal.store(signal, std::memory_order_relaxed); }
int interrupt_requested() noexcept { return g_signal.load(std::memory_order_relaxed); }
void clear_interrupt() noexcept { g_signal.store(0, std::memory_order_relaxed); }

void throw_if_interrupted() {
  if (const int s = interrupt_requested()) throw Interrupted(s);
}

}  // namespace kunsim
