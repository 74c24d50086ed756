# LMIndexer tests (issue 4), included from tests/indexer/CMakeLists.txt.
recsys_add_test_binary(lmindexer_test indexer
  ${CMAKE_CURRENT_LIST_DIR}/lm_indexer_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_test.cc
)
target_link_libraries(lmindexer_test PRIVATE recsys::lmindexer)
