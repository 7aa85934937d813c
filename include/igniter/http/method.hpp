#pragma once
/// HTTP request methods.

#include <cstdint>
#include <optional>
#include <string_view>

namespace igniter {

/// The methods an action can answer; queries are GET, mutations the others.
enum class Method : std::uint8_t { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS };

inline constexpr std::size_t kMethodCount = 7;

inline constexpr Method GET = Method::GET;
inline constexpr Method POST = Method::POST;
inline constexpr Method PUT = Method::PUT;
inline constexpr Method PATCH = Method::PATCH;
inline constexpr Method DELETE = Method::DELETE;

/// "GET", "POST", ...
std::string_view to_string(Method method) noexcept;

/// The method named by `text` (exact, upper case), or nothing for methods we do not serve.
std::optional<Method> parse_method(std::string_view text) noexcept;

}  // namespace igniter
