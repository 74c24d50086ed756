#include "recsys/blas.h"

#include <unistd.h>

#include <cstdlib>

namespace recsys {

CpuFeatures host_cpu_features() {
  CpuFeatures cpu;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  cpu.amd = __builtin_cpu_is("amd");
  // libgcc reports AVX-512 features only when the OS saves their registers (XCR0).
  cpu.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl");
#endif
  return cpu;
}

const char* preferred_openblas_coretype(const CpuFeatures& cpu) {
  // Intel's AVX-512 CPUs already get AVX-512 kernels; AMD's get Haswell's from OpenBLAS < 0.3.22,
  // and SkylakeX from later releases, so naming it changes nothing there.
  return cpu.amd && cpu.avx512 ? "SkylakeX" : nullptr;
}

const char* choose_openblas_kernels() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return nullptr;
  const char* core = preferred_openblas_coretype(host_cpu_features());
  if (core == nullptr || setenv("OPENBLAS_CORETYPE", core, /*overwrite=*/0) != 0) return nullptr;
  return core;
}

void reexec_with_openblas_kernels(char** argv) {
  if (choose_openblas_kernels() == nullptr) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with OpenBLAS's own choice
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace recsys
