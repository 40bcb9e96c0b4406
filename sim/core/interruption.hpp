// Interruption: how SIGINT, SIGTERM (or Python's KeyboardInterrupt) stops kunsim cleanly. A
// signal handler may do almost nothing safely, so it only records the signal here; the event
// loop, the sweep and the output writers look at safe points and throw Interrupted. Unwinding
// then runs every destructor on the way out: a temporary output folder is removed and the
// folder it would have replaced is left as it was. The CLI turns Interrupted into exit 128+sig
// (130 for SIGINT, 143 for SIGTERM), as a shell reports a process a signal killed.
//
// Two sources of a stop:
// - the process-wide signal (request_interrupt), which the CLI's handler records and which
//   stops every run in the process;
// - an InterruptScope's own, for a caller that shares its process with other work: the Python
//   module opens one around each call, whose poll runs Python's signal handlers (with the GIL).
//   A KeyboardInterrupt there stops that call's run, and the sweep or plan workers it started
//   (they join the scope through an InterruptJoin), while a run on another Python thread goes on.
//
// Interrupted is deliberately not a std::exception: the handlers that turn a bad point of a sweep
// into an infeasible row must not swallow a user's Ctrl-C.
#pragma once
#include <atomic>
#include <functional>

namespace kunsim {

class Interrupted {
 public:
  explicit Interrupted(int signal) : signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Records `signal` for the whole process (async-signal-safe: one lock-free atomic store).
void request_interrupt(int signal) noexcept;
// The recorded signal (the process's, or this thread's scope's), or 0.
int interrupt_requested() noexcept;
// The process-wide signal alone: what a signal handler may read (no thread-local storage, whose
// first touch in a shared object is not async-signal-safe).
int signal_recorded() noexcept;
// Forgets the process-wide signal (tests).
void clear_interrupt() noexcept;
// Asks this thread's scope's poll, if it has one; a nonzero answer stops the scope.
void poll_interrupt();
// Polls, then throws Interrupted when a signal was recorded.
void throw_if_interrupted();

// The stop a scope's threads share: what a worker thread joins.
using InterruptStop = std::atomic<int>*;

// A stop of this thread's own, for as long as the scope lives. `poll` (may be empty) is asked at
// every safe point (the event loop's is every 4096 events, a few milliseconds) and returns a
// signal number to stop or 0; it runs on this thread only, and a poll that costs (taking
// Python's GIL) spaces its work out itself. Scopes nest: the previous one is restored at the end.
class InterruptScope {
 public:
  explicit InterruptScope(std::function<int()> poll = {});
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  std::atomic<int> stop_{0};
  std::function<int()> poll_;
  InterruptStop prev_stop_;
  const std::function<int()>* prev_poll_;
};

// This thread's scope's stop (nullptr outside every scope): handed to the workers it starts.
InterruptStop current_interrupt_stop() noexcept;

// A worker thread shares `stop` (its starter's current_interrupt_stop()) while it lives: the
// starter's scope stopping stops the worker's runs too. The worker does not poll; its starter does.
class InterruptJoin {
 public:
  explicit InterruptJoin(InterruptStop stop);
  ~InterruptJoin();
  InterruptJoin(const InterruptJoin&) = delete;
  InterruptJoin& operator=(const InterruptJoin&) = delete;

 private:
  InterruptStop prev_stop_;
  const std::function<int()>* prev_poll_;
};

// Runs `work` on `threads` threads that join this thread's scope, and waits for them all. While
// waiting this thread polls its scope every 10 ms (a Python caller's Ctrl-C reaches the workers
// that way) and calls `waiting` (may be empty: a progress bar) every 100 ms. `work` must not
// throw: a worker keeps its own errors.
void run_interruptible_workers(int threads, const std::function<void()>& work,
                               const std::function<void()>& waiting = {});

}  // namespace kunsim
