#include "store/redis/reply_reader.hpp"

#include <hiredis/hiredis.h>

#include <limits>
#include <new>

namespace igniter::store::redis {

// What the reply in progress has used. Reached from hiredis's callbacks through the task's privdata.
struct ReplyReader::Budget {
  std::size_t limit;
  std::size_t used = 0;
  bool exceeded = false;

  bool charge(std::size_t bytes) {
    if (exceeded || bytes > limit - used) {
      exceeded = true;
      return false;
    }
    used += bytes;
    return true;
  }
};

namespace {

using Budget = ReplyReader::Budget;

// The Reply a task fills: a slot of its parent's elements (sized by create_array), or a new root that
// hiredis hands back from redisReaderGetReply and frees with free_reply on an error.
Reply* slot(const redisReadTask* task) {
  auto* budget = static_cast<Budget*>(task->privdata);
  if (!task->parent) {
    if (!budget->charge(kReplyElementCost)) return nullptr;
    return new (std::nothrow) Reply;
  }
  auto* parent = static_cast<Reply*>(task->parent->obj);
  if (!parent || task->idx < 0 || static_cast<std::size_t>(task->idx) >= parent->elements.size())
    return nullptr;
  return &parent->elements[static_cast<std::size_t>(task->idx)];
}

void* create_string(const redisReadTask* task, char* text, std::size_t length) {
  auto* budget = static_cast<Budget*>(task->privdata);
  if (!budget->charge(length)) return nullptr;
  Reply* reply = slot(task);
  if (!reply) return nullptr;
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      reply->kind = Reply::Kind::error;
      break;
    case REDIS_REPLY_STATUS:
      reply->kind = Reply::Kind::status;
      break;
    default:
      reply->kind = Reply::Kind::string;
      break;
  }
  try {
    reply->text.assign(text, length);
  } catch (const std::bad_alloc&) {
    if (!task->parent) delete reply;
    return nullptr;
  }
  return reply;
}

void* create_array(const redisReadTask* task, int count) {
  auto* budget = static_cast<Budget*>(task->privdata);
  // Charged before anything is allocated: an announced count we would not accept costs nothing.
  if (count < 0 ||
      static_cast<std::size_t>(count) > std::numeric_limits<std::size_t>::max() / kReplyElementCost ||
      !budget->charge(static_cast<std::size_t>(count) * kReplyElementCost)) {
    return nullptr;
  }
  Reply* reply = slot(task);
  if (!reply) return nullptr;
  reply->kind = Reply::Kind::array;
  try {
    reply->elements.resize(static_cast<std::size_t>(count));
  } catch (const std::bad_alloc&) {
    if (!task->parent) delete reply;
    return nullptr;
  }
  return reply;
}

void* create_integer(const redisReadTask* task, long long value) {
  Reply* reply = slot(task);
  if (!reply) return nullptr;
  reply->kind = Reply::Kind::integer;
  reply->integer = value;
  return reply;
}

void* create_nil(const redisReadTask* task) {
  Reply* reply = slot(task);
  if (!reply) return nullptr;
  reply->kind = Reply::Kind::nil;
  return reply;
}

// hiredis frees only the root it was handed (on an error, or a reader freed mid-reply); elements live
// inside their parent.
void free_reply(void* reply) {
  delete static_cast<Reply*>(reply);
}

redisReplyObjectFunctions kFunctions = {
    .createString = create_string,
    .createArray = create_array,
    .createInteger = create_integer,
    .createNil = create_nil,
    .freeObject = free_reply,
};

}  // namespace

ReplyReader::ReplyReader(std::size_t max_reply_bytes)
    : budget_(std::make_unique<Budget>(Budget{.limit = max_reply_bytes})),
      reader_(redisReaderCreateWithFunctions(&kFunctions)) {
  if (!reader_) throw std::bad_alloc();
  reader_->privdata = budget_.get();
}

ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

std::size_t ReplyReader::used() const noexcept {
  return budget_->used + (reader_->len - reader_->pos);
}

// The bytes buffered of the reply in progress count too: a bulk string is only handed over once it
// has arrived whole, so without this a "$1000000000" header would make hiredis buffer a gigabyte.
std::error_code ReplyReader::check_buffered() {
  std::size_t buffered = reader_->len - reader_->pos;
  if (buffered > budget_->limit - std::min(budget_->used, budget_->limit)) error_ = errc::reply_too_large;
  return error_;
}

std::error_code ReplyReader::feed(const char* data, std::size_t size) {
  if (error_) return error_;
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) return error_ = errc::protocol;
  return {};
}

Result<std::optional<Reply>> ReplyReader::next() {
  if (error_) return error_;
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    return error_ =
               budget_->exceeded ? std::error_code(errc::reply_too_large) : std::error_code(errc::protocol);
  }
  if (!raw) {
    if (auto error = check_buffered()) return error;
    return std::optional<Reply>{};
  }
  std::unique_ptr<Reply> reply(static_cast<Reply*>(raw));
  budget_->used = 0;
  return std::optional<Reply>(std::move(*reply));
}

Result<std::vector<Reply>> parse_replies(std::string_view bytes, std::size_t max_reply_bytes) {
  ReplyReader reader(max_reply_bytes);
  std::vector<Reply> replies;
  // Fed in slices as a socket would deliver them, so that the budget sees what buffering would.
  constexpr std::size_t kSlice = 16 * 1024;
  for (std::size_t at = 0; at < bytes.size(); at += kSlice) {
    auto size = std::min(kSlice, bytes.size() - at);
    if (auto error = reader.feed(bytes.data() + at, size)) return error;
    for (;;) {
      auto reply = reader.next();
      if (!reply) return reply.error();
      if (!*reply) break;
      replies.push_back(std::move(**reply));
    }
  }
  return replies;
}

}  // namespace igniter::store::redis
