#include "channel.hpp"

#include <algorithm>

#include "igniter/realtime/error.hpp"

namespace igniter::realtime {

namespace {
bool visible_ascii(char c) noexcept {
  return c >= 0x21 && c <= 0x7E;
}
}  // namespace

std::string_view canonical_channel(std::string_view name) noexcept {
  constexpr std::string_view kAliasSuffix = ":{}";
  if (name.size() > kAliasSuffix.size() && name.ends_with(kAliasSuffix))
    name.remove_suffix(kAliasSuffix.size());
  return name;
}

std::error_code check_channel_name(std::string_view name) noexcept {
  if (name.empty()) return Error::channel_empty;
  if (name.size() > kMaxChannelLength) return Error::channel_too_long;
  const bool clean =
      std::all_of(name.begin(), name.end(), [](char c) { return visible_ascii(c) && c != ','; });
  if (!clean) return Error::channel_invalid_character;
  if (is_reserved_channel(name)) return Error::channel_reserved;
  return {};
}

std::error_code check_event_type(std::string_view type) noexcept {
  if (type.empty() || type.size() > kMaxEventTypeLength ||
      !std::all_of(type.begin(), type.end(), visible_ascii)) {
    return Error::event_type_invalid;
  }
  return {};
}

std::vector<std::string> split_comma_list(std::string_view list) {
  std::vector<std::string> items;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = list.substr(0, comma);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace igniter::realtime
