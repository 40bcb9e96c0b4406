#include "sim/serving/engine/kv_block_manager.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kunsim {
namespace {

TEST(KvBlockManager, NeverNegativeNorOverCapacity) {
  KvBlockManager kv(100);
  kv.allocate(60);
  EXPECT_EQ(kv.free(), 40);
  EXPECT_FALSE(kv.can_allocate(41));
  EXPECT_THROW(kv.allocate(41), std::logic_error);
  EXPECT_EQ(kv.used(), 60) << "a refused allocation changes nothing";
  kv.release(60);
  EXPECT_THROW(kv.release(1), std::logic_error);
  EXPECT_THROW(kv.allocate(-1), std::logic_error);
  EXPECT_EQ(kv.peak_used(), 60);
}

TEST(KvBlockManager, ResizeKeepsWhatIsUsed) {
  KvBlockManager kv(100);
  kv.allocate(80);
  kv.resize(150);
  EXPECT_EQ(kv.free(), 70);
  EXPECT_THROW(kv.resize(79), std::logic_error);
  kv.resize(80);
  EXPECT_DOUBLE_EQ(kv.usage(), 1.0);
}

}  // namespace
}  // namespace kunsim
