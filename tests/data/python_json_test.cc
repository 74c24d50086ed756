#include "datasets/internal/python_json.h"

#include <gtest/gtest.h>

namespace recsys::data::internal {
namespace {

TEST(StrictJsonFromPythonTest, StrictJsonIsLeftAlone) {
  EXPECT_EQ(strict_json_from_python(R"({"a": [1, -2.5e3, "x\"y", null, true], "b": "\u00e9"})"),
            std::nullopt);
  EXPECT_EQ(strict_json_from_python(R"({"pair": "\ud83d\ude00", "n": 123456789012345678})"),
            std::nullopt);
}

TEST(StrictJsonFromPythonTest, LoneSurrogatesBecomeReplacementCharacters) {
  EXPECT_EQ(strict_json_from_python(R"(["\ud83d", "\ude00x", "\uDBFF\u0041", "\ud83d\ude00"])"),
            R"(["\uFFFD", "\uFFFDx", "\uFFFD\u0041", "\ud83d\ude00"])");
}

TEST(StrictJsonFromPythonTest, NonFiniteNumbersBecomeNull) {
  EXPECT_EQ(strict_json_from_python(R"({"a": NaN, "b": [Infinity,-Infinity]})"),
            R"({"a": null, "b": [null,null]})");
}

TEST(StrictJsonFromPythonTest, LongIntegersBecomeDoubles) {
  EXPECT_EQ(strict_json_from_python(R"([1234567890123456789, -98765432109876543210, 1.5e300])"),
            R"([1234567890123456789.0, -98765432109876543210.0, 1.5e300])");
}

// Text inside strings is never rewritten, however it looks: escaped quotes and backslashes do
// not end a string early.
TEST(StrictJsonFromPythonTest, StringContentIsNotRewritten) {
  EXPECT_EQ(strict_json_from_python(R"(["NaN \" Infinity 12345678901234567890", "\\ud83d"])"),
            std::nullopt);
  EXPECT_EQ(strict_json_from_python(R"(["\\", NaN])"), R"(["\\", null])");
}

}  // namespace
}  // namespace recsys::data::internal
