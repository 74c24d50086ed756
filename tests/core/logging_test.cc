#include "recsys/logging.h"

#include <gtest/gtest.h>

#include <string>

#include "recsys/error.h"

namespace recsys {
namespace {

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = log_level(); }
  void TearDown() override { set_log_level(saved_); }

 private:
  LogLevel saved_ = LogLevel::kInfo;
};

int count_and_return(int* calls) {
  ++*calls;
  return *calls;
}

TEST_F(LoggingTest, EvaluatesOperandsOnlyWhenTheLevelIsEnabled) {
  int calls = 0;
  set_log_level(LogLevel::kWarning);
  RECSYS_LOG(Info) << "hidden " << count_and_return(&calls);
  EXPECT_EQ(calls, 0);
  testing::internal::CaptureStderr();
  RECSYS_LOG(Warning) << "shown " << count_and_return(&calls);
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(out.find("shown 1"), std::string::npos) << out;
}

TEST_F(LoggingTest, ParsesLevelNames) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("off"), LogLevel::kOff);
  EXPECT_THROW(parse_log_level("loud"), Error);
}

}  // namespace
}  // namespace recsys
