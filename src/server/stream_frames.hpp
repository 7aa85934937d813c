#pragma once
// The bytes a stream sends besides its events' own frames: the response head, a refusal, the `x:{}`
// alias of an event, the refetch (`revalidate [""]`) that announces a gap. Socket-free.

#include <chrono>
#include <string>
#include <string_view>

#include "igniter/server/response.hpp"
#include "realtime/frame.hpp"
#include "realtime/history.hpp"

namespace igniter::server {

/// The response head of every stream: the headers Igniter.js sends, and a body delimited by the close.
const realtime::Frame& stream_head();
/// The same head for a stream over TLS: with `Strict-Transport-Security: max-age=<hsts_max_age>` when it
/// is nonzero (TlsOptions::hsts_max_age), as every other HTTPS answer carries it.
realtime::Frame stream_head(std::chrono::seconds hsts_max_age);

/// A plain HTTP response with Connection: close, for refusing a stream outright; with HSTS when
/// `hsts_max_age` is nonzero (over TLS).
std::string serialize_closing(const Response& response, std::chrono::seconds hsts_max_age = {});

/// The Igniter.js per-action hook subscribes to `<channel>:{}` and only takes envelopes naming that exact
/// channel: its subscribers get the event re-encoded under the alias (once per shard and event).
realtime::Frame alias_frame(const realtime::StoredEvent& stored, std::string_view alias);

/// The revalidation of the empty key (Igniter.js clients refetch everything), framed with `id`.
realtime::Frame refetch_frame(realtime::EventId id, std::chrono::system_clock::time_point now);

/// An event's frame is `id: <id>\n` + its body: the most it can take on top of the body.
inline constexpr std::size_t kIdLineBytes = realtime::kMaxEventIdLength + 5;

}  // namespace igniter::server
