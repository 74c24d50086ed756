#include "sequential_rec/internal/kernel_retry.h"

#include <dlfcn.h>

#include <cstdlib>

namespace recsys::seqrec::internal {

bool clear_onednn_primitive_cache() {
  using GetCapacity = int (*)(int*);
  using SetCapacity = int (*)(int);
  // LibTorch has loaded it already when it is shared; RTLD_NOLOAD never loads a second copy.
  void* lib = dlopen("libdnnl.so.2", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return false;
  auto get = reinterpret_cast<GetCapacity>(dlsym(lib, "dnnl_get_primitive_cache_capacity"));
  auto set = reinterpret_cast<SetCapacity>(dlsym(lib, "dnnl_set_primitive_cache_capacity"));
  int capacity = 0;
  // Capacity 0 evicts every entry; the old capacity is restored at once (dnnl_success is 0).
  const bool ok = get && set && get(&capacity) == 0 && set(0) == 0 && set(capacity) == 0;
  dlclose(lib);  // drops the reference RTLD_NOLOAD took
  return ok;
}

int reserve_onednn_primitive_cache(int capacity) {
  using GetCapacity = int (*)(int*);
  using SetCapacity = int (*)(int);
  void* lib = dlopen("libdnnl.so.2", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return -1;
  auto get = reinterpret_cast<GetCapacity>(dlsym(lib, "dnnl_get_primitive_cache_capacity"));
  auto set = reinterpret_cast<SetCapacity>(dlsym(lib, "dnnl_set_primitive_cache_capacity"));
  int current = -1;
  if (get && get(&current) == 0) {
    const bool user_set = std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") != nullptr ||
                          std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY") != nullptr;
    if (!user_set && current < capacity && set && set(capacity) == 0) current = capacity;
  }
  dlclose(lib);
  return current;
}

}  // namespace recsys::seqrec::internal
