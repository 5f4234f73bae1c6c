// Base64 (RFC 4648, standard alphabet, '=' padding) for embeddings in WAL lines.
#pragma once

#include <string>
#include <string_view>

namespace t4dx {

std::string Base64Encode(std::string_view data);
// False when text is not canonical base64 (bad character, bad length or padding).
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace t4dx
