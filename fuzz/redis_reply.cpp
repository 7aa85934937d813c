// Redis replies as the store and the cluster take them: RESP bytes through store::redis::parse_replies (a
// 1 MiB budget per reply) and, split into pieces as reads arrive, through the ReplyReader the connection
// feeds (both must see the same replies, or fail alike); each reply through the cluster's stream parsers
// (stream::parse_entries as for XRANGE, parse_xread as for XREAD, max_deleted_id as for XINFO STREAM),
// each entry's "e" field through decode_event, and the raw bytes through parse_stream_id.
//
// Input: one control byte (bits 0-5: feed size - 1), then the bytes Redis sends.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/store/error.hpp"
#include "igniter/store/redis_store.hpp"
#include "server/cluster_stream.hpp"
#include "store/redis/reply_reader.hpp"
#include "support.hpp"

namespace {

namespace stream = igniter::server::stream;
using igniter::store::Reply;

constexpr std::size_t kMaxReplyBytes = 1 << 20;
constexpr std::string_view kKey = "igniter:realtime:events";

bool same(const Reply& a, const Reply& b) {
  if (a.kind != b.kind || a.text != b.text || a.integer != b.integer ||
      a.elements.size() != b.elements.size())
    return false;
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same(a.elements[i], b.elements[i])) return false;
  return true;
}

void check_entries(const igniter::Result<std::vector<stream::StreamEntry>>& entries) {
  if (!entries) return;
  for (const auto& entry : *entries) {
    if (entry.id.millis > stream::kMaxStreamMillis) igniter::fuzz::fail("an entry id past kMaxStreamMillis");
    // The id must go back to Redis as the text it came as (XREAD's next start).
    auto again = stream::parse_stream_id(entry.id.text());
    if (!again || *again != entry.id) igniter::fuzz::fail("a stream id does not round-trip");
    (void)stream::to_event_id(42, entry.id);
    if (const auto* payload = entry.field("e")) {
      if (auto event = stream::decode_event(*payload)) {
        // What decode_event accepts, encode_event writes back as an event that decodes the same.
        auto back = stream::decode_event(stream::encode_event(*event));
        if (!back || back->channel != event->channel || back->type != event->type)
          igniter::fuzz::fail("a decoded event does not survive encode_event");
      }
    }
  }
}

void check_id(std::string_view text) {
  if (auto id = stream::parse_stream_id(text)) {
    if (id->millis > stream::kMaxStreamMillis)
      igniter::fuzz::fail("parse_stream_id took millis past the bound");
    auto again = stream::parse_stream_id(id->text());
    if (!again || *again != *id) igniter::fuzz::fail("a stream id does not round-trip");
  }
}

void check_reply(const Reply& reply) {
  check_entries(stream::parse_entries(reply));
  check_entries(stream::parse_xread(reply, kKey));
  if (auto deleted = stream::max_deleted_id(reply))
    if (deleted->millis > stream::kMaxStreamMillis) igniter::fuzz::fail("max_deleted_id past the bound");
  if (reply.kind == Reply::Kind::string || reply.kind == Reply::Kind::status) check_id(reply.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::fuzz::Input input(data, size);
  const std::size_t piece = (input.take() & 0x3f) + 1;
  const auto bytes = input.rest();

  check_id(bytes);

  auto whole = igniter::store::redis::parse_replies(bytes, kMaxReplyBytes);
  if (whole)
    for (const auto& reply : *whole) check_reply(reply);

  // The same bytes as the connection reads them: in pieces, each reply taken as soon as it is complete.
  igniter::store::redis::ReplyReader reader(kMaxReplyBytes);
  std::vector<Reply> replies;
  std::error_code failed;
  for (std::size_t at = 0; at < bytes.size() && !failed; at += piece) {
    auto chunk = bytes.substr(at, piece);
    if ((failed = reader.feed(chunk.data(), chunk.size()))) break;
    for (;;) {
      auto next = reader.next();
      if (!next) {
        failed = next.error();
        break;
      }
      if (!*next) break;
      replies.push_back(std::move(**next));
    }
  }
  // Pieces and whole must read the same replies and find the same bytes invalid. (The byte budget may
  // end them at different points: it also counts what is buffered, which depends on how bytes arrive.)
  const auto too_large = make_error_code(igniter::store::errc::reply_too_large);
  if (whole) {
    if (failed && failed != too_large) igniter::fuzz::fail("bytes failed in pieces but not whole");
    for (std::size_t i = 0; i < std::min(replies.size(), whole->size()); ++i)
      if (!same(replies[i], (*whole)[i])) igniter::fuzz::fail("pieces and whole read a reply differently");
    if (!failed && replies.size() != whole->size())
      igniter::fuzz::fail("pieces and whole read different replies");
  } else if (!failed && whole.error() != too_large) {
    igniter::fuzz::fail("bytes failed whole but not in pieces");
  }
  return 0;
}
