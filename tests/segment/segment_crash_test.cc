// WriteSegment under injected faults and crashes at every mutating call: the final
// directory is either absent or a complete segment that opens and verifies. Never half.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>

#include "env/fault_env.h"
#include "segment/segment.h"
#include "segment/segment_format.h"
#include "segment_test_util.h"

namespace t4dx {
namespace {

using namespace segment_test;

constexpr uint32_t kDim = 8;
constexpr char kStore[] = "/store";
constexpr char kFinal[] = "/store/seg_000007";

std::vector<SegmentEntry> Entries() { return MakeEntries(40, kDim, 3000); }

Status Write(Env* env) {
  return WriteSegment(env, kStore, 7, Entries(), kDim, Metric::kCosine, {1, 2}, 5, nullptr);
}

bool DirExists(Env* env, const std::string& path) {
  bool is_dir = false;
  return env->IsDirectory(path, &is_dir).ok() && is_dir;
}

// The final name holds a complete segment (all entries readable and verified) or nothing.
void ExpectCompleteOrAbsent(Env* env, const std::string& where, bool* present) {
  *present = DirExists(env, kFinal);
  if (!*present) return;
  std::unique_ptr<SegmentReader> r;
  Status s = SegmentReader::Open(env, kFinal, &r);
  ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
  std::vector<SegmentProblem> problems;
  s = r->VerifyChecksum(&problems);
  ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
  ASSERT_TRUE(problems.empty()) << where << ": " << problems[0].file << " " << problems[0].reason;
  const auto entries = Entries();
  ASSERT_EQ(r->size(), entries.size()) << where;
  for (size_t i = 0; i < entries.size(); ++i) {
    Item item;
    ASSERT_TRUE(r->ReadItem(i, true, &item).ok()) << where;
    if (!entries[i].deleted) {
      EXPECT_EQ(item, entries[i].item) << where;
    }
  }
}

uint64_t CleanRunCalls() {
  FaultInjectionEnv env;
  EXPECT_TRUE(env.CreateDir(kStore).ok());
  const uint64_t base = env.mutating_calls();
  EXPECT_TRUE(Write(&env).ok());
  return env.mutating_calls() - base;
}

TEST(SegmentCrashTest, FailEachMutatingCall) {
  const uint64_t total = CleanRunCalls();
  ASSERT_GE(total, 12u);  // dir, 4 creates, appends, 4 syncs, sync dir, rename, sync dir
  std::cout << "[ INFO     ] a clean WriteSegment makes " << total << " mutating calls\n";
  for (Status::Code code : {Status::Code::kIOError, Status::Code::kNoSpace}) {
    for (uint64_t i = 0; i < total; ++i) {
      const std::string where =
          "fault " + std::string(Status::CodeName(code)) + " at call " + std::to_string(i);
      FaultInjectionEnv env;
      ASSERT_TRUE(env.CreateDir(kStore).ok());
      env.FailAt(env.mutating_calls() + i, code);
      Status s = Write(&env);
      ASSERT_FALSE(s.ok()) << where;
      EXPECT_EQ(s.code(), code) << where << ": " << s.ToString();
      bool present = false;
      ExpectCompleteOrAbsent(&env, where, &present);
      if (!present) {
        EXPECT_FALSE(DirExists(&env, std::string(kFinal) + ".tmp")) << where << ": temp left";
        env.ClearFaults();
        s = Write(&env);  // the same id can be written once the failure is gone
        ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
        ExpectCompleteOrAbsent(&env, where + ", retried", &present);
        EXPECT_TRUE(present);
      }
    }
  }
}

TEST(SegmentCrashTest, CrashAtEachMutatingCall) {
  const uint64_t total = CleanRunCalls();
  using Mode = FaultInjectionEnv::CrashMode;
  for (Mode mode :
       {Mode::kKeepUnsynced, Mode::kDropUnsynced, Mode::kTearUnsynced, Mode::kZeroFillUnsynced}) {
    for (uint64_t i = 0; i <= total; ++i) {  // i == total: the crash comes after success
      const std::string where =
          "crash mode " + std::to_string(static_cast<int>(mode)) + " at call " + std::to_string(i);
      FaultInjectionEnv env;
      ASSERT_TRUE(env.CreateDir(kStore).ok());
      env.CrashAt(env.mutating_calls() + i);
      Status s = Write(&env);
      EXPECT_EQ(s.ok(), i == total) << where << ": " << s.ToString();
      env.SimulateCrash(mode, /*seed=*/i * 31 + 7);
      bool present = false;
      ExpectCompleteOrAbsent(&env, where, &present);
      if (i == total) {
        EXPECT_TRUE(present) << where << ": an acknowledged segment vanished";
      }
      if (!present) {
        s = Write(&env);  // a stale temp directory does not block the next try
        ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
        ExpectCompleteOrAbsent(&env, where + ", retried", &present);
        EXPECT_TRUE(present);
      }
    }
  }
}

}  // namespace
}  // namespace t4dx
