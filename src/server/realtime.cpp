#include "igniter/server/realtime.hpp"

#include <stdexcept>
#include <system_error>

#include "realtime/channel.hpp"
#include "realtime/frame.hpp"
#include "server/hub.hpp"
#include "server/presence.hpp"
#include "server/revocation.hpp"

namespace igniter {

namespace {

realtime::EventId or_throw(Result<realtime::EventId> id, const char* what) {
  if (!id) throw std::system_error(id.error(), what);
  return *id;
}

}  // namespace

realtime::EventId Realtime::publish(std::string_view channel, json::value data,
                                    realtime::PublishOptions options) {
  return or_throw(try_publish(channel, std::move(data), std::move(options)), "realtime publish");
}

realtime::EventId Realtime::revalidate(std::vector<std::string> keys, std::vector<std::string> scopes,
                                       json::value data) {
  return or_throw(try_revalidate(std::move(keys), std::move(scopes), std::move(data)), "realtime revalidate");
}

Result<realtime::EventId> Realtime::try_publish(std::string_view channel, json::value data,
                                                realtime::PublishOptions options) {
  auto name = realtime::canonical_channel(channel);
  if (auto ec = realtime::check_channel_name(name))
    throw std::invalid_argument("publish: invalid channel \"" + std::string(channel) + "\": " + ec.message());
  if (auto ec = realtime::check_event_type(options.type))
    throw std::invalid_argument("publish: invalid event type \"" + options.type + "\": " + ec.message());
  realtime::Event event{.channel = std::string(name),
                        .type = std::move(options.type),
                        .scopes = std::move(options.scopes),
                        .data = std::move(data),
                        .time = std::chrono::system_clock::now()};
  return hub_.publish(std::move(event));
}

Result<realtime::EventId> Realtime::try_revalidate(std::vector<std::string> keys,
                                                   std::vector<std::string> scopes, json::value data) {
  auto now = std::chrono::system_clock::now();
  realtime::Event event{.channel = std::string(realtime::kRevalidationChannel),
                        .type = std::string(realtime::kRevalidateType),
                        .scopes = std::move(scopes),
                        .data = realtime::revalidate_payload(keys, std::move(data), now),
                        .time = now};
  return hub_.publish(std::move(event));
}

namespace {

Result<void> publish_revocation(server::Hub& hub, std::string_view type, std::string_view scope) {
  if (scope.empty()) return std::make_error_code(std::errc::invalid_argument);
  auto id = hub.publish(server::revocation_event(type, scope));
  if (!id) return id.error();
  return {};
}

}  // namespace

Result<void> Realtime::revoke(std::string_view scope) {
  return publish_revocation(hub_, server::kRevokeType, scope);
}

Result<void> Realtime::drop_scope(std::string_view scope) {
  return publish_revocation(hub_, server::kDropScopeType, scope);
}

Realtime& Realtime::scopes(ScopeResolver resolver) {
  hub_.scope_resolver = std::move(resolver);
  return *this;
}

Realtime& Realtime::authorize(ChannelGuard guard) {
  hub_.channel_guard = std::move(guard);
  return *this;
}

RealtimeStats Realtime::stats() const {
  return hub_.stats();
}

Realtime& Realtime::track_presence(PresenceOptions options) {
  hub_.track_presence(std::move(options), *this);
  return *this;
}

Result<Presence> Realtime::try_presence(std::string_view channel) const {
  auto* tracker = hub_.presence();
  if (!tracker) return std::make_error_code(std::errc::invalid_argument);
  return tracker->read(channel);
}

Presence Realtime::presence(std::string_view channel) const {
  auto* tracker = hub_.presence();
  if (!tracker || !tracker->tracks(channel))
    throw std::invalid_argument("presence: channel \"" + std::string(channel) +
                                "\" is not tracked (PresenceOptions::channels, Realtime::track_presence)");
  auto presence = tracker->read(channel);
  if (!presence) throw std::system_error(presence.error(), "realtime presence");
  return std::move(*presence);
}

}  // namespace igniter
