#pragma once
/// Query keys in the exact form the Igniter.js client registers its queries under.

#include <string>
#include <string_view>

#include "igniter/json/value.hpp"

namespace igniter::realtime {

/// The key of one query instance, e.g. `posts.getById:{"body":{},"params":{"id":"1"},"query":{}}`.
///
/// Revalidating this key refetches only that instance; revalidating the bare action key
/// (`posts.getById`) refetches all of them, since the client matches by prefix. Object keys are sorted
/// at every depth and values are written as JavaScript's `JSON.stringify` writes them (numbers included);
/// a null argument counts as an empty object.
std::string query_key(std::string_view action_key, const json::value& body = json::object(),
                      const json::value& params = json::object(), const json::value& query = json::object());

/// Appends `value` to `out` as JavaScript's `JSON.stringify` would after sorting object keys by
/// code unit (byte order for ASCII keys); non-finite numbers become `null`.
void append_canonical_json(std::string& out, const json::value& value);

}  // namespace igniter::realtime
