// Redis replies as the store and the cluster take them: RESP bytes through hiredis's reader (fed in small
// pieces, as reads arrive), each reply through the store's conversion to store::Reply (and push and error
// classification), then through the cluster's stream-entry conversion (Cluster::deliver, as XRANGE and
// XREAD answers reach it, and every string as a stream id through Cluster::to_event_id).
//
// Input: one control byte (bits 0-5: feed size - 1), then the bytes Redis sends.
//
// The conversions are private to their files (src/store/redis/connection.cpp, src/server/cluster.cpp), so
// this target compiles those files into itself instead of linking them: it sees their internal functions,
// and the linker takes nothing else from the libraries' copies. Rename here when they are renamed.

#include <hiredis/hiredis.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "igniter/base/log.hpp"
#include "igniter/base/result.hpp"
#include "igniter/json/json.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/store/redis_store.hpp"
#include "support.hpp"

// Cluster::deliver is private; this target is its only other caller.
#pragma clang diagnostic ignored "-Wkeyword-macro"
#define private public
#include "server/cluster.hpp"
#undef private

#include "server/cluster.cpp"          // NOLINT: see above
#include "store/redis/connection.cpp"  // NOLINT: see above

namespace {

using igniter::store::Reply;

std::size_t count_strings(const Reply& reply, std::uint64_t epoch) {
  std::size_t n = 1;
  if (reply.kind == Reply::Kind::string || reply.kind == Reply::Kind::status) {
    (void)igniter::server::Cluster::to_event_id(epoch, reply.text);
    (void)igniter::server::parse_base36(reply.text);
  }
  for (const auto& element : reply.elements) n += count_strings(element, epoch);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::fuzz::Input input(data, size);
  const std::size_t piece = (input.take() & 0x3f) + 1;
  const auto bytes = input.rest();

  static igniter::Logger logger(igniter::LogLevel::off);
  igniter::server::Cluster cluster(nullptr, "igniter:realtime:events", 42, 100, logger);
  std::size_t events = 0;
  cluster.callbacks_.event = [&](igniter::realtime::Event event) {
    ++events;
    if (event.id.epoch != 42) igniter::fuzz::fail("an event left the cluster's epoch");
  };

  redisReader* reader = redisReaderCreate();
  bool broken = false;
  for (std::size_t at = 0; at < bytes.size() && !broken; at += piece) {
    auto chunk = bytes.substr(at, piece);
    if (redisReaderFeed(reader, chunk.data(), chunk.size()) != REDIS_OK) break;
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
        broken = true;  // the connection would fail with errc::protocol
        break;
      }
      if (!raw) break;
      Reply reply = igniter::store::redis::convert(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      (void)igniter::store::redis::is_push(reply);
      if (reply.is_error()) (void)igniter::store::redis::error_from_reply(reply);
      count_strings(reply, 42);
      // As Cluster::start hands it an XRANGE answer, and read_loop the streams of an XREAD answer.
      if (reply.kind == Reply::Kind::array) {
        cluster.deliver(reply);
        for (const auto& stream : reply.elements)
          if (stream.kind == Reply::Kind::array && stream.elements.size() == 2)
            cluster.deliver(stream.elements[1]);
      }
    }
  }
  redisReaderFree(reader);
  return 0;
}
