#include "recsys/strings.h"

#include <gtest/gtest.h>

#include "recsys/error.h"

namespace recsys {
namespace {

TEST(StringsTest, TrimRemovesSpacesTabsAndCarriageReturns) {
  EXPECT_EQ(trim("  a b\t\r"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(StringsTest, FormatFixedRounds) {
  EXPECT_EQ(format_fixed(0.04696, 4), "0.0470");
  EXPECT_EQ(format_fixed(12.0, 1), "12.0");
  EXPECT_EQ(format_fixed(295.6, 0), "296");
}

TEST(StringsTest, ParseIntListAcceptsCommaSeparatedIntegers) {
  EXPECT_EQ(parse_int_list("5,10,20", "--ks"), (std::vector<int64_t>{5, 10, 20}));
  EXPECT_EQ(parse_int_list(" 768, 512 ,256", "--w"), (std::vector<int64_t>{768, 512, 256}));
  EXPECT_EQ(parse_int_list("-3", "--x"), (std::vector<int64_t>{-3}));
}

TEST(StringsTest, ParseIntListRejectsJunkEmptyElementsAndOutOfRange) {
  for (const char* bad : {"", "5,,10", "5,", "10x", "1.5", "a", "99999999999999999999"}) {
    EXPECT_THROW(parse_int_list(bad, "--ks"), Error) << bad;
  }
  try {
    parse_int_list("5,0", "--ks", 1);
    FAIL() << "0 is below the minimum";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("--ks"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace recsys
