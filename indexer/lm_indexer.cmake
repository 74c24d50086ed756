# LMIndexer (issue 4): SentencePiece tokenizer, semantic encoder, reconstructor, progressive
# trainer. Included from indexer/CMakeLists.txt; kept in its own file so the two indexer areas can
# edit their CMake independently.
find_library(RECSYS_SENTENCEPIECE_LIB sentencepiece REQUIRED)
find_library(RECSYS_SENTENCEPIECE_TRAIN_LIB sentencepiece_train REQUIRED)

# SentencePiece lives in its own module, dlopen'ed with RTLD_DEEPBIND: its bundled protobuf clashes
# with LibTorch's libprotobuf when both are linked into one process (see
# internal/sentencepiece_api.h).
add_library(recsys_sentencepiece_shim MODULE ${CMAKE_CURRENT_LIST_DIR}/internal/sentencepiece_shim.cc)
target_include_directories(recsys_sentencepiece_shim PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(recsys_sentencepiece_shim PRIVATE
  ${RECSYS_SENTENCEPIECE_TRAIN_LIB} ${RECSYS_SENTENCEPIECE_LIB})
set_target_properties(recsys_sentencepiece_shim PROPERTIES
  CXX_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

add_library(recsys_lmindexer STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cc
  ${CMAKE_CURRENT_LIST_DIR}/lm_indexer.cc
  ${CMAKE_CURRENT_LIST_DIR}/lm_indexer_model.cc
  ${CMAKE_CURRENT_LIST_DIR}/lm_indexer_trainer.cc
)
add_library(recsys::lmindexer ALIAS recsys_lmindexer)
add_dependencies(recsys_lmindexer recsys_sentencepiece_shim)
target_compile_definitions(recsys_lmindexer PRIVATE
  RECSYS_SENTENCEPIECE_SHIM_PATH="$<TARGET_FILE:recsys_sentencepiece_shim>")
target_link_libraries(recsys_lmindexer
  PUBLIC recsys::core recsys::indexer recsys::torch Boost::program_options
  PRIVATE ${CMAKE_DL_LIBS})
target_precompile_headers(recsys_lmindexer PRIVATE ${CMAKE_CURRENT_LIST_DIR}/internal/torch_pch.h)
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/tokenizer.cc PROPERTIES
  SKIP_PRECOMPILE_HEADERS ON)
