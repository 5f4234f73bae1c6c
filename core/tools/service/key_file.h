// The generated API key of a data root: <data root>/.api_key, mode 0600.
//
// Used only when neither T4DM_API_KEY nor a keys file is configured and the service listens
// on a loopback address: the first start writes a fresh key there, later starts reuse it,
// so `make run` always prints the same key for the same ./data.
#pragma once

#include <string>

#include "t4dx/status.h"

namespace t4dm {

// The path of the key file in data_root.
std::string ApiKeyFilePath(const std::string& data_root);

// Reads the key from the file, or creates the file (exclusively, mode 0600, synced) with a
// new key. *created tells which. *warning is set (else cleared) when an existing file is
// readable by group or others.
t4dx::Status LoadOrCreateApiKeyFile(const std::string& data_root, std::string* key, bool* created,
                                    std::string* warning);

}  // namespace t4dm
