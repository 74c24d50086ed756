#include "recsys/allocator.h"

// <malloc.h> also brings in the C library's feature macros (__GLIBC__): the check below must come
// after a system header, or it is always false.
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace recsys {

void keep_freed_tensor_memory() {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace recsys
