#include "sim/core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace kunsim {
namespace {

TEST(Rng, SameSeedSameStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, ForksAreIndependentOfUseOrder) {
  Rng base(9);
  Rng f1 = base.fork(1);
  const auto first = f1.next_u64();
  Rng base2(9);
  Rng g2 = base2.fork(2);
  for (int i = 0; i < 10; ++i) g2.next_u64();
  EXPECT_EQ(base2.fork(1).next_u64(), first);  // using fork 2 did not shift fork 1
}

TEST(Rng, GammaHasTheRequestedMeanAndCv) {
  Rng r(1);
  for (double cv : {0.5, 1.0, 3.0}) {
    const double shape = 1 / (cv * cv), mean = 2.0;
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      const double x = r.gamma(shape, mean / shape);
      s += x;
      s2 += x * x;
    }
    const double m = s / n, sd = std::sqrt(s2 / n - m * m);
    EXPECT_NEAR(m, mean, 0.05 * mean) << "cv " << cv;
    EXPECT_NEAR(sd / m, cv, 0.08 * cv) << "cv " << cv;
  }
}

}  // namespace
}  // namespace kunsim
