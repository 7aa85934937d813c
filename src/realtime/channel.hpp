#pragma once
/// Channel names: the Igniter.js alias form, validation, and the comma lists of the SSE request.

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace igniter::realtime {

/// Longest accepted channel name, in bytes.
inline constexpr std::size_t kMaxChannelLength = 200;
/// Longest accepted event type, in bytes.
inline constexpr std::size_t kMaxEventTypeLength = 64;

/// Channel names starting with this are the framework's (control events between processes, such as
/// revocations): no client may subscribe to one and no app may publish on one.
inline constexpr std::string_view kReservedChannelPrefix = "__igniter.";

/// True for a name in the framework's reserved space (kReservedChannelPrefix).
inline bool is_reserved_channel(std::string_view name) noexcept {
  return name.starts_with(kReservedChannelPrefix);
}

/// The channel `name` designates: the Igniter.js per-action alias `posts.list:{}` is `posts.list`.
/// Only one trailing `:{}` is removed; the result views `name`.
std::string_view canonical_channel(std::string_view name) noexcept;

/// Why `name` cannot be a channel (Error::channel_*), or a success code. Valid names are 1 to
/// kMaxChannelLength bytes of visible ASCII (0x21-0x7E) other than ',' (the list separator), so they
/// never need escaping in a URL list and never hold a space, control character or line break. Names
/// starting with kReservedChannelPrefix are refused (Error::channel_reserved).
std::error_code check_channel_name(std::string_view name) noexcept;

/// Error::event_type_invalid unless `type` is 1 to kMaxEventTypeLength bytes of visible ASCII.
std::error_code check_event_type(std::string_view type) noexcept;

/// The items of a decoded comma-separated list (`channels=`, `scopes=`), in order, empty items dropped.
std::vector<std::string> split_comma_list(std::string_view list);

}  // namespace igniter::realtime
