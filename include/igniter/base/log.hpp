#pragma once
/// A small leveled logger. Each App owns one; nothing here is global.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace igniter {

enum class LogLevel { debug, info, warn, error, off };

/// `when` in ISO 8601, UTC, to the millisecond: "2026-12-03T06:53:36.123Z", as log lines are stamped and
/// as JavaScript's `new Date().toISOString()` writes it.
std::string iso_timestamp(std::chrono::system_clock::time_point when = std::chrono::system_clock::now());

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
