// Identifiers that reach the service from clients, validated before they touch anything:
// session ids become directory names under the data root, segment ids select seg_NNNNNN/.
#pragma once

#include <string>

namespace t4dm {

// The session used when a request names none (or sends an empty session_id).
inline constexpr const char* kDefaultSession = "default";

// [A-Za-z0-9_-]{1,64}: no '.', '/', '\\' or NUL can reach a path.
bool IsValidSessionId(const std::string& id);

// Accepts "000001", "1" or "seg_000001" (digits only, at most 18 of them) and writes the
// canonical six-digit form ("000001") to *canonical. False for anything else.
bool NormalizeSegmentId(const std::string& text, std::string* canonical);

// A new item id: a UUIDv7 (time-ordered, 122 random/time bits), e.g.
// "01936f1c-6a2b-7c3d-8e4f-0123456789ab".
std::string GenerateItemId();

// A new API key: "t4dm_" followed by 40 random hex digits (160 bits).
std::string GenerateApiKey();

}  // namespace t4dm
