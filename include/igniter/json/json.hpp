#pragma once
/// The json module: Boost.JSON values plus typed decoding, validation rules, encoding and JSON Schema
/// for described structs. Include the narrower headers when only one part is needed.

#include "igniter/json/decode.hpp"
#include "igniter/json/encode.hpp"
#include "igniter/json/issue.hpp"
#include "igniter/json/rules.hpp"
#include "igniter/json/schema.hpp"
#include "igniter/json/value.hpp"
