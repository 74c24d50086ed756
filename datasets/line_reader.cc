#include "datasets/line_reader.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>

#include "recsys/error.h"

namespace recsys::data {

namespace {

// Reads in blocks: a pipe (--reviews <(zcat ...)) has no size to read up to.
std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kIOError, "cannot open '", path, "'");
  std::string data;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) data.reserve(size);
  std::vector<char> block(1 << 20);
  while (in.read(block.data(), std::streamsize(block.size())) || in.gcount() > 0)
    data.append(block.data(), size_t(in.gcount()));
  if (in.bad()) RECSYS_THROW(ErrorCode::kIOError, "cannot read '", path, "'");
  return data;
}

std::string gunzip(const std::string& path, const std::string& compressed) {
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper; concatenated members are handled by the loop below.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    RECSYS_THROW(ErrorCode::kInternal, "zlib init failed");
  std::string out;
  out.reserve(compressed.size() * 6);
  // zlib takes at most 4 GiB - 1 at a time (uInt): larger files go in in pieces.
  size_t fed = 0;
  const auto input_left = [&] { return zs.avail_in > 0 || fed < compressed.size(); };
  char buf[1 << 16];
  int ret = Z_OK;
  for (;;) {
    if (zs.avail_in == 0 && fed < compressed.size()) {
      const size_t n = std::min<size_t>(compressed.size() - fed, std::numeric_limits<uInt>::max());
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + fed));
      zs.avail_in = uInt(n);
      fed += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    ret = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (ret == Z_STREAM_END) {
      if (!input_left()) break;
      inflateReset(&zs);  // next gzip member
      continue;
    }
    if (ret == Z_BUF_ERROR && !input_left()) break;  // input ended mid-stream
    if (ret != Z_OK) {
      const std::string msg = zs.msg ? zs.msg : "unknown zlib error";
      inflateEnd(&zs);
      RECSYS_THROW(ErrorCode::kCorruption, "'", path, "' is not a valid gzip file (", msg,
                   ") after ", out.size(), " decompressed bytes");
    }
  }
  inflateEnd(&zs);
  if (ret != Z_STREAM_END)
    RECSYS_THROW(ErrorCode::kCorruption, "'", path,
                 "' is truncated: the gzip stream ends early after ", out.size(),
                 " decompressed bytes");
  return out;
}

}  // namespace

TextFile::TextFile(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) RECSYS_THROW(ErrorCode::kNotFound, "no file '", path_, "'");
  std::string raw = read_raw(path_);
  const bool gz = raw.size() >= 2 && uint8_t(raw[0]) == 0x1f && uint8_t(raw[1]) == 0x8b;
  data_ = gz ? gunzip(path_, raw) : std::move(raw);
  // A UTF-8 byte-order mark (as Windows tools write) is not part of the first record.
  size_t start = data_.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  const size_t n = data_.size();
  lines_.reserve(n / 64);
  while (start < n) {
    size_t end = data_.find('\n', start);
    if (end == std::string::npos) end = n;
    size_t stop = end;
    if (stop > start && data_[stop - 1] == '\r') --stop;
    lines_.emplace_back(data_.data() + start, stop - start);
    start = end + 1;
  }
}

}  // namespace recsys::data
