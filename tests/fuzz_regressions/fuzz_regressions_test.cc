// Replays every file of the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) and
// every saved crash (tests/fuzz/regressions/<target>/) through the same target functions
// the fuzzers run, in the normal build (and under ASan/UBSan in build-asan). A property a
// fuzzer checks is a test failure here; a crash is a crash. See tests/fuzz/README.md.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace t4dx {
namespace fuzz {
namespace {

using Target = int (*)(const uint8_t*, size_t);

struct Named {
  const char* name;
  Target fn;
};

const Named kTargets[] = {
    {"wal_line", FuzzWalLine},   {"wal_file", FuzzWalFile},
    {"segment", FuzzSegment},    {"manifest", FuzzManifest},
    {"hnsw_container", FuzzHnswContainer}, {"service_json", FuzzServiceJson},
};

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == ".." || name == "README.md" || name[0] == '.') continue;
      out.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool ReadFile(const std::string& path, std::string* data) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  data->clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data->append(buf, n);
  std::fclose(f);
  return true;
}

// Runs target on every file of dir; returns how many there were.
size_t Replay(const Named& target, const std::string& dir) {
  const std::vector<std::string> files = FilesIn(dir);
  for (const std::string& path : files) {
    std::string data;
    if (!ReadFile(path, &data)) {
      ADD_FAILURE() << "cannot read " << path;
      continue;
    }
    SCOPED_TRACE(path);
    SetFailureHandler([&](const char* file, int line, const std::string& what) {
      ADD_FAILURE_AT(file, line) << target.name << " on " << path << ": " << what;
    });
    target.fn(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    SetFailureHandler(nullptr);
  }
  return files.size();
}

class FuzzReplayTest : public ::testing::TestWithParam<Named> {};

TEST_P(FuzzReplayTest, SeedCorpus) {
  const Named& t = GetParam();
  const size_t n = Replay(t, std::string(T4DX_FUZZ_DATA_DIR) + "/corpus/" + t.name);
  EXPECT_GT(n, 0u) << "no seed corpus for " << t.name;
}

TEST_P(FuzzReplayTest, SavedCrashes) {
  const Named& t = GetParam();
  Replay(t, std::string(T4DX_FUZZ_DATA_DIR) + "/regressions/" + t.name);
}

// Inputs every target must take: empty, one byte of each value, a run of 0xff.
TEST_P(FuzzReplayTest, TinyInputs) {
  const Named& t = GetParam();
  SetFailureHandler([&](const char* file, int line, const std::string& what) {
    ADD_FAILURE_AT(file, line) << t.name << ": " << what;
  });
  t.fn(nullptr, 0);
  for (int b = 0; b < 256; ++b) {
    const uint8_t byte = static_cast<uint8_t>(b);
    t.fn(&byte, 1);
  }
  const std::string ff(300, '\xff');
  t.fn(reinterpret_cast<const uint8_t*>(ff.data()), ff.size());
  SetFailureHandler(nullptr);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplayTest, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Named>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace fuzz
}  // namespace t4dx
