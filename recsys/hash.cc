#include "recsys/hash.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "recsys/error.h"

namespace recsys {

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) RECSYS_THROW(ErrorCode::kIOError, "cannot read '", path, "'");
  uint64_t h = kFnv1aBasis, bytes = 0;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    for (size_t i = 0; i < n; ++i) h = fnv1a_step(h, static_cast<unsigned char>(buffer[i]));
    bytes += n;
  }
  if (in.bad()) RECSYS_THROW(ErrorCode::kIOError, "read of '", path, "' failed");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::to_string(bytes) + ":" + hex;
}

}  // namespace recsys
