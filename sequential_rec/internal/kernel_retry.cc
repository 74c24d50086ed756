#include "sequential_rec/internal/kernel_retry.h"

#include <dlfcn.h>

#include <cstdlib>

namespace recsys::seqrec::internal {

namespace {

// oneDNN's cache-capacity functions, looked up in the libdnnl.so.2 that LibTorch has loaded when it
// is shared (RTLD_NOLOAD never loads a second copy); closing drops the reference RTLD_NOLOAD took.
class OneDnnCacheApi {
 public:
  OneDnnCacheApi() : lib_(dlopen("libdnnl.so.2", RTLD_LAZY | RTLD_NOLOAD)) {
    if (!lib_) return;
    get_ = reinterpret_cast<Get>(dlsym(lib_, "dnnl_get_primitive_cache_capacity"));
    set_ = reinterpret_cast<Set>(dlsym(lib_, "dnnl_set_primitive_cache_capacity"));
  }
  ~OneDnnCacheApi() {
    if (lib_) dlclose(lib_);
  }
  OneDnnCacheApi(const OneDnnCacheApi&) = delete;
  OneDnnCacheApi& operator=(const OneDnnCacheApi&) = delete;

  bool found() const { return get_ && set_; }
  // True on success (dnnl_success is 0).
  bool get(int* capacity) const { return get_(capacity) == 0; }
  bool set(int capacity) const { return set_(capacity) == 0; }

 private:
  using Get = int (*)(int*);
  using Set = int (*)(int);
  void* lib_;
  Get get_ = nullptr;
  Set set_ = nullptr;
};

}  // namespace

bool clear_onednn_primitive_cache() {
  const OneDnnCacheApi api;
  int capacity = 0;
  // Capacity 0 evicts every entry; the old capacity is restored at once.
  return api.found() && api.get(&capacity) && api.set(0) && api.set(capacity);
}

int reserve_onednn_primitive_cache(int capacity) {
  const OneDnnCacheApi api;
  int current = -1;
  if (!api.found() || !api.get(&current)) return -1;
  const bool user_set = std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") != nullptr ||
                        std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY") != nullptr;
  if (!user_set && current < capacity && api.set(capacity)) current = capacity;
  return current;
}

}  // namespace recsys::seqrec::internal
