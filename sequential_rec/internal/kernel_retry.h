// Retrying work that failed while oneDNN built a kernel.
//
// Debian's oneDNN 2.6 (under LibTorch 1.13) now and then throws std::bad_array_new_length or
// std::bad_alloc while it creates a kernel for a bf16 matrix product (backtrace: addmm ->
// dnnl_primitive_create -> brgemm_kernel_create). Three bf16 TIGER trainings on Beauty stopped this
// way on 2026-11-29, each in the last, smaller batch of an epoch (shapes not seen before), with
// most of the 24 GiB of memory free; replaying the same step from its checkpoint (same inputs, same
// dropout masks) ran through, twice. The failure is not a property of the work, so it is retried.
// A fourth epoch end died of a segmentation fault inside libdnnl, which no retry can catch; since
// then the last batch of an epoch has the size of the others (internal/batching.h).
//
// The retry has to clear oneDNN's primitive cache first: the cache holds a std::shared_future per
// kernel, and a kernel whose creation threw leaves its future without a value, so every later
// request for that kernel in the process throws std::future_error (broken promise). That is how a
// retried decode died on 2026-11-30 ("decoding failed (std::bad_array_new_length, attempt 1 of
// 3); retrying", then "std::future_error: Broken promise"). A broken promise is retried the same
// way, since another thread may meet the poisoned entry first.
//
// LibTorch reports its own allocation failures as c10::Error, so a real shortage of memory in a
// tensor allocation is not retried; a std::bad_alloc that persists is rethrown after `attempts`
// calls.
#pragma once

#include <future>
#include <new>
#include <string>

#include "recsys/logging.h"

namespace recsys::seqrec::internal {

// Calls of a training step or a decode chunk before its std::bad_alloc is rethrown.
inline constexpr int kKernelAttempts = 3;

// Empties oneDNN's primitive cache (kernels are created again on demand). Returns false when the
// oneDNN in use cannot be reached (not loaded as libdnnl.so.2, e.g. linked statically).
bool clear_onednn_primitive_cache();

// Returns fn(). When it throws std::bad_alloc (std::bad_array_new_length included) or a broken
// promise, clears oneDNN's primitive cache, calls reset() (undo any partial effect of fn) and fn()
// again, at most `attempts` calls of fn in all, logging a warning that names `what` per retry.
template <typename Fn, typename Reset>
auto retry_on_bad_alloc(const std::string& what, int attempts, Fn&& fn, Reset&& reset)
    -> decltype(fn()) {
  for (int attempt = 1;; ++attempt) {
    std::string error;
    try {
      return fn();
    } catch (const std::bad_alloc& e) {
      if (attempt >= attempts) throw;
      error = e.what();
    } catch (const std::future_error& e) {
      if (attempt >= attempts || e.code() != std::future_errc::broken_promise) throw;
      error = e.what();
    }
    const bool cleared = clear_onednn_primitive_cache();
    RECSYS_LOG(Warning) << what << " failed (" << error << ", attempt " << attempt << " of "
                        << attempts << "); retrying"
                        << (cleared ? " with oneDNN's kernel cache cleared" : "")
                        << " (see sequential_rec/internal/kernel_retry.h)";
    reset();
  }
}

}  // namespace recsys::seqrec::internal
