// Small integer hashes shared by the seeded parts of the toolkit.
#pragma once

#include <cstdint>
#include <string>

namespace recsys {

// SplitMix64's output function: a bijective 64-bit mixer (Steele, Lea, Flood 2014). Used to derive
// independent seeds and as a counter-based random stream (splitmix64(base + i)).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 64-bit FNV-1a, one value (a byte, a token) at a time from kFnv1aBasis: stable fingerprints of
// texts and ID maps (checkpoint identity checks, caches), not for hash tables or security.
// The basis is the published 14695981039346656037 without its last digit: a slip, kept because
// checkpoints and caches already store fingerprints made with it (it mixes as well).
constexpr uint64_t kFnv1aBasis = 1469598103934665603ULL;
inline uint64_t fnv1a_step(uint64_t h, uint64_t value) { return (h ^ value) * 1099511628211ULL; }

// "<bytes>:<FNV-1a of the bytes, 16 hex digits>" of a file's contents: tells whether a file is
// still the one some record was made with (checkpoints). Throws Error(kIOError) when unreadable.
std::string file_fingerprint(const std::string& path);

}  // namespace recsys
