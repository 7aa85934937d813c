#include "igniter/base/log.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_name.hpp"

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
      return "INFO ";
    case LogLevel::warn:
      return "WARN ";
    case LogLevel::error:
      return "ERROR";
    case LogLevel::off:
      break;
  }
  return "     ";
}

/// What precedes each message in a thread's buffer: when and at which level it was logged.
struct Record {
  std::int64_t nanos;  // system_clock, since the epoch
  std::uint32_t size;  // of the message that follows
  LogLevel level;
};

/// The lines one thread logged and the writer has not taken yet.
struct ThreadBuffer {
  std::mutex mutex;                  // held by the thread to append, by the writer to swap (never for I/O)
  std::string records;               // Record, message, Record, message, ...
  std::string taken;                 // the writer's: what it swapped out, being written
  std::atomic<bool> retired{false};  // the logger is gone; the thread's slot may be reused
};

/// Which buffer this thread uses for which logger (usually one entry).
struct Slot {
  const Logger::State* logger;
  std::shared_ptr<ThreadBuffer> buffer;
};
thread_local std::vector<Slot> thread_slots;

// Past these the writer hands its buffers back to the allocator instead of keeping them for the next pass.
constexpr std::size_t kKeptCapacity = 256 * 1024;
constexpr std::size_t kWriteChunk = 256 * 1024;

/// The length of the well-formed UTF-8 sequence at the start of `text` (overlongs, surrogates and code
/// points past U+10FFFF are not), or 0.
std::size_t utf8_sequence(std::string_view text) noexcept {
  auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t length = s[0] >= 0xC2 && s[0] <= 0xDF   ? 2
                       : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                       : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                      : 0;
  if (length == 0 || text.size() < length) return 0;
  unsigned char low = 0x80, high = 0xBF;
  if (s[0] == 0xE0) low = 0xA0;
  if (s[0] == 0xED) high = 0x9F;
  if (s[0] == 0xF0) low = 0x90;
  if (s[0] == 0xF4) high = 0x8F;
  if (s[1] < low || s[1] > high) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return length;
}

void append_hex(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  char escaped[4] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xF]};
  out.append(escaped, sizeof escaped);
}

}  // namespace

void append_log_escaped(std::string& out, std::string_view text) {
  // Most lines have nothing to escape: one scan, one append.
  auto plain = [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7F && c != '\\';
  };
  std::size_t start = 0;
  while (start < text.size() && plain(text[start])) ++start;
  out.append(text.substr(0, start));
  for (std::size_t i = start; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (plain(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    switch (text[i]) {
      case '\n':
        out.append("\\n");
        ++i;
        continue;
      case '\r':
        out.append("\\r");
        ++i;
        continue;
      case '\t':
        out.append("\\t");
        ++i;
        continue;
      case '\\':
        out.append("\\\\");
        ++i;
        continue;
      default:
        break;
    }
    if (byte < 0x80) {  // the other C0 controls (ESC of terminal escapes among them) and DEL
      append_hex(out, byte);
      ++i;
      continue;
    }
    auto length = utf8_sequence(text.substr(i));
    // C1 controls (U+0080..U+009F: 8-bit CSI among them) and the Unicode line and paragraph separators,
    // which some terminals and log viewers obey as such, are escaped byte by byte like invalid UTF-8.
    bool control = length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    bool separator =
        length == 3 && byte == 0xE2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xA8 || static_cast<unsigned char>(text[i + 2]) == 0xA9);
    if (length == 0) {
      append_hex(out, byte);
      ++i;
    } else if (control || separator) {
      for (std::size_t k = 0; k < length; ++k) append_hex(out, static_cast<unsigned char>(text[i + k]));
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
}

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

struct Logger::State {
  explicit State(LogOptions opts) : options(std::move(opts)) {}

  LogOptions options;
  std::atomic<std::size_t> buffered{0};         // bytes of records in every thread's buffer
  std::atomic<std::uint64_t> dropped_since{0};  // lines dropped since the writer last reported them
  std::atomic<std::uint64_t> dropped_total{0};

  std::mutex mutex;  // guards the members below; never held for I/O
  std::condition_variable wake_cv;
  std::condition_variable flushed_cv;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  bool wake = false;
  bool stopping = false;
  std::uint64_t flush_requested = 0;
  std::uint64_t flush_done = 0;
  std::thread writer;

  // The writer thread's own.
  std::vector<std::shared_ptr<ThreadBuffer>> taken;
  std::string out;
  std::string escaped;  // a message handed to the sink
  std::int64_t stamp_seconds = -1;
  char stamp[32] = {};

  ThreadBuffer& local_buffer();
  void wake_writer();    // write now
  void notify_writer();  // lines are waiting (the writer may have gone to sleep with none)
  void run();
  void take();  // with `mutex` held
  void write_taken(std::uint64_t dropped);
  void emit(std::int64_t nanos, LogLevel level, std::string_view message);
  void write_out();
};

ThreadBuffer& Logger::State::local_buffer() {
  for (auto& slot : thread_slots)
    if (slot.logger == this && !slot.buffer->retired.load(std::memory_order_relaxed)) return *slot.buffer;
  // Once per thread and logger: register a buffer (and start the writer with the first one).
  std::erase_if(thread_slots, [](const Slot& slot) { return slot.buffer->retired.load(); });
  auto buffer = std::make_shared<ThreadBuffer>();
  {
    std::lock_guard lock(mutex);
    buffers.push_back(buffer);
    if (!writer.joinable() && !stopping)
      writer = std::thread([this] {
        name_this_thread("igniter-log");
        run();
      });
  }
  thread_slots.push_back({this, buffer});
  return *buffer;
}

void Logger::State::notify_writer() {
  // Taking the mutex orders this after the writer's check of `buffered`, so the notification is not lost.
  { std::lock_guard lock(mutex); }
  wake_cv.notify_one();
}

void Logger::State::wake_writer() {
  {
    std::lock_guard lock(mutex);
    wake = true;
  }
  wake_cv.notify_one();
}

void Logger::State::run() {
  std::unique_lock lock(mutex);
  auto due = [&] { return wake || stopping || flush_requested > flush_done; };
  for (;;) {
    // Idle, the writer sleeps until a line comes (no timer ticking in a quiet process); then it lets
    // lines gather for up to flush_interval, so that one write(2) carries many of them.
    wake_cv.wait(lock, [&] { return due() || buffered.load(std::memory_order_relaxed) > 0; });
    wake_cv.wait_for(lock, options.flush_interval, due);
    wake = false;
    bool stop = stopping;
    auto target = flush_requested;
    take();
    // Read after taking: a line dropped now was dropped while the lines just taken filled the buffers.
    auto dropped = dropped_since.exchange(0);
    lock.unlock();
    write_taken(dropped);
    lock.lock();
    flush_done = target;
    flushed_cv.notify_all();
    if (stop) return;
  }
}

void Logger::State::take() {
  taken.clear();
  std::erase_if(buffers, [](const std::shared_ptr<ThreadBuffer>& buffer) {
    // Its thread has exited (only we hold it) and nothing is left in it.
    if (buffer.use_count() != 1) return false;
    std::lock_guard lock(buffer->mutex);
    return buffer->records.empty();
  });
  for (auto& buffer : buffers) {
    {
      std::lock_guard lock(buffer->mutex);
      if (buffer->records.empty()) continue;
      buffer->records.swap(buffer->taken);  // the thread gets the emptied string of the last pass back
    }
    taken.push_back(buffer);
  }
}

void Logger::State::write_taken(std::uint64_t dropped) {
  // Merge the threads' lines by time; each thread's own stay in the order it logged them.
  struct Cursor {
    const char* next;
    const char* end;
    Record head;
  };
  std::vector<Cursor> cursors;
  cursors.reserve(taken.size());
  std::size_t bytes = 0;
  for (auto& buffer : taken) {
    bytes += buffer->taken.size();
    Cursor cursor{buffer->taken.data(), buffer->taken.data() + buffer->taken.size(), {}};
    std::memcpy(&cursor.head, cursor.next, sizeof(Record));
    cursors.push_back(cursor);
  }
  while (!cursors.empty()) {
    std::size_t first = 0;
    for (std::size_t i = 1; i < cursors.size(); ++i)
      if (cursors[i].head.nanos < cursors[first].head.nanos) first = i;
    auto& cursor = cursors[first];
    emit(cursor.head.nanos, cursor.head.level,
         std::string_view(cursor.next + sizeof(Record), cursor.head.size));
    cursor.next += sizeof(Record) + cursor.head.size;
    if (cursor.next == cursor.end)
      cursors.erase(cursors.begin() + static_cast<std::ptrdiff_t>(first));
    else
      std::memcpy(&cursor.head, cursor.next, sizeof(Record));
  }
  if (dropped) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    emit(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(), LogLevel::warn,
         std::to_string(dropped) + " log lines dropped: " + std::to_string(options.max_buffered_bytes) +
             " bytes of lines were waiting to be written (LogOptions::max_buffered_bytes)");
  }
  write_out();
  for (auto& buffer : taken) {
    buffer->taken.clear();
    if (buffer->taken.capacity() > kKeptCapacity) buffer->taken.shrink_to_fit();
  }
  taken.clear();
  // Only now is the space free again: what waits plus what is being written stays under the limit.
  buffered.fetch_sub(bytes, std::memory_order_relaxed);
}

void Logger::State::emit(std::int64_t nanos, LogLevel level, std::string_view message) {
  if (options.sink) {
    escaped.clear();
    append_log_escaped(escaped, message);
    try {
      options.sink(level, escaped);
    } catch (...) {
      // A sink that throws loses its line, not the writer thread.
    }
    return;
  }
  std::int64_t seconds = nanos / 1'000'000'000;
  if (nanos < 0 && nanos % 1'000'000'000) --seconds;
  if (seconds != stamp_seconds) {
    stamp_seconds = seconds;
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  }
  int millis = static_cast<int>((nanos - seconds * 1'000'000'000) / 1'000'000);
  char fraction[6] = {'.',
                      static_cast<char>('0' + millis / 100),
                      static_cast<char>('0' + millis / 10 % 10),
                      static_cast<char>('0' + millis % 10),
                      'Z',
                      ' '};
  out.append(stamp);
  out.append(fraction, sizeof fraction);
  out.append(level_name(level));
  out.push_back(' ');
  append_log_escaped(out, message);
  out.push_back('\n');
  if (out.size() >= kWriteChunk) write_out();
}

void Logger::State::write_out() {
  const char* data = out.data();
  std::size_t left = out.size();
  while (left > 0) {
    auto written = ::write(options.fd, data, left);
    if (written >= 0) {
      data += written;
      left -= static_cast<std::size_t>(written);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd ready{options.fd, POLLOUT, 0};
      ::poll(&ready, 1, 1000);
    } else if (errno != EINTR) {
      break;  // a closed or broken destination: nowhere to report it
    }
  }
  out.clear();
  if (out.capacity() > 2 * kWriteChunk) out.shrink_to_fit();
}

Logger::Logger(LogLevel level, Sink sink) : Logger(LogOptions{.level = level, .sink = std::move(sink)}) {}

Logger::Logger(LogOptions options)
    : level_(options.level), state_(std::make_unique<State>(std::move(options))) {}

Logger::~Logger() {
  auto& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
  }
  s.wake_cv.notify_one();
  if (s.writer.joinable()) s.writer.join();
  std::lock_guard lock(s.mutex);
  for (auto& buffer : s.buffers) {
    buffer->retired = true;
    std::lock_guard buffer_lock(buffer->mutex);
    std::string().swap(buffer->records);
    std::string().swap(buffer->taken);
  }
}

void Logger::log(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  auto& s = *state_;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::size_t limit = s.options.max_buffered_bytes;
  std::size_t size = sizeof(Record) + message.size();
  std::size_t before = 0;
  if (size <= limit) {
    before = s.buffered.fetch_add(size, std::memory_order_relaxed);
    if (before + size > limit) s.buffered.fetch_sub(size, std::memory_order_relaxed);
  }
  if (size > limit || before + size > limit) {
    // Never wait for room: count the line, the writer reports the count once it has caught up.
    s.dropped_since.fetch_add(1, std::memory_order_relaxed);
    s.dropped_total.fetch_add(1, std::memory_order_relaxed);
    if (size > limit) s.wake_writer();  // nothing may be waiting that would make it report the drop
    return;
  }
  Record record{std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(),
                static_cast<std::uint32_t>(message.size()), level};
  auto& buffer = s.local_buffer();
  {
    std::lock_guard lock(buffer.mutex);
    buffer.records.append(reinterpret_cast<const char*>(&record), sizeof record);
    buffer.records.append(message);
  }
  // Errors are written promptly; so is a buffer filling up (once, as it crosses a quarter).
  bool quarter = before < limit / 4 && before + size >= limit / 4;
  if (level >= LogLevel::error || quarter)
    s.wake_writer();
  else if (before == 0)
    s.notify_writer();  // the first line after a quiet spell: the writer may be asleep with no timer
}

void Logger::flush() {
  auto& s = *state_;
  std::unique_lock lock(s.mutex);
  if (!s.writer.joinable() || s.writer.get_id() == std::this_thread::get_id()) return;
  auto target = ++s.flush_requested;
  s.wake_cv.notify_one();
  s.flushed_cv.wait(lock, [&] { return s.flush_done >= target; });
}

std::uint64_t Logger::dropped() const noexcept {
  return state_->dropped_total.load(std::memory_order_relaxed);
}

}  // namespace igniter
