// Minimal logging facade: levelled lines on stderr with a timestamp. Libraries log through it and
// never write to std::cout; results meant for the user are printed by the CLI only.
#pragma once

#include <sstream>
#include <string>

namespace recsys {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
// Parses "debug", "info", "warning", "error", "off"; throws on anything else.
LogLevel parse_log_level(const std::string& name);

namespace internal {
class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  template <typename T>
  LogLine& operator<<(const T& v) {
    os_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream os_;
};

// Turns `LogLine(...) << a << b` into a void expression, so that RECSYS_LOG can be the second
// operand of ?: (binds looser than <<, tighter than ?:).
struct LogVoidify {
  void operator&(const LogLine&) const {}
};
}  // namespace internal
}  // namespace recsys

// RECSYS_LOG(Info) << "x " << x; is one expression (no hidden if, so no -Wdangling-else under an
// unbraced if); the operands are evaluated only when the level is enabled.
#define RECSYS_LOG(level)                                \
  (::recsys::LogLevel::k##level < ::recsys::log_level()) \
      ? (void)0                                          \
      : ::recsys::internal::LogVoidify() &               \
            ::recsys::internal::LogLine(::recsys::LogLevel::k##level)
