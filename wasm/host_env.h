// HostEnv: the t4dx::Env of the WebAssembly build, over a small set of host functions.
//
// In WebAssembly the host functions are provided by JavaScript (wasm/host_library.js, which
// forwards to the host object the loader was given: Node `fs` or an OPFS handle pool in a
// Worker, see npm/src/). Natively they are provided by an in-memory fake
// (wasm/fake_host.cc), so GoogleTest covers this glue (the duckdb-wasm habit).
//
// The host ABI (every function below):
//   - paths are NUL-terminated UTF-8, '/'-separated, exactly as the engine built them;
//   - sizes and offsets are doubles (exact up to 2^53), so no 64-bit integer crosses the
//     JavaScript boundary;
//   - a negative result means failure; the host then keeps one error, fetched with
//     t4dx_host_last_error as "<code> <message>", where <code> is a stable status code
//     name (Status::CodeName: "not_found", "no_space", "locked", "io_error", ...). The
//     host never needs a numeric constant of ours.
//   - handles are small non-negative integers; a handle stays valid (and names the same
//     bytes) across a rename of its file, as POSIX file descriptors do.
//
// Thread safety: none. WebAssembly builds are single-threaded; the native fake is used
// from one thread per test.
#pragma once

#include <cstdint>
#include <memory>

#include "t4dx/env.h"

extern "C" {

// Open modes of t4dx_host_open.
enum T4dxHostOpenMode : int32_t {
  T4DX_HOST_OPEN_READ = 0,      // existing file, read only
  T4DX_HOST_OPEN_TRUNCATE = 1,  // create, or truncate to zero; read and write
  T4DX_HOST_OPEN_APPEND = 2,    // create if missing, keep contents; read and write
};

// Kinds returned by t4dx_host_stat.
enum T4dxHostKind : int32_t {
  T4DX_HOST_MISSING = 0,
  T4DX_HOST_FILE = 1,
  T4DX_HOST_DIRECTORY = 2,
};

// Returns a handle (>= 0) or -1.
int32_t t4dx_host_open(const char* path, int32_t mode);
// Releases a handle (does not sync). 0 or -1.
int32_t t4dx_host_close(int32_t handle);
// Reads up to n bytes at offset into buf. Bytes read (0 at end of file) or -1.
int32_t t4dx_host_read(int32_t handle, double offset, char* buf, int32_t n);
// Writes n bytes of buf at offset (extending the file). Bytes written (== n) or -1.
int32_t t4dx_host_write(int32_t handle, double offset, const char* buf, int32_t n);
// Makes the file's data durable. 0 or -1.
int32_t t4dx_host_sync(int32_t handle);
// Size of an open file, or -1.
double t4dx_host_handle_size(int32_t handle);
// Size of the file at path, or -1 (not_found if missing).
double t4dx_host_size(const char* path);
// A T4dxHostKind, or -1 when the host cannot tell.
int32_t t4dx_host_stat(const char* path);
// Writes the names of dir's entries into buf, each followed by a NUL byte. Returns the
// number of bytes the full list needs (call again with a larger buffer when it exceeds
// cap), or -1.
int32_t t4dx_host_list(const char* dir, char* buf, int32_t cap);
// Creates a directory (its parent must exist; OK if it already exists). 0 or -1.
int32_t t4dx_host_mkdir(const char* path);
// Removes an empty directory. 0 or -1.
int32_t t4dx_host_rmdir(const char* path);
// Removes a file. 0 or -1.
int32_t t4dx_host_remove(const char* path);
// Renames a file or directory, replacing a file at `to`. 0 or -1.
int32_t t4dx_host_rename(const char* from, const char* to);
// Sets the size of the file at path. 0 or -1.
int32_t t4dx_host_truncate(const char* path, double size);
// Makes dir's entries (creates, renames, removes) durable. 0 or -1.
int32_t t4dx_host_syncdir(const char* path);
// Takes the store lock file at path. A lock id (>= 0) or -1 ("locked ..." when held).
int32_t t4dx_host_lock(const char* path);
// Releases a lock id. 0 or -1.
int32_t t4dx_host_unlock(int32_t lock_id);
// Copies "<code> <message>" of the last failure (NUL-terminated, cut to cap) into buf.
// Returns the full length without the NUL.
int32_t t4dx_host_last_error(char* buf, int32_t cap);

}  // extern "C"

namespace t4dx {

// An Env whose every call goes to the host functions above. Stateless: any number of
// HostEnv objects share the host.
std::unique_ptr<Env> NewHostEnv();

// The Status of the host's last failure, for operation `op` on `path`: the code named by
// the host (io_error when it names none we know), message "op path: host message".
Status HostError(const char* op, const std::string& path);

}  // namespace t4dx
