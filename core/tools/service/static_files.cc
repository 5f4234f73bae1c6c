#include "static_files.h"

#include <vector>

#include "router.h"
#include "t4dx/env.h"

namespace t4dm {

bool StaticFiles::Available() const {
  if (root_.empty()) return false;
  return t4dx::Env::Default()->FileExists(t4dx::JoinPath(root_, "index.html"));
}

std::string StaticFiles::MimeType(const std::string& name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".wasm", "application/wasm"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& t : kTypes) {
    const std::string ext = t.first;
    if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
      return t.second;
    }
  }
  return "application/octet-stream";
}

ApiStatus StaticFiles::Serve(const std::string& rel, HttpResponse* response) const {
  if (!Available()) {
    return ApiStatus::Error(404, "inspector_not_built",
                            "the web inspector's files were not found" +
                                (root_.empty() ? std::string() : " in " + root_) +
                                ": build them (make build) or set T4DM_INSPECTOR_DIR");
  }
  std::string path = root_;
  std::string name = "index.html";
  if (!rel.empty()) {
    for (const std::string& seg : SplitPath("/" + rel)) {
      const bool bad = seg.empty() || seg[0] == '.' || seg.find('\\') != std::string::npos ||
                       seg.find('\0') != std::string::npos || seg.size() > 255;
      if (bad) {
        return ApiStatus::Error(404, "not_found", "no such inspector file");
      }
      path = t4dx::JoinPath(path, seg);
      name = seg;
    }
  } else {
    path = t4dx::JoinPath(path, name);
  }
  t4dx::Env* env = t4dx::Env::Default();
  bool is_dir = false;
  if (env->IsDirectory(path, &is_dir).ok() && is_dir) {
    path = t4dx::JoinPath(path, "index.html");
    name = "index.html";
  }
  std::string data;
  const t4dx::Status s = t4dx::ReadFileToString(env, path, &data);
  if (!s.ok()) return ApiStatus::Error(404, "not_found", "no such inspector file");
  response->status = 200;
  response->content_type = MimeType(name);
  response->body = std::move(data);
  response->headers.emplace_back("X-Content-Type-Options", "nosniff");
  return ApiStatus::OK();
}

}  // namespace t4dm
