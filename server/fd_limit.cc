#include "server/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "recsys/logging.h"

namespace recsys::server {

size_t connection_capacity(size_t wanted, uint64_t fd_limit, size_t open) {
  const uint64_t need_beside = uint64_t(open) + kReservedDescriptors;
  if (fd_limit <= need_beside) return 1;
  return size_t(std::min<uint64_t>(wanted, fd_limit - need_beside));
}

namespace {

// Descriptors open now (Linux); 0 where /proc is not mounted.
size_t open_descriptors() {
  std::error_code ec;
  size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? 0 : n;
}

}  // namespace

size_t reserve_connection_descriptors(size_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;  // nothing known: trust the option
  const size_t open = open_descriptors();
  const uint64_t need = uint64_t(wanted) + open + kReservedDescriptors;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < need) {
    rlimit raised = limit;
    raised.rlim_cur =
        limit.rlim_max == RLIM_INFINITY ? need : std::min<uint64_t>(need, limit.rlim_max);
    if (raised.rlim_cur > limit.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      RECSYS_LOG(Info) << "raised the open-file limit from " << limit.rlim_cur << " to "
                       << raised.rlim_cur << " for --max-connections " << wanted;
      limit = raised;
    } else if (raised.rlim_cur > limit.rlim_cur) {
      RECSYS_LOG(Warning) << "cannot raise the open-file limit from " << limit.rlim_cur << ": "
                          << std::strerror(errno);
    }
  }
  if (limit.rlim_cur == RLIM_INFINITY) return wanted;
  const size_t cap = connection_capacity(wanted, limit.rlim_cur, open);
  if (cap < wanted)
    RECSYS_LOG(Warning) << "--max-connections " << wanted << " does not fit the open-file limit "
                        << limit.rlim_cur << " (hard limit " << limit.rlim_max
                        << "): connections beyond " << cap << " get 503";
  return cap;
}

}  // namespace recsys::server
