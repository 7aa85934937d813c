#pragma once
/// SSE frames: immutable encoded bytes shared by every subscriber, and the encoders that make them.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igniter/json/value.hpp"
#include "igniter/realtime/event.hpp"

namespace igniter::realtime {

/// Immutable, reference-counted bytes of one SSE frame, encoded once and queued for many subscribers.
///
/// One allocation holds the count, the size and the bytes, and the handle is one pointer: queueing a
/// frame for a subscriber copies 8 bytes and increments an atomic counter, never the bytes.
/// Handles may be copied and released from any thread; the bytes never change.
class Frame {
 public:
  /// An empty handle (no bytes, `!frame`).
  Frame() noexcept = default;

  /// A frame holding a copy of `bytes`.
  static Frame copy_of(std::string_view bytes) { return join({bytes}); }
  /// A frame holding the concatenation of `parts`, in one allocation.
  static Frame join(std::initializer_list<std::string_view> parts);

  Frame(const Frame& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Frame(Frame&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  Frame& operator=(const Frame& other) noexcept {
    Frame(other).swap(*this);
    return *this;
  }
  Frame& operator=(Frame&& other) noexcept {
    Frame(std::move(other)).swap(*this);
    return *this;
  }
  void swap(Frame& other) noexcept { std::swap(block_, other.block_); }
  ~Frame() {
    if (block_ != nullptr && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(block_);
  }

  const char* data() const noexcept { return block_ == nullptr ? nullptr : block_->bytes(); }
  std::size_t size() const noexcept { return block_ == nullptr ? 0 : block_->size; }
  std::string_view view() const noexcept { return {data(), size()}; }
  explicit operator bool() const noexcept { return block_ != nullptr; }

  /// Handles sharing these bytes (0 for an empty handle); for tests and metrics only.
  std::uint32_t use_count() const noexcept {
    return block_ == nullptr ? 0 : block_->refs.load(std::memory_order_relaxed);
  }

 private:
  struct Block {
    std::atomic<std::uint32_t> refs;
    std::uint32_t size;
    const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  };
  static_assert(alignof(Block) <= alignof(std::max_align_t));

  static void destroy(Block* block) noexcept;

  Block* block_ = nullptr;
};

/// The keepalive comment sent on idle streams.
inline constexpr std::string_view kKeepaliveBytes = ": keepalive\n\n";

/// Writes `time` as ISO-8601 UTC with milliseconds (`2026-11-27T17:46:02.078Z`), as JavaScript's
/// `Date.prototype.toISOString` does for years 0 to 9999.
void append_timestamp(std::string& out, std::chrono::system_clock::time_point time);
/// `append_timestamp` into a new string.
std::string format_timestamp(std::chrono::system_clock::time_point time);

/// The full SSE frame of `event`: `id: <id>\nevent: <type>\ndata: <envelope>\n\n`.
///
/// The envelope is `{"scopes":[...],"channel":...,"data":<payload>,"timestamp":"<ISO>"}` with `scopes`
/// only when non-empty, keys in that order (the Igniter.js server's bytes). CR, LF and NUL in the type
/// are dropped (an empty type becomes "message"), so no value can split the frame; callers should still
/// refuse such types up front with `check_event_type`. Everything else travels inside JSON, which never
/// holds a raw line break.
std::string encode_event(const Event& event);

/// The frame of `event` without its `id:` line, so that the id can be prefixed later (see History).
std::string encode_event_body(const Event& event);

/// `id: <id>\n` followed by `body` (from `encode_event_body`), as one frame.
Frame frame_with_id(EventId id, std::string_view body);

/// A channel the connection asked for and may not read, with the reason.
struct RefusedChannel {
  std::string channel;
  std::string reason;
};

/// Everything the first frame of a stream says.
///
/// The first three fields are what Igniter.js sends; the others are our extensions (PROTOCOL.md §5),
/// each omitted from the JSON when it has its default value, so a frame with only the first three is
/// byte-identical to Igniter's.
struct ConnectedInfo {
  std::vector<std::string> channels;               ///< Channels the connection is subscribed to.
  std::chrono::system_clock::time_point time;      ///< `timestamp`.
  std::optional<std::chrono::milliseconds> retry;  ///< `retry:` line before the event, when set.
  std::string connection_id;                       ///< `connectionId`: names the stream for live changes.
  std::string token;                               ///< `token`: authorizes live changes of this stream.
  std::vector<RefusedChannel> refused;             ///< `refused`: [{"channel","reason"}].
  std::optional<std::vector<std::string>> scopes;  ///< `scopes`: scopes granted to this connection.
  /// Where the stream continues: the `id:` line of this frame (so that a native EventSource resumes
  /// from here) and `lastEventId`. Must be the client's own resume point while a replay follows, else
  /// the history's latest id.
  std::optional<EventId> position;
  bool resync = false;  ///< `resync: true`: events were lost, the client must refetch its state.
};

/// The `connected` frame: `[retry: <ms>\n][id: <id>\n]event: connected\ndata: {...}\n\n`.
std::string encode_connected(const ConnectedInfo& info);

/// The payload of a revalidation event: `{"queryKeys":[...],"data":<data>,"timestamp":"<ISO>"}`,
/// without `data` when it is null. `queryKeys` is always present (the Igniter.js client requires it);
/// `[""]` asks every client to refetch everything.
json::value revalidate_payload(const std::vector<std::string>& query_keys, json::value data,
                               std::chrono::system_clock::time_point time);

/// The payload Igniter.js would send for `data`: objects get a `timestamp` member (kept if present),
/// other values are returned unchanged.
json::value stamped_payload(json::value data, std::chrono::system_clock::time_point time);

}  // namespace igniter::realtime
