// FakeHost: the native, in-memory provider of the host functions of host_env.h, so that
// GoogleTest covers the WebAssembly glue (HostEnv) without a JavaScript engine. It models
// what the JavaScript hosts promise: POSIX-like handles that survive renames, directories
// that must exist before their entries, one holder per lock file.
//
// Not part of the WebAssembly build. Thread safety: none (one test thread).
#pragma once

#include <cstddef>
#include <string>

namespace t4dx {
namespace fake_host {

// Forgets every file, directory, handle and lock ("/" and "" exist as the root).
void Reset();
// The next host call fails with the stable code name (e.g. "no_space") and message,
// without doing anything.
void FailNextCall(const std::string& code, const std::string& message);
// Handles and locks currently held (to check that the glue releases them).
size_t OpenHandles();
size_t HeldLocks();
// Number of t4dx_host_sync calls so far (since Reset).
size_t SyncCalls();

}  // namespace fake_host
}  // namespace t4dx
