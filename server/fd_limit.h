// The server's file-descriptor budget. Every connection holds a descriptor, so --max-connections
// beyond the process's open-file limit (RLIMIT_NOFILE; 1024 by default on Debian) would not be
// enforced with a 503: accept() would fail with EMFILE and leave clients waiting in the backlog.
#pragma once

#include <cstddef>
#include <cstdint>

namespace recsys::server {

// Descriptors kept free beside the connections: the store's files (twice while a refresh opens the
// new snapshot beside the old), logs, the acceptor and the process's own.
inline constexpr size_t kReservedDescriptors = 128;

// Connections that fit in `fd_limit` descriptors when `open` are already in use: `wanted`, or
// fewer (at least 1).
size_t connection_capacity(size_t wanted, uint64_t fd_limit, size_t open);

// Raises the soft open-file limit towards the hard limit so that `wanted` connections fit, and
// returns how many do (logs a warning when fewer than `wanted`).
size_t reserve_connection_descriptors(size_t wanted);

}  // namespace recsys::server
