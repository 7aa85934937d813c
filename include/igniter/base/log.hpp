#pragma once
/// A small leveled logger. Each App owns one; nothing here is global.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace igniter {

enum class LogLevel { debug, info, warn, error, off };

/// Parses "debug", "info", "warn", "error" or "off"; anything else gives `fallback`.
LogLevel parse_log_level(std::string_view text, LogLevel fallback = LogLevel::info);

/// Writes one line per call to a sink (stderr by default). Thread-safe.
class Logger {
 public:
  using Sink = std::function<void(LogLevel, std::string_view line)>;

  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});

  LogLevel level() const noexcept { return level_; }
  void set_level(LogLevel level) noexcept { level_ = level; }
  bool enabled(LogLevel level) const noexcept { return level >= level_ && level_ != LogLevel::off; }

  void log(LogLevel level, std::string_view message);
  void debug(std::string_view message) { log(LogLevel::debug, message); }
  void info(std::string_view message) { log(LogLevel::info, message); }
  void warn(std::string_view message) { log(LogLevel::warn, message); }
  void error(std::string_view message) { log(LogLevel::error, message); }

 private:
  LogLevel level_;
  Sink sink_;
  std::mutex mutex_;
};

}  // namespace igniter
