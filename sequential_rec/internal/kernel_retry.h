// Working around oneDNN failing to build a bfloat16 kernel.
//
// Debian's oneDNN 2.6 (under LibTorch 1.13) now and then throws std::bad_array_new_length or
// std::bad_alloc while it creates a kernel for a bf16 matrix product (backtrace: addmm ->
// dnnl_primitive_create -> brgemm_kernel_create), with most of the memory free. Three bf16 TIGER
// trainings on Beauty stopped this way on 2026-11-29, each in the last, smaller batch of an epoch
// (shapes not seen before); replaying the same step from its checkpoint in a new process ran
// through, twice. A fourth epoch end died of a segmentation fault inside libdnnl, which nothing
// can catch; since then the last batch of an epoch has the size of the others
// (internal/batching.h). On 2026-11-30 two validations of bf16 runs failed this way, and within
// the process the failure repeated: the first retry met a broken promise (below), and once that
// was cleared, the same decode threw std::bad_array_new_length three times in a row.
//
// So the work is done again with float32 matrix products, which do not use oneDNN's bf16 kernels
// (float32 products go to the BLAS). oneDNN's primitive cache is emptied first: it holds a
// std::shared_future per kernel, and a kernel whose creation threw leaves its future without a
// value, so every later request for that kernel in the process would throw std::future_error
// (broken promise). A broken promise is handled the same way, since another thread may meet the
// poisoned entry first.
//
// This does not cure the cause. A third bf16 run that day threw std::bad_array_new_length in four
// decode chunks of one validation, each redone in float32, and libdnnl died of a segmentation
// fault a second later: the process's oneDNN state looks corrupted by then, not one kernel. Every
// failure so far came in a long training process (in the last batch of an epoch, or in a
// validation decode over all users, both full of shapes not seen before), none in `evaluate`
// until its decode at beam 80 (2026-12-01, below, also past the default cache capacity);
// TensorFlow turned oneDNN's primitive cache off in 2022 over memory corruption fixed in oneDNN
// 2.7.1 (tensorflow#57044, #58269). A resume continues such a run exactly.
//
// LibTorch reports its own allocation failures as c10::Error, so a real shortage of memory in a
// tensor allocation does not come here.
#pragma once

#include <future>
#include <new>
#include <string>

#include "recsys/logging.h"

namespace recsys::seqrec::internal {

// Empties oneDNN's primitive cache (kernels are created again on demand). Returns false when the
// oneDNN in use cannot be reached (not loaded as libdnnl.so.2, e.g. linked statically).
bool clear_onednn_primitive_cache();

// Raises oneDNN's primitive-cache capacity to `capacity` kernels when it is lower, unless the user
// set ONEDNN_PRIMITIVE_CACHE_CAPACITY or DNNL_PRIMITIVE_CACHE_CAPACITY (that choice stands).
// Returns the capacity in force afterwards, or -1 when oneDNN cannot be reached.
//
// Why: the default holds 1,024 kernels, and a cache that is full evicts one for each new shape.
// Counted with ONEDNN_VERBOSE=2 (2026-11-30): a bf16 TIGER training on Beauty builds ~525 kernels
// (each of the 20 encoder lengths a batch's length groups pad to brings ~25 products), a decode
// of 3,000 validation users 437, of all 22,363 711 (none built twice: no eviction in `evaluate`).
// Every failure above came in a process past 1,024: training with a short last batch per epoch
// (its shapes anew each epoch), or training plus an all-users validation (525 + 711); none in
// `evaluate` at beam 20 or in trainings validating on 2,000 users (525 + ~420); since 2026-12-01
// `evaluate`, `recommend` and `serve` reserve the same room as training. That fits eviction
// being what corrupts oneDNN 2.6's state, as in tensorflow#57044; it is not proven. Each cached
// bf16 kernel holds ~0.28 MB here (peak RSS of a 3,000-user decode: 421 MB with the cache, 297 MB
// with capacity 0, which also took 1.8x the time), so the capacity bounds memory too.
int reserve_onednn_primitive_cache(int capacity);

// Kernels a bf16 process lets oneDNN cache: four times its default, room for the ~525 of TIGER's
// training steps on Beauty plus an all-users validation decode (711), or a decode at beam 80:
// 1,510 distinct kernels for the Beauty test split (ONEDNN_VERBOSE=2, 2026-12-01; 1,915 builds at
// the default capacity, the rest rebuilds after eviction), and `evaluate --beam 80` of two
// checkpoints at the default capacity threw std::bad_array_new_length in the second checkpoint's
// decode, then libdnnl died of a segmentation fault. Only kernels built take memory (~0.28 MB
// each).
constexpr int kBf16KernelCacheCapacity = 4096;

// Returns fn(false). When that throws std::bad_alloc (std::bad_array_new_length included) or a
// broken promise, empties oneDNN's primitive cache, calls reset() (undo any partial effect of fn),
// logs a warning naming `what`, and returns fn(true): the same work with float32 matrix products.
// What fn(true) throws passes through.
template <typename Fn, typename Reset>
auto with_fp32_fallback(const std::string& what, Fn&& fn, Reset&& reset) -> decltype(fn(false)) {
  std::string error;
  try {
    return fn(false);
  } catch (const std::bad_alloc& e) {
    error = e.what();
  } catch (const std::future_error& e) {
    if (e.code() != std::future_errc::broken_promise) throw;
    error = e.what();
  }
  const bool cleared = clear_onednn_primitive_cache();
  RECSYS_LOG(Warning) << what << " failed (" << error << "); doing it again with float32 products"
                      << (cleared ? " and oneDNN's kernel cache emptied" : "")
                      << " (see sequential_rec/internal/kernel_retry.h)";
  reset();
  return fn(true);
}

}  // namespace recsys::seqrec::internal
