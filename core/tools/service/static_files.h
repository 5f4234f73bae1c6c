// StaticFiles: the web inspector's built files (web/dist) served under /inspector/.
// The request path is checked segment by segment before any path is built: no empty, "."
// or ".." segment, no hidden file, no backslash or NUL, so nothing outside the directory
// can be named. Files are read through t4dx::Env.
#pragma once

#include <string>

#include "api_status.h"
#include "http_server.h"

namespace t4dm {

class StaticFiles {
 public:
  // root: the directory to serve ("" = none configured).
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  // True when root is a directory holding index.html.
  bool Available() const;
  const std::string& root() const { return root_; }

  // Answers the file at relative path rel ("" = index.html); 404 when missing.
  ApiStatus Serve(const std::string& rel, HttpResponse* response) const;

  // The Content-Type for a file name.
  static std::string MimeType(const std::string& name);

 private:
  std::string root_;
};

}  // namespace t4dm
