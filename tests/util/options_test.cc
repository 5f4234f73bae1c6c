#include "t4dx/options.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace t4dx {
namespace {

TEST(OptionsTest, MetricNames) {
  Metric m = Metric::kL2;
  ASSERT_TRUE(ParseMetric("cosine", &m).ok());
  EXPECT_EQ(m, Metric::kCosine);
  ASSERT_TRUE(ParseMetric("ip", &m).ok());
  EXPECT_EQ(m, Metric::kInnerProduct);
  ASSERT_TRUE(ParseMetric("inner_product", &m).ok());
  EXPECT_EQ(m, Metric::kInnerProduct);
  ASSERT_TRUE(ParseMetric("l2", &m).ok());
  EXPECT_EQ(m, Metric::kL2);
  Status s = ParseMetric("euclid", &m);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("euclid"), std::string::npos);
  EXPECT_EQ(m, Metric::kL2);
  EXPECT_STREQ(MetricName(Metric::kCosine), "cosine");
  EXPECT_STREQ(MetricName(Metric::kInnerProduct), "ip");
  EXPECT_STREQ(MetricName(Metric::kL2), "l2");
}

TEST(OptionsTest, WalSyncNames) {
  WalSync w = WalSync::kAlways;
  for (WalSync v : {WalSync::kAlways, WalSync::kInterval, WalSync::kNone}) {
    ASSERT_TRUE(ParseWalSync(WalSyncName(v), &w).ok());
    EXPECT_EQ(w, v);
  }
  EXPECT_FALSE(ParseWalSync("sometimes", &w).ok());
}

class EnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    unsetenv("T4DM_FLUSH_THRESHOLD");
    unsetenv("T4DM_RECOVERY_STRICT");
    unsetenv("T4DM_WAL_SYNC");
  }
};

TEST_F(EnvironmentTest, UnsetChangesNothing) {
  Options o;
  ASSERT_TRUE(ApplyEnvironment(&o).ok());
  EXPECT_EQ(o.flush_threshold_items, 1000u);
  EXPECT_FALSE(o.recovery_strict);
  EXPECT_EQ(o.wal_sync, WalSync::kAlways);
}

TEST_F(EnvironmentTest, AppliesValues) {
  setenv("T4DM_FLUSH_THRESHOLD", "5000", 1);
  setenv("T4DM_RECOVERY_STRICT", "true", 1);
  setenv("T4DM_WAL_SYNC", "interval", 1);
  Options o;
  ASSERT_TRUE(ApplyEnvironment(&o).ok());
  EXPECT_EQ(o.flush_threshold_items, 5000u);
  EXPECT_TRUE(o.recovery_strict);
  EXPECT_EQ(o.wal_sync, WalSync::kInterval);
  for (const char* v : {"0", "no", "FALSE"}) {
    setenv("T4DM_RECOVERY_STRICT", v, 1);
    ASSERT_TRUE(ApplyEnvironment(&o).ok());
    EXPECT_FALSE(o.recovery_strict) << v;
  }
}

TEST_F(EnvironmentTest, MalformedNamesTheVariableAndChangesNothing) {
  setenv("T4DM_FLUSH_THRESHOLD", "12", 1);
  setenv("T4DM_WAL_SYNC", "often", 1);
  Options o;
  Status s = ApplyEnvironment(&o);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "T4DM_WAL_SYNC=\"often\" is malformed: expected always, interval or none");
  EXPECT_EQ(o.flush_threshold_items, 1000u);  // the good variable was not applied either
  unsetenv("T4DM_WAL_SYNC");
  for (const char* bad : {"0", "-5", "1e3", "12abc", "99999999999999999999"}) {
    setenv("T4DM_FLUSH_THRESHOLD", bad, 1);
    s = ApplyEnvironment(&o);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
    EXPECT_NE(s.message().find("T4DM_FLUSH_THRESHOLD=\"" + std::string(bad) + "\""),
              std::string::npos);
  }
  unsetenv("T4DM_FLUSH_THRESHOLD");
  setenv("T4DM_RECOVERY_STRICT", "maybe", 1);
  s = ApplyEnvironment(&o);
  EXPECT_EQ(s.message(),
            "T4DM_RECOVERY_STRICT=\"maybe\" is malformed: expected true, false, 1, 0, yes or no");
}

}  // namespace
}  // namespace t4dx
