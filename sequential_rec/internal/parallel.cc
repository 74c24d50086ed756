#include "sequential_rec/internal/parallel.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "recsys/error.h"
#include "recsys/hash.h"
#include "recsys/logging.h"

#ifndef _OPENMP
#error "parallel.cc must be built with OpenMP: at::parallel_for is serial without it"
#endif

namespace recsys::seqrec::internal {
namespace {

struct OpenBlas {
  void (*set_num_threads)(int) = nullptr;
  int (*get_num_threads)() = nullptr;
  char* (*get_corename)() = nullptr;
};

// The BLAS LibTorch links is chosen by Debian's alternatives; look for OpenBLAS's thread control
// in whichever library is already loaded (the ML module is loaded RTLD_LOCAL, so RTLD_DEFAULT
// would not see it).
const OpenBlas& openblas() {
  static const OpenBlas lib = [] {
    OpenBlas o;
    for (const char* name : {"libblas.so.3", "libopenblas.so.0", "libopenblasp.so.0"}) {
      void* h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
      if (!h) continue;
      o.set_num_threads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
      o.get_num_threads = reinterpret_cast<int (*)()>(dlsym(h, "openblas_get_num_threads"));
      o.get_corename = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
      if (o.set_num_threads && o.get_num_threads) break;
      o = {};
    }
    return o;
  }();
  return lib;
}

thread_local std::optional<DropoutStream> tls_dropout_stream;

// keep[i] = scale with probability 1 - drop / 65536, else 0; each 64-bit word gives 4 elements.
template <typename T>
void fill_keep_mask(T* keep, int64_t n, uint32_t drop, float scale, DropoutStream& stream) {
  const T on = static_cast<T>(scale), off = static_cast<T>(0.f);
  const uint64_t base = stream.seed * 0xD1B54A32D192ED03ull;
  for (int64_t i = 0; i < n; i += 4) {
    const uint64_t w = splitmix64(base + stream.next++);
    const int64_t lanes = std::min<int64_t>(4, n - i);
    for (int64_t j = 0; j < lanes; ++j) {
      keep[i + j] = ((w >> (16 * j)) & 0xFFFF) >= drop ? on : off;
    }
  }
}

}  // namespace

BlasThreadsGuard::BlasThreadsGuard(int n) {
  const auto& lib = openblas();
  if (!lib.set_num_threads) return;
  previous_ = lib.get_num_threads();
  if (previous_ != n) lib.set_num_threads(n);
}

BlasThreadsGuard::~BlasThreadsGuard() {
  const auto& lib = openblas();
  if (previous_ > 0 && lib.get_num_threads() != previous_) lib.set_num_threads(previous_);
}

int openblas_threads() {
  const auto& lib = openblas();
  return lib.get_num_threads ? lib.get_num_threads() : 0;
}

std::string openblas_core_name() {
  const auto& lib = openblas();
  return lib.get_corename ? lib.get_corename() : "";
}

std::string pinned_blas_kernels_warning(const std::string& core, const char* coretype_env,
                                        bool cpu_has_avx512) {
  if (coretype_env == nullptr || *coretype_env == '\0' || core.empty() || !cpu_has_avx512)
    return "";
  std::string lower = core;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* avx512 : {"skylakex", "cooperlake", "sapphirerapids"}) {
    if (lower == avx512) return "";
  }
  return "OPENBLAS_CORETYPE=" + std::string(coretype_env) + " holds OpenBLAS to its " + core +
         " kernels on a CPU with AVX-512: float32 products run slower than on the kernels "
         "OpenBLAS would pick (unset OPENBLAS_CORETYPE to let it choose)";
}

void warn_if_blas_kernels_pinned() {
  static std::once_flag once;
  std::call_once(once, [] {
    bool avx512 = false;
#if defined(__x86_64__) && defined(__GNUC__)
    avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");  // enabled by the OS, as libgcc checks
#endif
    const std::string warning =
        pinned_blas_kernels_warning(openblas_core_name(), std::getenv("OPENBLAS_CORETYPE"), avx512);
    if (!warning.empty()) RECSYS_LOG(Warning) << warning;
  });
}

int64_t shard_threads() { return at::in_parallel_region() ? 1 : at::get_num_threads(); }

void run_shards(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 1 || shard_threads() <= 1) {
    // OpenBLAS starts as many threads as there are cores, whatever LibTorch's count: hold it to
    // that count, so that one thread means one (and a one-thread run gives the same floats as a
    // sharded one: OpenBLAS's threaded AVX2 sgemm rounds differently from its one-thread sgemm).
    BlasThreadsGuard blas_threads(static_cast<int>(shard_threads()));
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  BlasThreadsGuard one_blas_thread(1);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(i);
  });
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  if (!tls_dropout_stream || !x.is_cpu()) return torch::dropout(x, p, /*train=*/true);
  RECSYS_CHECK(p < 1, "dropout probability must be below 1, got ", p);
  auto keep = torch::empty(x.sizes(), x.options().requires_grad(false));
  const auto drop = static_cast<uint32_t>(std::lround(p * 65536.0));
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, keep.scalar_type(), "dropout", [&] {
    fill_keep_mask(keep.data_ptr<scalar_t>(), keep.numel(), drop, scale, *tls_dropout_stream);
  });
  return x * keep;
}

ScopedDropoutStream::ScopedDropoutStream(uint64_t seed) : previous_(tls_dropout_stream) {
  tls_dropout_stream = DropoutStream{seed, 0};
}

ScopedDropoutStream::~ScopedDropoutStream() { tls_dropout_stream = previous_; }

}  // namespace recsys::seqrec::internal
