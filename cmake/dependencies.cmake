# Every find_package of the project lives here.
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(TBB CONFIG REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
# gflags first: RocksDB's find module otherwise leaves Caffe2 an imported "gflags" target
# without a location (link fails with gflags-NOTFOUND).
find_package(gflags CONFIG QUIET)
find_package(RocksDB CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(Torch REQUIRED)

# LibTorch behind one interface target; only indexer/ and sequential_rec/ link it.
add_library(recsys_torch INTERFACE)
add_library(recsys::torch ALIAS recsys_torch)
target_link_libraries(recsys_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(recsys_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
# Torch's exported flags are included via TORCH_CXX_FLAGS (ABI define).
separate_arguments(RECSYS_TORCH_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(recsys_torch INTERFACE ${RECSYS_TORCH_FLAGS})

if(RECSYS_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(RECSYS_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
