// Process-wide allocator settings for tensor work.
#pragma once

namespace recsys {

// Tensor code allocates and frees the same multi-megabyte buffers at every step. glibc serves
// those with mmap and returns them with munmap, so each step pays page faults on fresh zeroed
// pages (measured: half of a trained model's fp32 decoding time on this project's VM). This keeps
// freed blocks of up to 32 MiB in the heap and trims it only above 1 GiB of free memory. Call once,
// before the heavy work starts; a no-op on other C libraries.
void keep_freed_tensor_memory();

}  // namespace recsys
