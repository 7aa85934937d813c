#pragma once
// UTF-8 checks for what the server echoes: JSON answers and frames are declared UTF-8 whatever bytes a
// client put in a path, a header or a channel name.

#include <string>
#include <string_view>

namespace igniter {

/// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view text) noexcept;

/// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD. In serialized JSON
/// such bytes can only be inside strings (its syntax is ASCII), so the result is the same JSON, now valid.
std::string to_valid_utf8(std::string_view text);

}  // namespace igniter
