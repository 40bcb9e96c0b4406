// Interruption: how SIGINT, SIGTERM (or Python's KeyboardInterrupt) stops kunsim cleanly. A
// signal handler may do almost nothing safely, so it only records the signal here; the event
// loop, the sweep and the output writers look at safe points and throw Interrupted. Unwinding
// then runs every destructor on the way out: a temporary output folder is removed and the
// folder it would have replaced is left as it was. The CLI turns Interrupted into exit 128+sig
// (130 for SIGINT, 143 for SIGTERM), as a shell reports a process a signal killed.
//
// Interrupted is deliberately not a std::exception: the handlers that turn a bad point of a sweep
// into an infeasible row must not swallow a user's Ctrl-C.
#pragma once

namespace kunsim {

class Interrupted {
 public:
  explicit Interrupted(int signal) : signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Records `signal` (async-signal-safe: one lock-free atomic store).
void request_interrupt(int signal) noexcept;
// The recorded signal, or 0.
int interrupt_requested() noexcept;
// Forgets a recorded signal (tests, and a Python session after its KeyboardInterrupt).
void clear_interrupt() noexcept;
// Throws Interrupted when a signal was recorded.
void throw_if_interrupted();

}  // namespace kunsim
