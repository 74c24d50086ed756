// Which OpenBLAS kernels LibTorch's float32 matrix products run on.
//
// OpenBLAS picks its kernels from the CPU when it loads. Debian 12's OpenBLAS 0.3.21 does not know
// AMD's AVX-512 CPUs (Zen 4 and later) and gives them its AVX2 "Haswell" kernels, although they run
// the "SkylakeX" AVX-512 ones correctly. On this project's 2-core AMD EPYC (Zen 4) the AVX-512
// sgemm is 1.7-1.9x faster at the shapes TIGER uses (one thread, 128 x 1024 x 640 and the like),
// and every float32 training step and decoding step is mostly sgemm. OpenBLAS reads the choice
// from OPENBLAS_CORETYPE when it loads, so it has to be set before LibTorch is loaded.
#pragma once

namespace recsys {

struct CpuFeatures {
  bool amd = false;
  bool avx512 = false;  // AVX-512 F, CD, BW, DQ and VL, enabled by the OS
};

// This machine's CPU.
CpuFeatures host_cpu_features();

// The OPENBLAS_CORETYPE a CPU with `cpu` should run, or nullptr to leave OpenBLAS's own choice.
const char* preferred_openblas_coretype(const CpuFeatures& cpu);

// Sets OPENBLAS_CORETYPE for this process when preferred_openblas_coretype() names one and the
// variable is not set already (the user's own value wins, e.g. OPENBLAS_CORETYPE=Haswell to undo
// this). Returns the value it set, or nullptr. Has no effect on an OpenBLAS already loaded: call it
// before LibTorch loads.
const char* choose_openblas_kernels();

// For programs that link LibTorch directly, where OpenBLAS loads before main(): when
// choose_openblas_kernels() sets the variable, runs the program again (execv of /proc/self/exe
// with the same arguments) so that OpenBLAS sees it. Returns when nothing had to change or the
// re-execution failed.
void reexec_with_openblas_kernels(char** argv);

}  // namespace recsys
