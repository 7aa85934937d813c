#pragma once
// RESP2 replies from bytes as they arrive, bounded. hiredis's reader does the parsing; the reply objects
// are built directly as our Reply values (hiredis's redisReplyObjectFunctions), each reply charged
// against a byte budget before anything is allocated, so that a hostile or broken server cannot make us
// hold more than max_reply_bytes per reply (a "$1000000000" header, a "*2147483647" array).
//
// No socket: the connection feeds it what it reads, and a fuzzer or a test can feed it any bytes.

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "igniter/base/result.hpp"
#include "igniter/store/redis_store.hpp"

struct redisReader;

namespace igniter::store::redis {

// What one element costs against the budget on top of its text: the Reply that holds it.
inline constexpr std::size_t kReplyElementCost = sizeof(Reply);

class ReplyReader {
 public:
  // `max_reply_bytes`: the most one reply may take (its strings plus kReplyElementCost per element,
  // and what is buffered of it while it arrives). Must be at least a few hundred bytes.
  explicit ReplyReader(std::size_t max_reply_bytes);
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Adds received bytes. After an error the reader is spent: every later call returns that error.
  std::error_code feed(const char* data, std::size_t size);
  // The next complete reply; nullopt until more bytes arrive. errc::protocol for bytes that are not
  // RESP2 (or nest deeper than 7 arrays), errc::reply_too_large beyond the budget.
  Result<std::optional<Reply>> next();
  // The bytes of the reply in progress and the budget they used (for tests).
  std::size_t used() const noexcept;

  struct Budget;

 private:
  std::error_code check_buffered();

  std::unique_ptr<Budget> budget_;
  redisReader* reader_ = nullptr;
  std::error_code error_;
};

// Every complete reply in `bytes`, in order (bytes of an incomplete last reply are ignored), or the
// first error (errc::protocol, errc::reply_too_large). A function of bytes only: what to fuzz.
Result<std::vector<Reply>> parse_replies(std::string_view bytes, std::size_t max_reply_bytes);

}  // namespace igniter::store::redis
