#include "logger.h"

#include <chrono>
#include <ctime>

namespace t4dm {
namespace {

std::string UtcTimestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const int64_t ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

const char* Logger::LevelName(t4dx::LogLevel level) {
  switch (level) {
    case t4dx::LogLevel::kDebug:
      return "debug";
    case t4dx::LogLevel::kInfo:
      return "info";
    case t4dx::LogLevel::kWarn:
      return "warn";
    case t4dx::LogLevel::kError:
      return "error";
  }
  return "info";
}

bool Logger::ParseLevel(const std::string& text, t4dx::LogLevel* level) {
  if (text == "debug")
    *level = t4dx::LogLevel::kDebug;
  else if (text == "info")
    *level = t4dx::LogLevel::kInfo;
  else if (text == "warn" || text == "warning")
    *level = t4dx::LogLevel::kWarn;
  else if (text == "error")
    *level = t4dx::LogLevel::kError;
  else
    return false;
  return true;
}

void Logger::Log(t4dx::LogLevel level, const std::string& msg, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  nlohmann::ordered_json line = nlohmann::ordered_json::object();  // ts, level, msg first
  line["ts"] = UtcTimestamp();
  line["level"] = LevelName(level);
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (!line.contains(it.key())) line[it.key()] = nlohmann::ordered_json(it.value());
    }
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace t4dm
