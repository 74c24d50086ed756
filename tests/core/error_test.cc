#include "recsys/error.h"

#include <gtest/gtest.h>

namespace recsys {
namespace {

TEST(ErrorTest, CheckThrowsInvalidArgumentWithMessageAndLocation) {
  try {
    RECSYS_CHECK(1 + 1 == 3, "math is off by ", 1);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("math is off by 1"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("error_test.cc"), std::string::npos);
  }
}

TEST(ErrorTest, ThrowCarriesCode) {
  EXPECT_THROW(
      {
        try {
          RECSYS_THROW(ErrorCode::kCorruption, "bad");
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::kCorruption);
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace recsys
