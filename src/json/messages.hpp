#pragma once
// Issue builders shared by the readers (context.cpp) and the constraint checks (constraints.cpp).

#include <string>
#include <string_view>

#include "igniter/json/issue.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json::detail {

/// A number as zod prints it in messages: integers without a fraction, others in shortest form.
std::string format_number(const value& number);

/// too_small (`below` true) or too_big for a "string" (characters), "number" or "array" (elements).
Issue bound_issue(bool below, std::string_view type, value bound, bool exact = false);

/// invalid_string with zod's `validation` ("regex", "email").
Issue invalid_string_issue(std::string_view validation, std::string message);

/// invalid_enum_value: "Invalid enum value. Expected 'a' | 'b', received 'x'".
Issue enum_issue(const array& options, const value& received);

}  // namespace igniter::json::detail
