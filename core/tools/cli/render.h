// The human rendering of a JSON document: the one formatter every t4dx command uses, so
// the text shows exactly the figures of the --json document (and of the service).
//
//   objects        "key: value" lines, nested objects indented
//   arrays         of scalars on one line; of flat objects as an aligned table
//   hints          epoch-millisecond fields get an ISO time, byte counts a binary size
#pragma once

#include <string>

namespace t4dx_cli {

// Renders json (any JSON text). Text that does not parse is returned as is.
std::string RenderHuman(const std::string& json);

// "1.5 MiB" for 1572864.
std::string HumanBytes(double bytes);
// "2024-11-26T19:40:00.123Z" for an epoch-millisecond value.
std::string IsoTime(int64_t ms);

}  // namespace t4dx_cli
