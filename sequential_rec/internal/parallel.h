// Data parallelism over the intra-op threads for training steps and batched decoding.
//
// The models here are small (d_model 128): one matrix product over a batch keeps only part of a
// second core busy, and OpenBLAS's own threads fight LibTorch's OpenMP threads (measured: the
// 2-thread decode spent more time in sched_yield and OpenMP spin-waits than in sgemm). Splitting
// the work into one shard per thread, each shard single-threaded, scales almost linearly instead.
//
// Dropout draws from a per-shard mask stream seeded by the caller, so a sharded training step gives
// the same result however the threads are scheduled.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace recsys::seqrec::internal {

// Limits OpenBLAS to `n` threads while alive (no-op when the BLAS in use is not OpenBLAS).
class BlasThreadsGuard {
 public:
  explicit BlasThreadsGuard(int n);
  ~BlasThreadsGuard();
  BlasThreadsGuard(const BlasThreadsGuard&) = delete;
  BlasThreadsGuard& operator=(const BlasThreadsGuard&) = delete;

 private:
  int previous_ = -1;
};

// OpenBLAS's thread count now, or 0 when the BLAS in use is not OpenBLAS.
int openblas_threads();

// The kernels OpenBLAS runs ("Haswell", "Cooperlake", ...), or "" when the BLAS in use is not
// OpenBLAS.
std::string openblas_core_name();

// OpenBLAS picks its kernels from the CPU, unless OPENBLAS_CORETYPE names them. Some machines set
// that variable for all programs (the 2-core AMD EPYC this project is measured on sets Haswell,
// OpenBLAS's AVX2 kernels, where OpenBLAS itself would pick Cooperlake's AVX-512 ones; float32
// TIGER training and decoding ran 1.3-1.6x faster without it: benchmarks/reports/seqrec_speed.md).
// Returns a warning for the log when `coretype_env` (the variable, or nullptr) holds OpenBLAS,
// running the kernels `core`, below the AVX-512 kernels of a CPU that has AVX-512; "" otherwise.
std::string pinned_blas_kernels_warning(const std::string& core, const char* coretype_env,
                                        bool cpu_has_avx512);

// Logs pinned_blas_kernels_warning() for this process and CPU, once per process.
void warn_if_blas_kernels_pinned();

// Number of shards run_shards() runs at once (LibTorch's intra-op thread count).
int64_t shard_threads();

// Calls fn(0) .. fn(n - 1), one shard per intra-op thread at a time; torch operations inside a
// shard run single-threaded. With one shard or one thread, fn runs on the calling thread and
// OpenBLAS on at most LibTorch's intra-op thread count. The first exception thrown by a shard is
// rethrown here.
void run_shards(int64_t n, const std::function<void(int64_t shard)>& fn);

// Dropout used by every model here. On CPU, under a ScopedDropoutStream, the masks come from a
// counter-based stream (splitmix64 of the seed and a word counter, four 16-bit draws per word:
// p is rounded to a multiple of 1/65536). It replaced bernoulli_ on a seeded generator, one
// mt19937 draw per element, which was ~10% of a TIGER training step (fp32 174 -> 191 samples/s).
// Otherwise (no generator installed, or CUDA) it is torch::dropout on LibTorch's default generator.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// Position in a dropout mask stream: word i of stream `seed` is a pure function of (seed, i).
struct DropoutStream {
  uint64_t seed = 0;
  uint64_t next = 0;  // index of the next unused 64-bit word
};

// Installs the dropout mask stream `seed` on this thread while alive.
class ScopedDropoutStream {
 public:
  explicit ScopedDropoutStream(uint64_t seed);
  ~ScopedDropoutStream();
  ScopedDropoutStream(const ScopedDropoutStream&) = delete;
  ScopedDropoutStream& operator=(const ScopedDropoutStream&) = delete;

 private:
  std::optional<DropoutStream> previous_;
};

}  // namespace recsys::seqrec::internal
