// SimTime: simulated time as int64 nanoseconds since the start of the run.
// Integer time keeps event order exact and runs byte-identical across machines; conversions
// to seconds happen only at the edges (costs computed in double are rounded once, to ns).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace kunsim {

using SimTime = std::int64_t;  // nanoseconds

inline constexpr SimTime kNsPerSecond = 1'000'000'000;
inline constexpr SimTime kSimTimeMax = std::numeric_limits<SimTime>::max();

// Rounds to the nearest nanosecond; callers validate that `s` is finite and in range.
inline SimTime seconds_to_ns(double s) { return static_cast<SimTime>(std::llround(s * 1e9)); }
inline double ns_to_seconds(SimTime t) { return static_cast<double>(t) * 1e-9; }

}  // namespace kunsim
