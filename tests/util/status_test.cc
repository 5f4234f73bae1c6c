#include "t4dx/status.h"

#include <gtest/gtest.h>

#include "t4dx/clock.h"

namespace t4dx {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.code(), Status::Code::kOk);
}

TEST(StatusTest, CorruptionAtFormatsTheLocation) {
  Status s = Status::CorruptionAt("wal.jsonl", 12, 3456, "checksum mismatch");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "wal.jsonl:12 (byte 3456): checksum mismatch");
  EXPECT_EQ(s.ToString(), "Corruption: wal.jsonl:12 (byte 3456): checksum mismatch");
  EXPECT_EQ(s.file(), "wal.jsonl");
  EXPECT_EQ(s.line(), 12);
  EXPECT_EQ(s.offset(), 3456);
}

TEST(StatusTest, CorruptionAtOmitsUnknownParts) {
  EXPECT_EQ(Status::CorruptionAt("seg/items", 0, 10, "bad").message(), "seg/items (byte 10): bad");
  EXPECT_EQ(Status::CorruptionAt("f", 3, -1, "bad").message(), "f:3: bad");
  EXPECT_EQ(Status::CorruptionAt("f", 0, -1, "bad").message(), "f: bad");
  EXPECT_EQ(Status::CorruptionAt("", 0, -1, "bad").message(), "bad");
  EXPECT_EQ(Status::CorruptionAt("", 0, 5, "bad").message(), "byte 5: bad");
}

TEST(StatusTest, CodeNames) {
  EXPECT_STREQ(Status::CodeName(Status::Code::kOk), "ok");
  EXPECT_STREQ(Status::CodeName(Status::Code::kNotFound), "not_found");
  EXPECT_STREQ(Status::CodeName(Status::Code::kCorruption), "corruption");
  EXPECT_STREQ(Status::CodeName(Status::Code::kInvalidArgument), "invalid_argument");
  EXPECT_STREQ(Status::CodeName(Status::Code::kIOError), "io_error");
  EXPECT_STREQ(Status::CodeName(Status::Code::kNoSpace), "no_space");
  EXPECT_STREQ(Status::CodeName(Status::Code::kLocked), "locked");
  EXPECT_STREQ(Status::CodeName(Status::Code::kNotSupported), "not_supported");
  EXPECT_STREQ(Status::CodeName(Status::Code::kAborted), "aborted");
  EXPECT_STREQ(Status::CodeName(Status::Code::kBusy), "busy");
  EXPECT_STREQ(Status::CodeName(Status::Code::kFailedPrecondition), "failed_precondition");
}

TEST(StatusTest, WithContextPrefixesAndKeepsLocation) {
  Status s = Status::CorruptionAt("f", 1, 2, "bad").WithContext("open store /db");
  EXPECT_EQ(s.message(), "open store /db: f:1 (byte 2): bad");
  EXPECT_EQ(s.file(), "f");
  EXPECT_EQ(s.offset(), 2);
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
  EXPECT_EQ(Status::NoSpace("disk").WithContext("flush").ToString(), "NoSpace: flush: disk");
}

TEST(StatusTest, ReturnIfErrorMacro) {
  auto f = [](bool fail) -> Status {
    T4DX_RETURN_IF_ERROR(fail ? Status::Busy("full") : Status::OK());
    return Status::NotFound("reached");
  };
  EXPECT_EQ(f(true).code(), Status::Code::kBusy);
  EXPECT_TRUE(f(false).IsNotFound());
}

TEST(ClockTest, DefaultClockIsPlausible) {
  Clock* c = Clock::Default();
  ASSERT_NE(c, nullptr);
  EXPECT_GT(c->NowUnixMillis(), 1600000000000);  // after 2020
  int64_t a = c->NowMicros();
  EXPECT_LE(a, c->NowMicros());
}

}  // namespace
}  // namespace t4dx
