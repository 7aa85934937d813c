#include "igniter/base/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace igniter {

LogLevel parse_log_level(std::string_view text, LogLevel fallback) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  if (text == "off") return LogLevel::off;
  return fallback;
}

namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO";
    case LogLevel::warn:
      return "WARN";
    case LogLevel::error:
      return "ERROR";
    case LogLevel::off:
      break;
  }
  return "";
}

void write_stderr(LogLevel level, std::string_view line) {
  auto stamp = iso_timestamp();
  std::fprintf(stderr, "%s %-5.*s %.*s\n", stamp.c_str(), static_cast<int>(level_name(level).size()),
               level_name(level).data(), static_cast<int>(line.size()), line.data());
}

}  // namespace

std::string iso_timestamp(std::chrono::system_clock::time_point when) {
  auto millis = std::chrono::floor<std::chrono::milliseconds>(when);
  std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(millis));
  auto ms = (millis.time_since_epoch() % std::chrono::seconds(1)).count();
  if (ms < 0) ms += 1000;  // before 1970: floor already moved the seconds back
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[40];
  auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms));
  return stamp;
}

Logger::Logger(LogLevel level, Sink sink)
    : level_(level), sink_(sink ? std::move(sink) : Sink(write_stderr)) {}

void Logger::log(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::lock_guard lock(mutex_);
  sink_(level, message);
}

}  // namespace igniter
