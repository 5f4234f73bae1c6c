// Base64 (RFC 4648, standard alphabet, '=' padding) for embeddings in WAL lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace t4dx {

std::string Base64Encode(std::string_view data);
// Appends the encoding of data to *out (no intermediate string).
void AppendBase64(std::string* out, std::string_view data);
// False when text is not canonical base64 (bad character, bad length or padding).
bool Base64Decode(std::string_view text, std::string* out);

// The same decoding into a caller's buffer (e.g. straight into an embedding's floats):
// Base64DecodedSize gives the size text decodes to (false when its length is not a
// multiple of 4); Base64DecodeTo writes exactly that many bytes to out and returns
// false where Base64Decode would (out's contents are then unspecified).
bool Base64DecodedSize(std::string_view text, size_t* size);
bool Base64DecodeTo(std::string_view text, char* out);

}  // namespace t4dx
