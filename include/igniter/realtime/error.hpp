#pragma once
/// Errors of the realtime module, as std::error_code values.

#include <system_error>

namespace igniter::realtime {

/// Why a realtime request or name was refused; `make_error_code(e).message()` is a readable reason.
enum class Error {
  channel_empty = 1,          ///< A channel name is empty.
  channel_too_long,           ///< A channel name is longer than kMaxChannelLength bytes.
  channel_invalid_character,  ///< A channel name holds a byte outside visible ASCII, or a comma.
  event_type_invalid,         ///< An event type is empty, too long, or not visible ASCII.
  event_too_large,            ///< An event's frame is larger than RealtimeOptions::max_event_bytes.
  overloaded,                 ///< A shard's publish inbox is full (RealtimeOptions::max_inbox_bytes).
  channel_reserved,           ///< A channel name starts with kReservedChannelPrefix (the framework's own).
};

/// The category of realtime errors ("igniter.realtime").
const std::error_category& error_category() noexcept;

/// Wraps `e` in a std::error_code of the realtime category.
inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace igniter::realtime

template <>
struct std::is_error_code_enum<igniter::realtime::Error> : std::true_type {};
