#include "indexer/npy_embeddings.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <unordered_map>

#include "recsys/error.h"

namespace recsys::indexer {

RowMatrix load_npy_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kIOError, "cannot open '", path, "'");
  char magic[8];
  in.read(magic, 8);
  RECSYS_CHECK(in && std::memcmp(magic, "\x93NUMPY", 6) == 0, "'", path,
               "' is not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  // Sizes from the header are checked against the file before anything is allocated.
  const uint64_t file_bytes = std::filesystem::file_size(path);
  RECSYS_CHECK(header_len <= file_bytes, "'", path, "': truncated .npy header");
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  RECSYS_CHECK(in.good(), "'", path, "': truncated .npy header");
  std::smatch m;
  RECSYS_CHECK(std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")) &&
                   (m[1] == "<f4" || m[1] == "=f4"),
               "'", path, "': expected dtype float32 ('<f4'), header: ", header);
  RECSYS_CHECK(std::regex_search(header, m, std::regex("'fortran_order':\\s*False")), "'", path,
               "': expected C order (fortran_order False)");
  RECSYS_CHECK(
      std::regex_search(header, m, std::regex("'shape':\\s*\\((\\d+),\\s*(\\d+),?\\s*\\)")), "'",
      path, "': expected a 2-D shape (N, D), header: ", header);
  const uint64_t data_bytes = file_bytes - std::min<uint64_t>(file_bytes, uint64_t(in.tellg()));
  const std::string rows_text = m[1], cols_text = m[2];
  RECSYS_CHECK(rows_text.size() <= 18 && cols_text.size() <= 18, "'", path, "': shape (", rows_text,
               ", ", cols_text, ") too large");
  const uint64_t n = std::stoull(rows_text), d = std::stoull(cols_text);
  RECSYS_CHECK(d == 0 || n <= data_bytes / sizeof(float) / d, "'", path,
               "': data shorter than shape (", n, ", ", d, ")");
  const auto rows = static_cast<Eigen::Index>(n), cols = static_cast<Eigen::Index>(d);
  RowMatrix x(rows, cols);
  in.read(reinterpret_cast<char*>(x.data()), sizeof(float) * rows * cols);
  RECSYS_CHECK(in.gcount() == static_cast<std::streamsize>(sizeof(float) * rows * cols), "'", path,
               "': data shorter than shape (", rows, ", ", cols, ")");
  return x;
}

void save_npy_matrix(const std::string& path, const RowMatrix& x) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(x.rows()) + ", " + std::to_string(x.cols()) + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", path, "'");
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const unsigned char b[2] = {static_cast<unsigned char>(len & 0xFF),
                              static_cast<unsigned char>(len >> 8)};
  out.write(reinterpret_cast<const char*>(b), 2);
  out.write(header.data(), header.size());
  out.write(reinterpret_cast<const char*>(x.data()), sizeof(float) * x.size());
  if (!out) RECSYS_THROW(ErrorCode::kIOError, "failed writing '", path, "'");
}

RowMatrix load_item_embeddings(const std::string& npy_path, const std::string& keys_path,
                               const std::vector<ItemRecord>& items) {
  const RowMatrix all = load_npy_matrix(npy_path);
  std::ifstream in(keys_path);
  if (!in) RECSYS_THROW(ErrorCode::kIOError, "cannot open '", keys_path, "'");
  std::unordered_map<std::string, Eigen::Index> row_of;
  std::string line;
  Eigen::Index row = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    RECSYS_CHECK(row_of.emplace(line, row).second, "'", keys_path, "' line ", row + 1,
                 ": duplicate item key '", line, "'");
    ++row;
  }
  RECSYS_CHECK(row == all.rows(), "'", keys_path, "' has ", row, " keys but '", npy_path, "' has ",
               all.rows(), " rows");
  RowMatrix x(items.size(), all.cols());
  for (size_t i = 0; i < items.size(); ++i) {
    auto it = row_of.find(items[i].external_id);
    RECSYS_CHECK(it != row_of.end(), "'", keys_path, "': no embedding for item '",
                 items[i].external_id, "'");
    x.row(i) = all.row(it->second);
  }
  RECSYS_CHECK(x.allFinite(), "'", npy_path, "': embeddings contain NaN or infinity");
  return x;
}

}  // namespace recsys::indexer
