#include "recsys/blas.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace recsys {
namespace {

TEST(OpenBlasKernelsTest, AvxFiveTwelveOnAmdGetsSkylakeX) {
  EXPECT_STREQ(preferred_openblas_coretype({/*amd=*/true, /*avx512=*/true}), "SkylakeX");
  EXPECT_EQ(preferred_openblas_coretype({/*amd=*/true, /*avx512=*/false}), nullptr);
  EXPECT_EQ(preferred_openblas_coretype({/*amd=*/false, /*avx512=*/true}), nullptr);
  EXPECT_EQ(preferred_openblas_coretype({/*amd=*/false, /*avx512=*/false}), nullptr);
}

class EnvRestorer {
 public:
  explicit EnvRestorer(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) value_ = v;
  }
  ~EnvRestorer() {
    if (value_) {
      setenv(name_, value_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> value_;
};

TEST(OpenBlasKernelsTest, TheUsersOwnChoiceWins) {
  EnvRestorer restore("OPENBLAS_CORETYPE");
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  EXPECT_EQ(choose_openblas_kernels(), nullptr);
  EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), "Haswell");
}

TEST(OpenBlasKernelsTest, SetsWhatThisCpuPrefers) {
  EnvRestorer restore("OPENBLAS_CORETYPE");
  unsetenv("OPENBLAS_CORETYPE");
  const char* expected = preferred_openblas_coretype(host_cpu_features());
  const char* chosen = choose_openblas_kernels();
  if (expected == nullptr) {
    EXPECT_EQ(chosen, nullptr);
    EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE"), nullptr);
  } else {
    EXPECT_STREQ(chosen, expected);
    EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), expected);
  }
}

}  // namespace
}  // namespace recsys
