// SimTime and SimDuration: simulated time as int64 nanoseconds. SimTime is an instant (since the
// start of the run), SimDuration a span; the types keep them apart, so an instant is never added
// to an instant and a count of seconds never passes for nanoseconds:
//   SimTime + SimDuration -> SimTime,  SimTime - SimTime -> SimDuration,
//   SimDuration +- SimDuration, SimDuration * or / an integer, SimDuration / SimDuration -> ratio.
// Integer time keeps event order exact and runs byte-identical across machines; conversions to
// and from seconds are explicit and happen only at the edges (costs computed in double are
// rounded once, to the nearest ns). .ns() gives the raw count, for outputs and integer maths.
#pragma once
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>

namespace kunsim {

class SimDuration {
 public:
  constexpr SimDuration() = default;
  static constexpr SimDuration from_ns(std::int64_t ns) { return SimDuration(ns); }
  constexpr std::int64_t ns() const { return ns_; }

  constexpr SimDuration& operator+=(SimDuration d) { ns_ += d.ns_; return *this; }
  constexpr SimDuration& operator-=(SimDuration d) { ns_ -= d.ns_; return *this; }
  friend constexpr SimDuration operator+(SimDuration a, SimDuration b) { return SimDuration(a.ns_ + b.ns_); }
  friend constexpr SimDuration operator-(SimDuration a, SimDuration b) { return SimDuration(a.ns_ - b.ns_); }
  friend constexpr SimDuration operator-(SimDuration a) { return SimDuration(-a.ns_); }
  friend constexpr SimDuration operator*(SimDuration a, std::int64_t k) { return SimDuration(a.ns_ * k); }
  friend constexpr SimDuration operator*(std::int64_t k, SimDuration a) { return SimDuration(a.ns_ * k); }
  friend constexpr SimDuration operator/(SimDuration a, std::int64_t k) { return SimDuration(a.ns_ / k); }
  friend constexpr std::int64_t operator/(SimDuration a, SimDuration b) { return a.ns_ / b.ns_; }
  friend constexpr auto operator<=>(SimDuration, SimDuration) = default;

 private:
  constexpr explicit SimDuration(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ns(std::int64_t ns) { return SimTime(ns); }
  constexpr std::int64_t ns() const { return ns_; }
  // The span since the start of the run.
  constexpr SimDuration since_start() const { return SimDuration::from_ns(ns_); }

  constexpr SimTime& operator+=(SimDuration d) { ns_ += d.ns(); return *this; }
  constexpr SimTime& operator-=(SimDuration d) { ns_ -= d.ns(); return *this; }
  friend constexpr SimTime operator+(SimTime t, SimDuration d) { return SimTime(t.ns_ + d.ns()); }
  friend constexpr SimTime operator+(SimDuration d, SimTime t) { return SimTime(t.ns_ + d.ns()); }
  friend constexpr SimTime operator-(SimTime t, SimDuration d) { return SimTime(t.ns_ - d.ns()); }
  friend constexpr SimDuration operator-(SimTime a, SimTime b) { return SimDuration::from_ns(a.ns_ - b.ns_); }
  friend constexpr auto operator<=>(SimTime, SimTime) = default;

 private:
  constexpr explicit SimTime(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

inline constexpr SimDuration kNsPerSecond = SimDuration::from_ns(1'000'000'000);
inline constexpr SimTime kSimTimeZero{};
// "Not yet": before the start of the run, for an instant that has not happened.
inline constexpr SimTime kNoTime = SimTime::from_ns(-1);
inline constexpr SimTime kSimTimeMax = SimTime::from_ns(std::numeric_limits<std::int64_t>::max());

// Spellings for tables and tests: the instant `ns` nanoseconds into the run, and a span.
constexpr SimTime at_ns(std::int64_t ns) { return SimTime::from_ns(ns); }
constexpr SimDuration ns_span(std::int64_t ns) { return SimDuration::from_ns(ns); }

// Rounds to the nearest nanosecond; callers validate that `s` is finite and in range.
inline SimDuration seconds_to_ns(double s) { return SimDuration::from_ns(std::llround(s * 1e9)); }
// The longest time kunsim takes from any input: a trace's span after rebasing to its first row and
// after `rate_scale`, and every scenario key in seconds. 1e9 s is about 31.7 years; int64
// nanoseconds hold 9.2e9 s, so an arrival at the limit plus all a run does after it still fits,
// and no sum of two input times (a window's start and its length) can overflow.
inline constexpr double kMaxInputSeconds = 1e9;
inline constexpr SimDuration kMaxInputSpan = SimDuration::from_ns(1'000'000'000LL * 1'000'000'000LL);
// The one conversion of a user's seconds: nullopt unless finite, >= 0 and <= kMaxInputSeconds.
// Callers turn nullopt into an InputError that names their key or file:line.
inline std::optional<SimDuration> checked_seconds(double s) {
  if (!(s >= 0 && s <= kMaxInputSeconds)) return std::nullopt;  // also false for NaN
  return seconds_to_ns(s);
}
// A cost in (fractional) nanoseconds, rounded once.
inline SimDuration round_ns(double ns) { return SimDuration::from_ns(std::llround(ns)); }
inline double ns_to_seconds(SimDuration d) { return static_cast<double>(d.ns()) * 1e-9; }
inline double ns_to_seconds(SimTime t) { return static_cast<double>(t.ns()) * 1e-9; }
// The instant `s` seconds after the start of the run.
inline SimTime at_seconds(double s) { return kSimTimeZero + seconds_to_ns(s); }

// For test failures and logs: "1500ns" and "@1500ns" (an instant).
inline std::ostream& operator<<(std::ostream& o, SimDuration d) { return o << d.ns() << "ns"; }
inline std::ostream& operator<<(std::ostream& o, SimTime t) { return o << '@' << t.ns() << "ns"; }

}  // namespace kunsim
