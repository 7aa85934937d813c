#include "igniter/realtime/event.hpp"

#include <charconv>

#include "base/error_category.hpp"
#include "igniter/realtime/error.hpp"

namespace igniter::realtime {

std::size_t format_event_id(EventId id, char (&out)[kMaxEventIdLength]) noexcept {
  char* const end = out + kMaxEventIdLength;
  // The buffer fits any two 64-bit values; the checks keep the compiler (and a future change) honest.
  auto epoch = std::to_chars(out, end - 1, id.epoch, 36);
  if (epoch.ec != std::errc{}) return 0;
  *epoch.ptr = '-';
  auto seq = std::to_chars(epoch.ptr + 1, end, id.seq, 10);
  if (seq.ec != std::errc{}) return 0;
  return static_cast<std::size_t>(seq.ptr - out);
}

std::string to_string(EventId id) {
  char buffer[kMaxEventIdLength];
  return std::string(buffer, format_event_id(id, buffer));
}

namespace {

// Accepts exactly the digits to_chars writes: no sign, no upper case, no leading zero except "0".
bool canonical_digits(std::string_view text, int base) noexcept {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return false;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool letter = base == 36 && c >= 'a' && c <= 'z';
    if (!digit && !letter) return false;
  }
  return true;
}

bool parse_number(std::string_view text, int base, std::uint64_t& out) noexcept {
  if (!canonical_digits(text, base)) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

}  // namespace

std::optional<EventId> parse_event_id(std::string_view text) noexcept {
  if (text.size() > kMaxEventIdLength) return std::nullopt;
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  EventId id;
  if (!parse_number(text.substr(0, dash), 36, id.epoch)) return std::nullopt;
  if (!parse_number(text.substr(dash + 1), 10, id.seq)) return std::nullopt;
  return id;
}

namespace {

const char* describe(Error value) noexcept {
  switch (value) {
    case Error::channel_empty:
      return "channel name is empty";
    case Error::channel_too_long:
      return "channel name is longer than 200 bytes";
    case Error::channel_invalid_character:
      return "channel name may hold only visible ASCII characters other than ','";
    case Error::event_type_invalid:
      return "event type must be 1 to 64 visible ASCII characters";
    case Error::event_too_large:
      return "event is larger than the realtime event size limit (max_event_bytes)";
    case Error::overloaded:
      return "realtime hub overloaded: events are published faster than they are fanned out";
    case Error::channel_reserved:
      return "channel names starting with \"__igniter.\" are reserved";
  }
  return nullptr;
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const base::EnumCategory<Error> category("igniter.realtime", describe, "unknown realtime error");
  return category;
}

}  // namespace igniter::realtime
