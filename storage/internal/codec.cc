#include "storage/internal/codec.h"

namespace recsys::storage::internal {

std::string encode_item(const ItemRecord& item) {
  std::string out;
  out.reserve(64 + item.title.size() + item.description.size() + item.text.size());
  put_str(out, item.external_id);
  put_str(out, item.title);
  put_str(out, item.brand);
  put_str(out, item.description);
  put_str(out, item.price);
  put_u32(out, uint32_t(item.categories.size()));
  for (const auto& path : item.categories) {
    put_u32(out, uint32_t(path.size()));
    for (const auto& c : path) put_str(out, c);
  }
  put_str(out, item.text);
  return out;
}

ItemRecord decode_item(std::string_view bytes) {
  Reader r(bytes, "item");
  ItemRecord item;
  item.external_id = r.str();
  item.title = r.str();
  item.brand = r.str();
  item.description = r.str();
  item.price = r.str();
  item.categories.resize(r.count(4));  // each path: its own count at least
  for (auto& path : item.categories) {
    path.resize(r.count(4));  // each category: its length at least
    for (auto& c : path) c = r.str();
  }
  item.text = r.str();
  if (!r.done()) RECSYS_THROW(ErrorCode::kCorruption, "trailing bytes in item record");
  return item;
}

std::string encode_user(const UserRecord& user) {
  std::string out;
  out.reserve(16 + user.external_id.size() + user.items.size() * 12);
  put_str(out, user.external_id);
  put_u32(out, uint32_t(user.items.size()));
  for (ItemIndex i : user.items) put_u32(out, i);
  for (int64_t t : user.timestamps) put_i64(out, t);
  return out;
}

UserRecord decode_user(std::string_view bytes) {
  Reader r(bytes, "user");
  UserRecord user;
  user.external_id = r.str();
  const uint32_t n = r.count(4 + 8);  // item index and timestamp
  user.items.resize(n);
  user.timestamps.resize(n);
  for (auto& i : user.items) i = r.u32();
  for (auto& t : user.timestamps) t = r.i64();
  if (!r.done()) RECSYS_THROW(ErrorCode::kCorruption, "trailing bytes in user record");
  return user;
}

}  // namespace recsys::storage::internal
