// Rng: the simulation's seeded random source (SplitMix64 seeding a xoshiro256**).
// Written out rather than std::mt19937 + std::*_distribution because the standard
// distributions differ between library implementations; these give the same stream everywhere.
// Each consumer derives its own stream with fork(tag), so adding a consumer never shifts another.
#pragma once
#include <cmath>
#include <cstdint>

namespace kunsim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix(x);
  }
  // An independent stream named by `tag`; the same (seed, tag) always gives the same stream.
  Rng fork(std::uint64_t tag) const {
    std::uint64_t x = s_[0] ^ (tag * 0x9E3779B97F4A7C15ULL) ^ s_[3];
    return Rng(splitmix(x));
  }
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe under log().
  double uniform_open0() { return 1.0 - uniform(); }
  double exponential(double mean) { return -mean * std::log(uniform_open0()); }
  double normal() {
    // Box-Muller; one value per call keeps the stream simple to reason about.
    const double u1 = uniform_open0(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Gamma(shape k, scale theta), Marsaglia-Tsang; shape < 1 by the boost k+1 trick.
  double gamma(double shape, double scale) {
    if (shape < 1.0) {
      const double u = uniform_open0();
      return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform_open0();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4];
};

}  // namespace kunsim
