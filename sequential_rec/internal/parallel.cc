#include "sequential_rec/internal/parallel.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>

#ifndef _OPENMP
#error "parallel.cc must be built with OpenMP: at::parallel_for is serial without it"
#endif

namespace recsys::seqrec::internal {
namespace {

struct OpenBlas {
  void (*set_num_threads)(int) = nullptr;
  int (*get_num_threads)() = nullptr;
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
      if (o.set_num_threads && o.get_num_threads) break;
      o = {};
    }
    return o;
  }();
  return lib;
}

thread_local std::optional<at::Generator> tls_dropout_generator;

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

int64_t shard_threads() { return at::in_parallel_region() ? 1 : at::get_num_threads(); }

void run_shards(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 1 || shard_threads() <= 1) {
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
  if (!tls_dropout_generator || !x.is_cpu()) return torch::dropout(x, p, /*train=*/true);
  auto keep = torch::empty_like(x).bernoulli_(1.0 - p, *tls_dropout_generator);
  return x * keep.div_(1.0 - p);
}

ScopedDropoutGenerator::ScopedDropoutGenerator(uint64_t seed)
    : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)),
      previous_(tls_dropout_generator) {
  tls_dropout_generator = generator_;
}

ScopedDropoutGenerator::~ScopedDropoutGenerator() { tls_dropout_generator = previous_; }

}  // namespace recsys::seqrec::internal
