// Binary codecs for store keys and values. Keys are big-endian so that RocksDB's bytewise order
// equals numeric / token order; values are length-prefixed little-endian records.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "recsys/error.h"
#include "recsys/types.h"

namespace recsys::storage::internal {

inline void put_be32(std::string& out, uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.append(b, 4);
}
inline void put_be16(std::string& out, uint16_t v) {
  const char b[2] = {char(v >> 8), char(v)};
  out.append(b, 2);
}
inline uint32_t get_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t(u[0]) << 24) | (uint32_t(u[1]) << 16) | (uint32_t(u[2]) << 8) | uint32_t(u[3]);
}
// A stored item or user index (4 bytes, big-endian); kCorruption for any other length.
inline uint32_t get_index(std::string_view value, const char* what) {
  if (value.size() != 4) RECSYS_THROW(ErrorCode::kCorruption, "bad ", what, " record in store");
  return get_be32(value.data());
}
inline uint16_t get_be16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint16_t((uint32_t(u[0]) << 8) | uint32_t(u[1]));
}

inline std::string index_key(uint32_t index) {
  std::string k;
  put_be32(k, index);
  return k;
}

// Appends tokens big-endian (2 bytes each).
inline void put_tokens(std::string& out, const SemanticId& id) {
  for (Token t : id) put_be16(out, t);
}
// Reads what put_tokens wrote; kCorruption for an odd byte count (a truncated token).
inline SemanticId get_tokens(std::string_view bytes) {
  if (bytes.size() % 2 != 0)
    RECSYS_THROW(ErrorCode::kCorruption, "bad semantic-ID record in store (", bytes.size(),
                 " bytes)");
  SemanticId id(bytes.size() / 2);
  for (size_t i = 0; i < id.size(); ++i) id[i] = get_be16(bytes.data() + 2 * i);
  return id;
}

// Sequential reader over a value; every read checks bounds and throws kCorruption.
class Reader {
 public:
  explicit Reader(std::string_view data, const char* what) : data_(data), what_(what) {}
  uint32_t u32() {
    need(4);
    uint32_t v;
    std::memcpy(&v, data_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  int64_t i64() {
    need(8);
    int64_t v;
    std::memcpy(&v, data_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::string str() {
    const uint32_t n = u32();
    need(n);
    std::string s(data_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  // A count of elements that take at least `min_bytes` each: one the remaining bytes cannot hold
  // is corruption, caught before anything is allocated for it.
  uint32_t count(size_t min_bytes) {
    const uint32_t n = u32();
    need(size_t(n) * min_bytes);
    return n;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  void need(size_t n) {
    if (pos_ + n > data_.size())
      RECSYS_THROW(ErrorCode::kCorruption, "truncated ", what_, " record in store");
  }
  std::string_view data_;
  const char* what_;
  size_t pos_ = 0;
};

inline void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<char*>(&v), 4); }
inline void put_i64(std::string& out, int64_t v) { out.append(reinterpret_cast<char*>(&v), 8); }
inline void put_str(std::string& out, const std::string& s) {
  put_u32(out, uint32_t(s.size()));
  out.append(s);
}

std::string encode_item(const ItemRecord& item);
ItemRecord decode_item(std::string_view bytes);
std::string encode_user(const UserRecord& user);
UserRecord decode_user(std::string_view bytes);

}  // namespace recsys::storage::internal
