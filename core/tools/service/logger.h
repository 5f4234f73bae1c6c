// Logger: structured logs, one JSON object per line on stderr:
//   {"ts":"2025-01-02T03:04:05.678Z","level":"warn","msg":"WAL size exceeded","session":"s1",...}
// "msg" is a fixed phrase (the runbook's own wording where it quotes one: "segment checksum
// mismatch", "WAL replay", "HNSW refresh failed", "WAL size exceeded", ...), so operators
// can grep for it; details go in extra fields. Engine log lines are passed through verbatim
// with "source":"engine". API keys are never logged.
//
// Thread safety: Log() may be called from any thread (request threads, compactor threads).
#pragma once

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "t4dx/options.h"

namespace t4dm {

class Logger {
 public:
  explicit Logger(t4dx::LogLevel min_level, std::FILE* out = stderr)
      : min_level_(min_level), out_(out) {}

  bool Enabled(t4dx::LogLevel level) const { return level >= min_level_; }
  // fields: a JSON object merged into the line (may be null).
  void Log(t4dx::LogLevel level, const std::string& msg,
           const nlohmann::json& fields = nlohmann::json());
  void Info(const std::string& msg, const nlohmann::json& fields = nlohmann::json()) {
    Log(t4dx::LogLevel::kInfo, msg, fields);
  }
  void Warn(const std::string& msg, const nlohmann::json& fields = nlohmann::json()) {
    Log(t4dx::LogLevel::kWarn, msg, fields);
  }
  void Error(const std::string& msg, const nlohmann::json& fields = nlohmann::json()) {
    Log(t4dx::LogLevel::kError, msg, fields);
  }

  // "debug", "info", "warn", "error".
  static const char* LevelName(t4dx::LogLevel level);
  static bool ParseLevel(const std::string& text, t4dx::LogLevel* level);

 private:
  const t4dx::LogLevel min_level_;
  std::FILE* const out_;
  std::mutex mu_;
};

}  // namespace t4dm
