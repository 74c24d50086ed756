// Small integer hashes shared by the seeded parts of the toolkit.
#pragma once

#include <cstdint>

namespace recsys {

// SplitMix64's output function: a bijective 64-bit mixer (Steele, Lea, Flood 2014). Used to derive
// independent seeds and as a counter-based random stream (splitmix64(base + i)).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace recsys
