// Test access to oneDNN's primitive-cache capacity, for the tests of
// internal::reserve_onednn_primitive_cache and of the decoders that call it.
#pragma once

#include <dlfcn.h>

#include <cstdlib>

namespace recsys::seqrec::testing {

// oneDNN's capacity functions in the libdnnl.so.2 that LibTorch has loaded (RTLD_NOLOAD never
// loads a second copy). `loaded` is false when LibTorch does not use a shared libdnnl.so.2.
struct OneDnnCapacityApi {
  bool loaded = false;
  int (*get)(int*) = nullptr;  // 0 on success
  int (*set)(int) = nullptr;   // 0 on success
};

inline OneDnnCapacityApi onednn_capacity_api() {
  OneDnnCapacityApi api;
  void* lib = dlopen("libdnnl.so.2", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return api;
  api.loaded = true;
  api.get = reinterpret_cast<int (*)(int*)>(dlsym(lib, "dnnl_get_primitive_cache_capacity"));
  api.set = reinterpret_cast<int (*)(int)>(dlsym(lib, "dnnl_set_primitive_cache_capacity"));
  dlclose(lib);
  return api;
}

// True when the user's environment fixes the capacity (reserve_onednn_primitive_cache leaves it).
inline bool onednn_capacity_set_by_environment() {
  return std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") != nullptr ||
         std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY") != nullptr;
}

}  // namespace recsys::seqrec::testing
