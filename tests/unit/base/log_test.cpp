// The logger: lines reach the sink in order, nothing is lost on flush or destruction, and a full buffer
// drops and counts lines instead of making the caller wait. No sockets, no sleeping: time is replaced by
// flush() and by condition variables.

#include "igniter/base/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace igniter {
namespace {

using namespace std::chrono_literals;

/// Collects what the writer thread hands to the sink.
struct Lines {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<LogLevel, std::string>> lines;

  LogSink sink() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard lock(mutex);
      lines.emplace_back(level, std::string(message));
      changed.notify_all();
    };
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (auto& [level, text] : lines) out.push_back(text);
    return out;
  }
  bool wait_for_count(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return lines.size() >= count; });
  }
};

/// Options whose writer never wakes by itself during a test: only flush(), an error or the end does.
LogOptions quiet(LogSink sink, std::size_t max_bytes = 4u << 20) {
  return {.level = LogLevel::debug,
          .max_buffered_bytes = max_bytes,
          .flush_interval = 1h,
          .sink = std::move(sink)};
}

TEST(Logger, FlushWritesEveryLineLoggedBefore) {
  Lines lines;
  Logger logger(quiet(lines.sink()));
  for (int i = 0; i < 10; ++i) logger.info("line " + std::to_string(i));
  logger.flush();
  auto got = lines.messages();
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], "line " + std::to_string(i));
}

TEST(Logger, LinesBelowTheLevelAreNotWritten) {
  Lines lines;
  auto options = quiet(lines.sink());
  options.level = LogLevel::warn;
  Logger logger(options);
  logger.info("quiet");
  logger.warn("loud");
  logger.set_level(LogLevel::off);
  logger.error("silenced");
  logger.flush();
  EXPECT_EQ(lines.messages(), std::vector<std::string>{"loud"});
}

TEST(Logger, EachThreadsLinesKeepTheirOrder) {
  Lines lines;
  Logger logger(quiet(lines.sink()));
  constexpr int kThreads = 4, kLines = 2000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i) logger.info(std::to_string(t) + " " + std::to_string(i));
    });
  for (auto& producer : producers) producer.join();
  logger.flush();
  auto got = lines.messages();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kThreads * kLines));
  std::vector<int> next(kThreads, 0);
  for (auto& line : got) {
    auto space = line.find(' ');
    int t = std::stoi(line.substr(0, space));
    EXPECT_EQ(std::stoi(line.substr(space + 1)), next[t]) << "thread " << t;
    next[t] = std::stoi(line.substr(space + 1)) + 1;
  }
}

TEST(Logger, LinesOfDifferentThreadsAreWrittenInTheOrderTheyWereLogged) {
  Lines lines;
  Logger logger(quiet(lines.sink()));
  // Each thread logs one line after the previous thread's: the writer, taking both buffers at once,
  // still writes them in that order.
  for (int round = 0; round < 3; ++round) {
    std::thread([&] { logger.info("first " + std::to_string(round)); }).join();
    std::thread([&] { logger.info("second " + std::to_string(round)); }).join();
  }
  logger.flush();
  EXPECT_EQ(lines.messages(),
            (std::vector<std::string>{"first 0", "second 0", "first 1", "second 1", "first 2", "second 2"}));
}

TEST(Logger, AnErrorIsWrittenWithoutWaitingForTheInterval) {
  Lines lines;
  Logger logger(quiet(lines.sink()));
  logger.info("before");
  logger.error("broken");
  // No flush(): the error wakes the writer, which takes the line before it too.
  ASSERT_TRUE(lines.wait_for_count(2));
  EXPECT_EQ(lines.messages(), (std::vector<std::string>{"before", "broken"}));
}

TEST(Logger, DestructionWritesEveryLine) {
  Lines lines;
  {
    Logger logger(quiet(lines.sink()));
    for (int i = 0; i < 100; ++i) logger.info("line " + std::to_string(i));
    std::thread([&] { logger.warn("from a thread that has exited"); }).join();
  }
  auto got = lines.messages();
  ASSERT_EQ(got.size(), 101u);
  EXPECT_EQ(got.front(), "line 0");
  EXPECT_EQ(got[99], "line 99");
  EXPECT_EQ(got.back(), "from a thread that has exited");
}

TEST(Logger, AFullBufferDropsAndCountsLinesInsteadOfWaiting) {
  // The sink holds the writer until the test opens the gate, so lines pile up in the buffer.
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false, open = false;
  std::vector<std::pair<LogLevel, std::string>> got;
  auto sink = [&](LogLevel level, std::string_view message) {
    std::unique_lock lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait(lock, [&] { return open; });
    got.emplace_back(level, std::string(message));
  };
  constexpr std::size_t kLimit = 1000;
  Logger logger(quiet(sink, kLimit));
  logger.error("stuck");  // wakes the writer, which then waits in the sink
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 10s, [&] { return entered; }));
  }

  constexpr int kOffered = 200;
  for (int i = 0; i < kOffered; ++i) logger.info("line " + std::to_string(1000 + i));  // returns at once
  auto dropped = logger.dropped();
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, static_cast<std::uint64_t>(kOffered));

  {
    std::lock_guard lock(mutex);
    open = true;
  }
  changed.notify_all();
  logger.flush();
  logger.info("after");  // room again
  logger.flush();

  std::lock_guard lock(mutex);
  auto kept = kOffered - static_cast<int>(dropped);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(1 + kept + 1 + 1));
  EXPECT_EQ(got[0].second, "stuck");
  std::size_t kept_bytes = 0;
  for (int i = 0; i < kept; ++i) {  // the first lines offered are kept, in order
    EXPECT_EQ(got[1 + i].second, "line " + std::to_string(1000 + i));
    kept_bytes += got[1 + i].second.size();
  }
  EXPECT_LE(kept_bytes, kLimit);
  EXPECT_EQ(got[1 + kept].first, LogLevel::warn);
  EXPECT_EQ(got[1 + kept].second.rfind(std::to_string(dropped) + " log lines dropped: 1000 bytes", 0), 0u)
      << got[1 + kept].second;
  EXPECT_EQ(got.back().second, "after");
  EXPECT_EQ(logger.dropped(), dropped);
}

TEST(Logger, ALineLargerThanTheBufferIsDroppedAndCounted) {
  Lines lines;
  Logger logger(quiet(lines.sink(), 100));
  logger.info(std::string(200, 'x'));
  logger.info("small");
  logger.flush();
  EXPECT_EQ(logger.dropped(), 1u);
  auto got = lines.messages();
  ASSERT_EQ(got.size(), 2u);
  // The report of the drop may come before or after "small": the writer may wake for the drop first.
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got[0].rfind("1 log lines dropped", 0), 0u);
  EXPECT_EQ(got[1], "small");
}

TEST(Logger, TheDefaultSinkWritesTimeLevelAndMessageToItsDescriptor) {
  int pipe_ends[2];
  ASSERT_EQ(::pipe(pipe_ends), 0);
  {
    Logger logger(LogOptions{.level = LogLevel::info, .flush_interval = 1h, .fd = pipe_ends[1]});
    logger.info("GET /posts 200 0.1ms");
    logger.warn("careful");
    logger.debug("not written");
  }
  ::close(pipe_ends[1]);
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0;)
    text.append(chunk, static_cast<std::size_t>(n));
  ::close(pipe_ends[0]);
  std::regex expected(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  GET /posts 200 0\.1ms\n)"
                      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  careful\n)");
  EXPECT_TRUE(std::regex_match(text, expected)) << text;
}

TEST(Logger, ControlCharactersInAMessageAreEscapedSoItStaysOneLine) {
  int pipe_ends[2];
  ASSERT_EQ(::pipe(pipe_ends), 0);
  {
    Logger logger(LogOptions{.level = LogLevel::info, .flush_interval = 1h, .fd = pipe_ends[1]});
    // What a path, a query or a header decoded from a hostile request could hold: a forged line after
    // CR LF, a terminal escape, a tab, a backslash that would make the escapes ambiguous.
    logger.info("GET /a\r\n2026-12-03T00:00:00.000Z INFO  forged\x1b[31m red\t\\x41");
  }
  ::close(pipe_ends[1]);
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0;)
    text.append(chunk, static_cast<std::size_t>(n));
  ::close(pipe_ends[0]);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  auto message = text.substr(text.find("INFO  ") + 6);
  EXPECT_EQ(message, "GET /a\\r\\n2026-12-03T00:00:00.000Z INFO  forged\\x1b[31m red\\t\\\\x41\n");
}

TEST(Logger, EscapingKeepsUtf8AndEscapesWhatIsNotTextByteByByte) {
  auto escaped = [](std::string_view text) {
    std::string out;
    append_log_escaped(out, text);
    return out;
  };
  EXPECT_EQ(escaped("plain text, as most lines are"), "plain text, as most lines are");
  EXPECT_EQ(escaped("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\xa5"),
            "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\xa5");
  EXPECT_EQ(escaped(std::string_view("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
  EXPECT_EQ(escaped("8-bit CSI \xc2\x9b"
                    "31m"),
            "8-bit CSI \\xc2\\x9b31m");                                 // a C1 control
  EXPECT_EQ(escaped("line\xe2\x80\xa8sep"), "line\\xe2\\x80\\xa8sep");  // U+2028
  EXPECT_EQ(escaped("bad \xff\xc3 utf8"), "bad \\xff\\xc3 utf8");       // not UTF-8
  EXPECT_EQ(escaped("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  EXPECT_EQ(escaped("cut \xe2\x9c"), "cut \\xe2\\x9c");
}

TEST(Logger, ASinkReceivesTheEscapedMessage) {
  Lines lines;
  Logger logger(quiet(lines.sink()));
  logger.warn("a\nb");
  logger.flush();
  EXPECT_EQ(lines.messages(), std::vector<std::string>{"a\\nb"});
}

TEST(Logger, FlushWithNothingLoggedReturns) {
  Logger logger(LogLevel::info);
  logger.flush();
  EXPECT_EQ(logger.dropped(), 0u);
}

}  // namespace
}  // namespace igniter
