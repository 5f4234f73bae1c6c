#include "router.h"

namespace t4dm {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  for (;;) {
    const size_t slash = path.find('/', start);
    if (slash == std::string::npos) {
      parts.push_back(path.substr(start));
      break;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

void Router::Add(Route route) {
  Compiled compiled;
  std::string pattern = route.pattern;
  if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, "/*") == 0) {
    compiled.prefix = true;
    pattern.resize(pattern.size() - 2);
  }
  compiled.segments = SplitPath(pattern);
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(compiled));
}

bool Router::MatchPath(const Compiled& compiled, const std::vector<std::string>& path,
                       std::map<std::string, std::string>* params) {
  const auto& segs = compiled.segments;
  // A prefix pattern "/a/*" needs at least "/a/" (one more, possibly empty, segment).
  if (compiled.prefix ? path.size() <= segs.size() : path.size() != segs.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& s = segs[i];
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      if (path[i].empty()) return false;
      found[s.substr(1, s.size() - 2)] = path[i];
    } else if (s != path[i]) {
      return false;
    }
  }
  if (compiled.prefix) {
    std::string rest;
    for (size_t i = segs.size(); i < path.size(); ++i) {
      rest += (i == segs.size() ? "" : "/") + path[i];
    }
    found["*"] = rest;
  }
  *params = std::move(found);
  return true;
}

const Route* Router::Match(const std::string& method, const std::string& path,
                           std::map<std::string, std::string>* params, std::string* allow) const {
  const std::string m = method == "HEAD" ? "GET" : method;
  const std::vector<std::string> parts = SplitPath(path);
  allow->clear();
  for (size_t i = 0; i < routes_.size(); ++i) {
    std::map<std::string, std::string> p;
    if (!MatchPath(compiled_[i], parts, &p)) continue;
    if (routes_[i].method == m) {
      *params = std::move(p);
      return &routes_[i];
    }
    if (allow->find(routes_[i].method) == std::string::npos) {
      *allow += (allow->empty() ? "" : ", ") + routes_[i].method;
    }
  }
  return nullptr;
}

}  // namespace t4dm
