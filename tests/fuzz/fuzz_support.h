// Shared pieces of the libFuzzer targets in tests/fuzz/ (see tests/fuzz/README.md).
//
// Each target is a plain function `int t4dx::fuzz::<Name>(const uint8_t*, size_t)`, declared
// with T4DX_FUZZ_TARGET. Built as a fuzzer (T4DX_FUZZ=ON, clang) the macro also defines
// LLVMFuzzerTestOneInput; in the normal build the same functions are linked into
// test_fuzz_regressions, which replays the seed corpora and every saved crash.
//
// Checks of a property (beyond "no crash") go through T4DX_FUZZ_CHECK: it aborts under the
// fuzzer (libFuzzer saves the input as a crash) and records a GoogleTest failure in the
// regression test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace t4dx {
namespace fuzz {

// Receives a failed property. Default: print to stderr and abort().
using FailureHandler = std::function<void(const char* file, int line, const std::string& what)>;
void SetFailureHandler(FailureHandler handler);
void ReportFailure(const char* file, int line, const std::string& what);

// The fuzz input as bytes.
inline std::string_view AsView(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// If line (without '\n') ends in the WAL checksum trailer ,"checksum":"<16 hex>"}, returns a
// copy whose checksum is right for its bytes, so the decoder looks past the checksum.
// Otherwise returns line unchanged.
std::string FixWalLineChecksum(std::string_view line);
// FixWalLineChecksum on every '\n'-separated line of a file.
std::string FixWalFileChecksums(std::string_view file);

// The targets (one per file in tests/fuzz/).
int FuzzWalLine(const uint8_t* data, size_t size);
int FuzzWalFile(const uint8_t* data, size_t size);
int FuzzSegment(const uint8_t* data, size_t size);
int FuzzManifest(const uint8_t* data, size_t size);
int FuzzHnswContainer(const uint8_t* data, size_t size);
int FuzzServiceJson(const uint8_t* data, size_t size);

}  // namespace fuzz
}  // namespace t4dx

#define T4DX_FUZZ_CHECK(cond, what)                                          \
  do {                                                                       \
    if (!(cond)) ::t4dx::fuzz::ReportFailure(__FILE__, __LINE__, (what));    \
  } while (0)

// Defines the libFuzzer entry point for a target when built as a fuzzer.
#ifdef T4DX_FUZZER_ENTRY
#define T4DX_FUZZ_ENTRY(name)                                                      \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {        \
    return ::t4dx::fuzz::name(data, size);                                         \
  }
#else
#define T4DX_FUZZ_ENTRY(name)
#endif
