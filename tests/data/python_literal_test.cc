#include "datasets/python_literal.h"

#include <gtest/gtest.h>

#include "recsys/error.h"

namespace recsys::data {
namespace {

TEST(PythonLiteralTest, ParsesQuotingStylesAndEscapes) {
  const PyValue v = parse_python_literal(
      R"({'a': 'it\'s', "b": "say \"hi\"", 'c': 'tab\there', 'd': '\x41\u00e9\U0001F600', )"
      R"('e': u'uni', 'f': r'raw\n', 'g': 'con' "cat", 'h': '''tri'ple''', 'i': '\101'})");
  ASSERT_TRUE(v.is_dict());
  EXPECT_EQ(v.get("a")->str(), "it's");
  EXPECT_EQ(v.get("b")->str(), "say \"hi\"");
  EXPECT_EQ(v.get("c")->str(), "tab\there");
  EXPECT_EQ(v.get("d")->str(), "A\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v.get("e")->str(), "uni");
  EXPECT_EQ(v.get("f")->str(), "raw\\n");
  EXPECT_EQ(v.get("g")->str(), "concat");
  EXPECT_EQ(v.get("h")->str(), "tri'ple");
  EXPECT_EQ(v.get("i")->str(), "A");
}

// Python 2's narrow builds wrote characters beyond U+FFFF as escaped surrogate pairs; prices are
// written in full, as Python prints them.
TEST(PythonLiteralTest, SurrogatePairsAndFloatsAsText) {
  EXPECT_EQ(parse_python_literal(R"(u'smile \ud83d\ude00 end')").str(),
            "smile \xf0\x9f\x98\x80 end");
  EXPECT_EQ(parse_python_literal(R"(u'\ud83d x')").str(), "\xef\xbf\xbd x");  // lone: U+FFFD
  EXPECT_EQ(parse_python_literal(R"(u'\ud83d\u0041')").str(),
            "\xef\xbf\xbd"
            "A");
  EXPECT_EQ(parse_python_literal("{'p': 12345.67}").get("p")->to_text(), "12345.67");
  EXPECT_EQ(parse_python_literal("1234567.0").to_text(), "1234567");
  EXPECT_EQ(parse_python_literal("0.1").to_text(), "0.1");
}

// A key given twice keeps its first place and takes its last value, as Python's dict does.
TEST(PythonLiteralTest, RepeatedKeyTakesTheLastValue) {
  const PyValue v = parse_python_literal("{'a': 1, 'b': 2, 'a': 3}");
  ASSERT_EQ(v.dict().size(), 2u);
  EXPECT_EQ(v.dict()[0].first, "a");
  EXPECT_EQ(v.get("a")->number(), 3);
  EXPECT_EQ(v.get("b")->number(), 2);
}

TEST(PythonLiteralTest, ParsesNestedContainersAndScalars) {
  const PyValue v = parse_python_literal(
      "{'cats': [['Beauty', 'Makeup'], ['Beauty']], 'rank': {'Beauty': 12}, 'p': 8.5, "
      "'n': -3, 't': (True, False, None), 's': {1, 2}, 'empty': [], 'e': {}}");
  ASSERT_TRUE(v.is_dict());
  const PyValue* cats = v.get("cats");
  ASSERT_TRUE(cats && cats->is_list());
  ASSERT_EQ(cats->list().size(), 2u);
  EXPECT_EQ(cats->list()[0].list()[1].str(), "Makeup");
  EXPECT_EQ(v.get("rank")->get("Beauty")->number(), 12);
  EXPECT_DOUBLE_EQ(v.get("p")->number(), 8.5);
  EXPECT_EQ(v.get("p")->to_text(), "8.5");
  EXPECT_EQ(v.get("n")->to_text(), "-3");
  EXPECT_TRUE(v.get("t")->list()[0].boolean());
  EXPECT_FALSE(v.get("t")->list()[1].boolean());
  EXPECT_TRUE(v.get("t")->list()[2].is_none());
  EXPECT_EQ(v.get("s")->list().size(), 2u);
  EXPECT_TRUE(v.get("empty")->list().empty());
  EXPECT_TRUE(v.get("e")->is_dict());
  EXPECT_EQ(v.get("missing"), nullptr);
}

TEST(PythonLiteralTest, RejectsMalformedInputWithColumn) {
  const char* bad[] = {"{'a': 'unterminated}", "{'a' 1}", "{'a': [1, 2}",  "{'a': Nonsense}",
                       "{'a': 1} trailing",    "",        "{'a': '\\x4'}", "[1,, 2]"};
  for (const char* text : bad) {
    try {
      parse_python_literal(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
    }
  }
}

TEST(PythonLiteralTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(10000, '[');
  EXPECT_THROW(parse_python_literal(deep), Error);
}

}  // namespace
}  // namespace recsys::data
