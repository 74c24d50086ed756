#include "recsys/error.h"

#include <cstring>

namespace recsys {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kIOError:
      return "I/O error";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "error";
}

namespace internal {

void throw_error(ErrorCode code, const char* file, int line, const std::string& msg) {
  // Keep the user-facing message first; the source location is for bug reports.
  const char* base = std::strrchr(file, '/');
  throw Error(code, concat(msg, " [", base ? base + 1 : file, ":", line, "]"));
}

}  // namespace internal
}  // namespace recsys
