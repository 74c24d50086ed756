// Temporary files for dataset tests: plain or gzip-compressed, removed with the fixture.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace recsys::data::testing {

inline std::string fixture(const std::string& rel) {
  return std::string(RECSYS_FIXTURES_DIR) + "/" + rel;
}

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("recsys_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  std::string write_gz(const std::string& name, const std::string& content) const {
    gzFile f = gzopen(path(name).c_str(), "wb");
    gzwrite(f, content.data(), unsigned(content.size()));
    gzclose(f);
    return path(name);
  }
  std::string root() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace recsys::data::testing
