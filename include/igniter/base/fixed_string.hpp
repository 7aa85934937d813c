#pragma once
/// FixedString: a string literal as a template argument (`Param<"id", std::int64_t>`,
/// `json::fields<"user", "token">(user, token)`).

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace igniter {

/// A string literal usable as a template argument; compares by content.
template <std::size_t N>
struct FixedString {
  char chars[N]{};
  constexpr FixedString(const char (&text)[N]) { std::copy_n(text, N, chars); }
  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

}  // namespace igniter
