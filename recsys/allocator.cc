#include "recsys/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace recsys {

void keep_freed_tensor_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace recsys
