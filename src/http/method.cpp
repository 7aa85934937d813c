#include "igniter/http/method.hpp"

#include <array>

namespace igniter {

namespace {
constexpr std::array<std::string_view, kMethodCount> kNames{"GET",   "HEAD",   "POST",   "PUT",
                                                            "PATCH", "DELETE", "OPTIONS"};
}

std::string_view to_string(Method method) noexcept {
  return kNames[static_cast<std::size_t>(method)];
}

std::optional<Method> parse_method(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == text) return static_cast<Method>(i);
  return std::nullopt;
}

}  // namespace igniter
