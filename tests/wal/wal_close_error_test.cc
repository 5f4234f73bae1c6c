// WalWriter::Rotate when closing the active file fails (EIO from close, as NFS and some
// disks report a deferred write error there): the writer refuses writes from then on,
// nothing is renamed, and what was acknowledged stays readable in wal.jsonl.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "io_fault_env.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"
#include "wal_test_util.h"

namespace t4dx {
namespace {

using namespace wal_test;
using testing_util::IoFaultEnv;

TEST(WalCloseErrorTest, RotateFailsStickyWhenCloseFails) {
  IoFaultEnv env;
  ASSERT_TRUE(env.CreateDir("/wal").ok());
  std::unique_ptr<WalWriter> writer;
  ASSERT_TRUE(WalWriter::Open(&env, "/wal", &writer).ok());
  ASSERT_TRUE(writer->AddLines(Line(PutRecord(1)), 1, 1).ok());
  ASSERT_TRUE(writer->Sync().ok());

  env.fail_close = true;
  std::string sealed;
  Status s = writer->Rotate(&sealed);
  ASSERT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("to seal it"), std::string::npos) << s.ToString();
  EXPECT_TRUE(sealed.empty());
  EXPECT_FALSE(writer->error().ok());

  // The writer stays failed (never trust a file whose close failed), even once close works.
  env.fail_close = false;
  EXPECT_FALSE(writer->AddLines(Line(PutRecord(2)), 2, 2).ok());
  EXPECT_FALSE(writer->Rotate(&sealed).ok());

  // Nothing was renamed; the acknowledged record is still in the active file.
  std::vector<std::string> names;
  ASSERT_TRUE(env.GetChildren("/wal", &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{"wal.jsonl"});
  std::string data;
  ASSERT_TRUE(ReadFileToString(&env, "/wal/wal.jsonl", &data).ok());
  EXPECT_EQ(data, Line(PutRecord(1)));
}

}  // namespace
}  // namespace t4dx
