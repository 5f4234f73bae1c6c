#include "api_keys.h"

#include <nlohmann/json.hpp>

#include "ids.h"

namespace t4dm {

using t4dx::Status;

const char* RoleName(Role role) {
  switch (role) {
    case Role::kReadOnly:
      return "read-only";
    case Role::kReadWrite:
      return "read-write";
    case Role::kAdmin:
      return "admin";
  }
  return "read-only";
}

bool ParseRole(const std::string& text, Role* role) {
  if (text == "read-only")
    *role = Role::kReadOnly;
  else if (text == "read-write")
    *role = Role::kReadWrite;
  else if (text == "admin")
    *role = Role::kAdmin;
  else
    return false;
  return true;
}

bool ApiKey::AllowsSession(const std::string& session_id) const {
  if (all_sessions) return true;
  for (const std::string& pattern : sessions) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (session_id.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0 &&
          session_id.size() >= pattern.size() - 1) {
        return true;
      }
    } else if (pattern == session_id) {
      return true;
    }
  }
  return false;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char cb = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(ca ^ cb);
  }
  return diff == 0;
}

Status ApiKeys::Add(ApiKey key) {
  if (key.secret.empty()) return Status::InvalidArgument("API key is empty");
  for (const ApiKey& k : keys_) {
    if (k.secret == key.secret) {
      return Status::InvalidArgument("API key \"" + key.name + "\" is configured twice");
    }
  }
  if (key.name.empty()) key.name = "key#" + std::to_string(keys_.size() + 1);
  keys_.push_back(std::move(key));
  return Status::OK();
}

Status ApiKeys::AddFromJson(const std::string& json_text, const std::string& source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(source + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Status::InvalidArgument(source + ": expected {\"keys\": [ ... ]}");
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "keys") {
      return Status::InvalidArgument(source + ": unknown field \"" + it.key() + "\"");
    }
  }
  const nlohmann::json& list = doc["keys"];
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = source + ": keys[" + std::to_string(i) + "]";
    const nlohmann::json& entry = list[i];
    if (!entry.is_object()) return Status::InvalidArgument(where + ": expected an object");
    ApiKey key;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& field = it.key();
      const nlohmann::json& v = it.value();
      if (field == "key") {
        if (!v.is_string() || v.get<std::string>().empty()) {
          return Status::InvalidArgument(where + ".key: expected a non-empty string");
        }
        key.secret = v.get<std::string>();
      } else if (field == "name") {
        if (!v.is_string()) return Status::InvalidArgument(where + ".name: expected a string");
        key.name = v.get<std::string>();
      } else if (field == "role") {
        if (!v.is_string() || !ParseRole(v.get<std::string>(), &key.role)) {
          return Status::InvalidArgument(where +
                                         ".role: expected \"read-only\", \"read-write\" or "
                                         "\"admin\"");
        }
      } else if (field == "sessions") {
        if (v.is_string() && v.get<std::string>() == "*") {
          key.all_sessions = true;
        } else if (v.is_array()) {
          for (const auto& s : v) {
            std::string text = s.is_string() ? s.get<std::string>() : "";
            std::string bare = text;
            if (!bare.empty() && bare.back() == '*') bare.pop_back();
            if (text == "*") {
              key.all_sessions = true;
            } else if (!IsValidSessionId(bare)) {
              return Status::InvalidArgument(where +
                                             ".sessions: each entry is a session id "
                                             "([A-Za-z0-9_-]{1,64}) optionally ending in '*'");
            } else {
              key.sessions.push_back(text);
            }
          }
        } else {
          return Status::InvalidArgument(where + ".sessions: expected \"*\" or a list of ids");
        }
      } else {
        return Status::InvalidArgument(where + ": unknown field \"" + field + "\"");
      }
    }
    if (key.secret.empty()) return Status::InvalidArgument(where + ": \"key\" is required");
    if (!entry.contains("role")) return Status::InvalidArgument(where + ": \"role\" is required");
    if (!entry.contains("sessions")) {
      return Status::InvalidArgument(where + ": \"sessions\" is required (\"*\" for all)");
    }
    Status s = Add(std::move(key));
    if (!s.ok()) return Status::InvalidArgument(where + ": " + s.message());
  }
  return Status::OK();
}

const ApiKey* ApiKeys::Find(std::string_view presented) const {
  const ApiKey* found = nullptr;
  for (const ApiKey& k : keys_) {
    // Every key is compared; no early exit on a match.
    const bool eq = ConstantTimeEquals(presented, k.secret);
    if (eq && found == nullptr) found = &k;
  }
  return found;
}

}  // namespace t4dm
