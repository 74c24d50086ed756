// Error type thrown by every recsys library. One handler in main() maps it to a message and an
// exit code; RocksDB Status and parser failures are converted to it at their boundaries.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace recsys {

enum class ErrorCode {
  kInvalidArgument = 1,
  kNotFound = 2,
  kCorruption = 3,
  kIOError = 4,
  kUnsupported = 5,
  kInternal = 6,
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

namespace internal {

template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

[[noreturn]] void throw_error(ErrorCode code, const char* file, int line, const std::string& msg);

}  // namespace internal
}  // namespace recsys

// Throws recsys::Error with the given code; the message is the concatenation of the arguments.
#define RECSYS_THROW(code, ...) \
  ::recsys::internal::throw_error(code, __FILE__, __LINE__, ::recsys::internal::concat(__VA_ARGS__))

// Checks a condition on user input; throws kInvalidArgument naming the failed condition.
#define RECSYS_CHECK(cond, ...)                                                                  \
  do {                                                                                           \
    if (!(cond))                                                                                 \
      ::recsys::internal::throw_error(::recsys::ErrorCode::kInvalidArgument, __FILE__, __LINE__, \
                                      ::recsys::internal::concat(__VA_ARGS__));                  \
  } while (0)
