#pragma once
// The Redis Stream replies the cluster reads (XRANGE, XREAD, XINFO STREAM), checked field by field: Redis
// bytes are input like network bytes. Every function here is pure (no socket, no Redis): a fuzzer feeds
// it replies from store::redis::parse_replies().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igniter/base/result.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/store/redis_store.hpp"

namespace igniter::server::stream {

/// A stream entry id, `<millis>-<seq>`.
struct StreamId {
  std::uint64_t millis = 0;
  std::uint64_t seq = 0;

  friend constexpr auto operator<=>(const StreamId&, const StreamId&) = default;
  /// The text Redis takes back ("1700000000000-3").
  std::string text() const;
};

/// Largest millis an id may carry: millis·2^16 must fit an EventId's 64-bit sequence (year 10889).
inline constexpr std::uint64_t kMaxStreamMillis = (std::uint64_t{1} << 48) - 1;

/// Parses `<digits>-<digits>` strictly: no sign, space or other character, at most 20 digits per part,
/// each part within 64 bits, millis at most kMaxStreamMillis. nullopt otherwise.
std::optional<StreamId> parse_stream_id(std::string_view text) noexcept;

/// The EventId of a stream entry: millis·2^16 + seq (seq capped at 0xffff, which Redis reaches only with
/// more than 65 535 entries in one millisecond; History drops an id that does not increase).
realtime::EventId to_event_id(std::uint64_t epoch, StreamId id) noexcept;

/// One entry: its id and its field/value pairs, in order.
struct StreamEntry {
  StreamId id;
  std::vector<std::pair<std::string, std::string>> fields;

  /// The value of the first field named `name`, or nullptr.
  const std::string* field(std::string_view name) const noexcept;
};

/// An XRANGE/XREVRANGE reply: an array of [id, [field, value, ...]], ids and fields bulk strings, an even
/// number of fields. errc::protocol on any other shape, and for ids that parse_stream_id() refuses.
Result<std::vector<StreamEntry>> parse_entries(const store::Reply& reply);

/// An XREAD reply for `key`: nil (BLOCK timed out) is no entries; otherwise an array of [key, entries]
/// pairs, of which only `key` is taken. errc::protocol on any other shape.
Result<std::vector<StreamEntry>> parse_xread(const store::Reply& reply, std::string_view key);

/// From an XINFO STREAM reply (a flat array of name/value pairs): `max-deleted-entry-id` (Redis 7),
/// the highest id ever deleted or trimmed. nullopt when absent or malformed.
std::optional<StreamId> max_deleted_id(const store::Reply& reply);

/// Events travel as one JSON field "e": {"c":channel,"t":type,"s":[scopes],"d":data,"ts":millis}.
std::string encode_event(const realtime::Event& event);
/// The event in `text`, or nullopt when it is not one this cluster writes: malformed JSON, a missing or
/// mistyped member, a channel or type that the hub would refuse, or a time outside 1970..2255.
std::optional<realtime::Event> decode_event(std::string_view text);

}  // namespace igniter::server::stream
