#pragma once
/// A small leveled logger that never makes its callers wait for a write. Each App owns one; nothing
/// here is global.
///
/// `log()` copies the line, with the time it was called, into a buffer of the calling thread; one
/// background thread per Logger (started by the first line) takes every thread's buffer, puts the lines
/// in time order, formats them and writes them in large `write(2)` calls. What waits in the buffers is
/// bounded (`LogOptions::max_buffered_bytes`): past it a line is dropped and counted, never waited for,
/// and the count is logged ("N log lines dropped ...") once the writer has caught up. Every message is
/// written on one line: the writer escapes control characters in it (append_log_escaped), so a path or a
/// header a client chose cannot forge a line. `flush()` and the
/// destructor write everything logged before them, so a clean stop loses no line.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>  // not used here: code written against the first version of this header relies on it
#include <string>
#include <string_view>

namespace igniter {

enum class LogLevel { debug, info, warn, error, off };

/// `when` in ISO 8601, UTC, to the millisecond: "2026-12-03T06:53:36.123Z", as log lines are stamped and
/// as JavaScript's `new Date().toISOString()` writes it.
std::string iso_timestamp(std::chrono::system_clock::time_point when = std::chrono::system_clock::now());

/// Parses "debug", "info", "warn", "error" or "off"; anything else gives `fallback`.
LogLevel parse_log_level(std::string_view text, LogLevel fallback = LogLevel::info);

/// Appends `text` to `out` as a log line shows it, so that text a client sent cannot forge or split lines
/// nor drive a terminal: `\n`, `\r`, `\t` and `\\` for newline, carriage return, tab and backslash;
/// `\xNN` for every other control byte (C0, DEL), for each byte of a C1 control or of U+2028/U+2029, and
/// for each byte that is not well-formed UTF-8. Other text, UTF-8 included, is kept as it is.
void append_log_escaped(std::string& out, std::string_view text);

/// Receives one line (the message as logged, escaped by append_log_escaped, without time or level prefix).
/// Runs on the logger's writer thread, one call at a time, in the order lines are written; it may block (only
/// the writer waits).
using LogSink = std::function<void(LogLevel, std::string_view message)>;

/// Settings of a Logger; every field has a safe default.
struct LogOptions {
  LogLevel level = LogLevel::info;               ///< Lines below it are not logged; `off` logs nothing.
  std::size_t max_buffered_bytes = 4u << 20;     ///< Lines waiting for the writer (all threads); past it
                                                 ///< lines are dropped and counted, the count logged later.
  std::chrono::milliseconds flush_interval{50};  ///< How long lines gather before a write (an
                                                 ///< error, or a buffer a quarter full, wakes the writer).
  int fd = 2;    ///< Where lines go, formatted "<UTC time> LEVEL message\n"; 2 = stderr. Not closed.
  LogSink sink;  ///< Replaces the fd: gets each line instead, on the writer thread.
};

/// Writes lines to stderr (or a sink) from a background thread. Every member is thread-safe; `log()` never
/// blocks on I/O or on a lock another thread holds for longer than a pointer swap. Lines of one thread
/// are written in the order it logged them; lines of different threads in the order of their times.
class Logger {
 public:
  using Sink = LogSink;

  explicit Logger(LogLevel level = LogLevel::info, Sink sink = {});
  explicit Logger(LogOptions options);
  /// Writes every line logged before, then stops the writer thread.
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  LogLevel level() const noexcept { return level_.load(std::memory_order_relaxed); }
  void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
  bool enabled(LogLevel level) const noexcept {
    auto current = this->level();
    return level >= current && current != LogLevel::off;
  }

  /// Queues one line; returns at once. Dropped (and counted) when `max_buffered_bytes` are waiting.
  void log(LogLevel level, std::string_view message);
  void debug(std::string_view message) { log(LogLevel::debug, message); }
  void info(std::string_view message) { log(LogLevel::info, message); }
  void warn(std::string_view message) { log(LogLevel::warn, message); }
  void error(std::string_view message) { log(LogLevel::error, message); }

  /// Blocks until every line logged before the call has been written (or handed to the sink). Waits for
  /// the writer: not for an I/O thread.
  void flush();

  /// Lines dropped since the logger was made because the buffers were full.
  std::uint64_t dropped() const noexcept;

  struct State;

 private:
  std::atomic<LogLevel> level_;
  std::unique_ptr<State> state_;
};

}  // namespace igniter
