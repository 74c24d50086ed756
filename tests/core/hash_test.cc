#include "recsys/hash.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "recsys/error.h"

namespace recsys {
namespace {

TEST(FileFingerprintTest, SizeAndContents) {
  const auto path =
      std::filesystem::temp_directory_path() / ("recsys_fingerprint_" + std::to_string(::getpid()));
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::binary) << text; };
  write("");
  EXPECT_EQ(file_fingerprint(path.string()), "0:14650fb0739d0383");  // kFnv1aBasis
  write("abc");
  const std::string abc = file_fingerprint(path.string());
  EXPECT_EQ(abc.substr(0, 2), "3:");
  write("abd");
  EXPECT_NE(file_fingerprint(path.string()), abc);
  write("abc");
  EXPECT_EQ(file_fingerprint(path.string()), abc);
  std::filesystem::remove(path);
  EXPECT_THROW(file_fingerprint(path.string()), Error);
}

}  // namespace
}  // namespace recsys
