#include "sim/core/interruption.hpp"

#include <chrono>
#include <thread>
#include <vector>

namespace kunsim {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may only touch lock-free atomics");

// This thread's scope: its stop, and the poll that may set it (only on the scope's own thread).
thread_local InterruptStop t_stop = nullptr;
thread_local const std::function<int()>* t_poll = nullptr;

}  // namespace

void request_interrupt(int signal) noexcept { g_signal.store(signal, std::memory_order_relaxed); }

int signal_recorded() noexcept { return g_signal.load(std::memory_order_relaxed); }

int interrupt_requested() noexcept {
  if (const int s = g_signal.load(std::memory_order_relaxed)) return s;
  return t_stop ? t_stop->load(std::memory_order_relaxed) : 0;
}

void clear_interrupt() noexcept { g_signal.store(0, std::memory_order_relaxed); }

void poll_interrupt() {
  if (t_poll == nullptr || t_stop->load(std::memory_order_relaxed) != 0) return;
  if (const int s = (*t_poll)()) t_stop->store(s, std::memory_order_relaxed);
}

void throw_if_interrupted() {
  poll_interrupt();
  if (const int s = interrupt_requested()) throw Interrupted(s);
}

InterruptScope::InterruptScope(std::function<int()> poll)
    : poll_(std::move(poll)), prev_stop_(t_stop), prev_poll_(t_poll) {
  t_stop = &stop_;
  t_poll = poll_ ? &poll_ : nullptr;
}

InterruptScope::~InterruptScope() {
  t_stop = prev_stop_;
  t_poll = prev_poll_;
}

InterruptStop current_interrupt_stop() noexcept { return t_stop; }

InterruptJoin::InterruptJoin(InterruptStop stop) : prev_stop_(t_stop), prev_poll_(t_poll) {
  t_stop = stop;
  t_poll = nullptr;
}

InterruptJoin::~InterruptJoin() {
  t_stop = prev_stop_;
  t_poll = prev_poll_;
}

void run_interruptible_workers(int threads, const std::function<void()>& work, const std::function<void()>& waiting) {
  const InterruptStop stop = current_interrupt_stop();
  std::atomic<int> running{threads};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      {
        InterruptJoin join(stop);
        work();
      }
      running.fetch_sub(1);
    });
  for (int tick = 1; running.load() > 0; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    poll_interrupt();
    if (waiting && tick % 10 == 0) waiting();
  }
  for (auto& t : pool) t.join();
}

}  // namespace kunsim
