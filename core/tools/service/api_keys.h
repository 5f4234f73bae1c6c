// API keys: who may call what. Each key has a role and the sessions it may touch.
//
//   read-only   GET diagnostics, GET /episodes/{id}, search, query plan, replay estimate
//   read-write  + store / batch / delete episodes, flush
//   admin       + compact-wal, truncate-wal, rebuild-hnsw, compact, rebuild-global-index
//
// Keys come from T4DM_API_KEY (admin, every session) and from a keys file
// (T4DM_API_KEYS_FILE), a JSON document:
//   {"keys": [{"key": "k1...", "role": "read-only", "sessions": ["alice", "team-*"],
//              "name": "dashboards"},
//             {"key": "k2...", "role": "admin", "sessions": "*"}]}
// "sessions" entries are exact session ids or a prefix followed by '*'. "name" (optional)
// labels the key in logs; the key itself is never logged.
//
// Find() compares the presented key with every configured key in time that does not depend
// on where they differ, and does not stop at a match.
//
// Thread safety: const methods may be called concurrently once loading is done.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "t4dx/status.h"

namespace t4dm {

// Ordered: a role includes every right of the roles below it.
enum class Role : uint8_t { kReadOnly = 0, kReadWrite = 1, kAdmin = 2 };
const char* RoleName(Role role);  // "read-only", "read-write", "admin"
bool ParseRole(const std::string& text, Role* role);

struct ApiKey {
  std::string name;    // label for logs
  std::string secret;  // the key
  Role role = Role::kReadOnly;
  bool all_sessions = false;
  std::vector<std::string> sessions;  // exact ids or "prefix*"

  bool AllowsSession(const std::string& session_id) const;
  bool HasRole(Role needed) const { return role >= needed; }
};

// Length-independent-of-content comparison (time depends only on the lengths).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class ApiKeys {
 public:
  // Adds a key. InvalidArgument when the secret is empty or already present.
  t4dx::Status Add(ApiKey key);
  // Parses a keys file's text and adds its keys; errors name `source` and the entry.
  t4dx::Status AddFromJson(const std::string& json_text, const std::string& source);

  // The key whose secret equals presented, or nullptr.
  const ApiKey* Find(std::string_view presented) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<ApiKey> keys_;
};

}  // namespace t4dm
