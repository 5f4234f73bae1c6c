// POSIX calls here: the Env interface has no way to create a file with mode 0600, and the
// key file is the service's own, not part of any store.
#include "key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ids.h"

namespace t4dm {

using t4dx::Status;

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\n' || s[b] == '\r' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\n' || s[e - 1] == '\r' || s[e - 1] == '\t'))
    --e;
  return s.substr(b, e - b);
}

Status ReadKey(const std::string& path, std::string* key, std::string* warning) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o", static_cast<unsigned>(st.st_mode & 0777));
    *warning = path + " is readable by other users (mode " + mode + "): chmod 600 it";
  }
  std::string data;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const Status s = Errno("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > 4096) break;
  }
  ::close(fd);
  *key = Trim(data);
  if (key->empty()) return Status::InvalidArgument(path + " is empty: delete it to get a new key");
  return Status::OK();
}

}  // namespace

std::string ApiKeyFilePath(const std::string& data_root) {
  return data_root.empty() || data_root.back() == '/' ? data_root + ".api_key"
                                                      : data_root + "/.api_key";
}

Status LoadOrCreateApiKeyFile(const std::string& data_root, std::string* key, bool* created,
                              std::string* warning) {
  warning->clear();
  *created = false;
  const std::string path = ApiKeyFilePath(data_root);
  const std::string fresh = GenerateApiKey();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return ReadKey(path, key, warning);
    return Errno("cannot create", path);
  }
  const std::string line = fresh + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Status s = Errno("cannot write", path);
      ::close(fd);
      ::unlink(path.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const Status s = Errno("cannot sync", path);
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  ::close(fd);
  *key = fresh;
  *created = true;
  return Status::OK();
}

}  // namespace t4dm
