// Reads a text file, plain or gzip-compressed (detected from the magic bytes, not the name), into
// memory and splits it into lines (dropping a leading UTF-8 byte-order mark). A truncated or
// corrupt gzip stream is an error naming the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace recsys::data {

class TextFile {
 public:
  // Throws kNotFound if the file is missing, kIOError / kCorruption if it cannot be read fully.
  explicit TextFile(std::string path);

  const std::string& path() const { return path_; }
  // Lines without their terminator ("\n" or "\r\n"); a last line without newline is kept.
  const std::vector<std::string_view>& lines() const { return lines_; }

 private:
  std::string path_;
  std::string data_;
  std::vector<std::string_view> lines_;
};

}  // namespace recsys::data
