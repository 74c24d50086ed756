#include "recsys/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace recsys {
namespace {

#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && __GLIBC_PREREQ(2, 33)  // mallinfo2
// Number of blocks glibc currently serves with mmap after a fresh, touched allocation of `bytes`.
size_t mmapped_blocks_while_holding(size_t bytes) {
  void* p = std::malloc(bytes);
  EXPECT_NE(p, nullptr);
  std::memset(p, 1, bytes);
  const size_t blocks = mallinfo2().hblks;
  std::free(p);
  return blocks;
}

TEST(AllocatorTest, KeepsMultiMegabyteBlocksOutOfMmap) {
  constexpr size_t kBytes = 8 << 20;  // above glibc's default threshold, below the new one
  // A known starting point: glibc's default threshold, fixed.
  ASSERT_EQ(mallopt(M_MMAP_THRESHOLD, 128 << 10), 1);
  const size_t before = mallinfo2().hblks;
  ASSERT_EQ(mmapped_blocks_while_holding(kBytes), before + 1) << "8 MiB should be mmapped here";

  keep_freed_tensor_memory();
  EXPECT_EQ(mmapped_blocks_while_holding(kBytes), before);
}
#else
TEST(AllocatorTest, KeepsMultiMegabyteBlocksOutOfMmap) { GTEST_SKIP() << "needs glibc 2.33+"; }
#endif

}  // namespace
}  // namespace recsys
