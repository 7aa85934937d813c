#include "base/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace igniter {

bool valid_utf8(std::string_view text) noexcept {
  auto* s = reinterpret_cast<const unsigned char*>(text.data());
  auto* end = s + text.size();
  while (s < end) {
    // ASCII, the bulk of any JSON answer, eight bytes at a time.
    for (std::uint64_t chunk; end - s >= 8; s += 8) {
      std::memcpy(&chunk, s, 8);
      if (chunk & 0x8080808080808080ULL) break;
    }
    if (s == end) break;
    if (*s < 0x80) {
      ++s;
      continue;
    }
    std::size_t length = *s >= 0xC2 && *s <= 0xDF   ? 2
                         : *s >= 0xE0 && *s <= 0xEF ? 3
                         : *s >= 0xF0 && *s <= 0xF4 ? 4
                                                    : 0;
    if (length == 0 || static_cast<std::size_t>(end - s) < length) return false;
    unsigned char low = 0x80, high = 0xBF;
    if (*s == 0xE0) low = 0xA0;
    if (*s == 0xED) high = 0x9F;
    if (*s == 0xF0) low = 0x90;
    if (*s == 0xF4) high = 0x8F;
    if (s[1] < low || s[1] > high) return false;
    for (std::size_t i = 2; i < length; ++i)
      if ((s[i] & 0xC0) != 0x80) return false;
    s += length;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  while (!text.empty()) {
    std::size_t good = 0;
    // The longest valid prefix, one sequence at a time.
    while (good < text.size()) {
      auto byte = static_cast<unsigned char>(text[good]);
      std::size_t length = byte < 0x80                    ? 1
                           : byte >= 0xC2 && byte <= 0xDF ? 2
                           : byte >= 0xE0 && byte <= 0xEF ? 3
                                                          : 4;
      if (good + length > text.size() || !valid_utf8(text.substr(good, length))) break;
      good += length;
    }
    out.append(text.substr(0, good));
    if (good == text.size()) break;
    out.append("\xEF\xBF\xBD");
    text.remove_prefix(good + 1);
  }
  return out;
}

}  // namespace igniter
