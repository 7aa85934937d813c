#include "server/hub_subscriptions.hpp"

#include <charconv>
#include <memory>

#include "realtime/frame.hpp"
#include "server/app_impl.hpp"
#include "server/hub.hpp"
#include "server/hub_replay.hpp"
#include "server/presence.hpp"
#include "server/sse_session.hpp"

namespace igniter::server {

Unsubscribed remove_channels(std::vector<std::string> held, const std::vector<std::string>& unsubscribe) {
  Unsubscribed out;
  for (const auto& name : unsubscribe) {
    out.removed.emplace_back(name);  // as subscribed: x or x:{}
    std::erase(held, name);
  }
  out.held = std::move(held);
  return out;
}

std::uint64_t parse_connection_id(std::string_view text) noexcept {
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc{} ? id : 0;
}

void Hub::register_session(std::uint64_t id, const std::shared_ptr<SseSession>& session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_[id] = session;
}

void Hub::unregister_session(std::uint64_t id) {
  if (presence_) presence_->closed(id);
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(id);
}

Response Hub::change_subscriptions(Ctx& ctx, const SubscriptionChange& change) {
  std::shared_ptr<SseSession> session;
  {
    std::lock_guard lock(sessions_mutex_);
    if (auto it = sessions_.find(parse_connection_id(change.connectionId)); it != sessions_.end())
      session = it->second.lock();
  }
  if (!session) return ctx.response.not_found("No open stream with this connectionId");
  if (!session->token_matches(change.token))
    return ctx.response.forbidden("Token does not match this stream");
  auto& ledger = session->ledger();
  // After the token check: connection ids are sequential, so nobody else can spend a stream's budget.
  if (!ledger.take_change(ChannelLedger::Clock::now()))
    return ctx.response.error(429, "ERR_TOO_MANY_REQUESTS", "Too many subscription changes on this stream")
        .header("Retry-After", "1");

  // The app-wide procedures (a session from a cookie) run here as they ran on the stream's own request:
  // the framework's internal actions skip them, yet stream procedures and the guard may rely on them.
  for (const auto& procedure : app_.routes.procedures)
    if (auto early = procedure.run(ctx)) return std::move(*early);

  // One change of this stream at a time, from reading what it holds to queueing the result: the
  // channel limit counts what the stream will hold once the changes queued before this one apply.
  auto held_lock = ledger.hold();
  auto [held, removed_names] = remove_channels(ledger.channels(), change.unsubscribe);
  auto removed = std::make_shared<std::vector<std::string>>(std::move(removed_names));
  auto admission = std::make_shared<Admission>(admit(ctx, change.subscribe, held));

  auto apply = [this, session, admission, removed] {
    if (session->closed() || session->ending()) return;  // ending (revoked): it subscribes to nothing more
    if (presence_) presence_->changed(session->id(), *removed, admission->channels);
    auto& rt = *session->shard().realtime;
    auto now = std::chrono::system_clock::now();
    for (auto& [channel, data] : admission->initial) {
      realtime::Event first{.channel = channel, .data = data, .time = now};
      session->enqueue(realtime::Frame::copy_of(realtime::encode_event_body(first)));
    }
    if (session->paging()) {
      // Still catching up: the change applies to the channels it goes live on (and replays).
      auto& channels = session->paging_channels();
      for (const auto& channel : *removed) std::erase(channels, channel);
      for (const auto& channel : admission->channels)
        if (!holds_plain(channels, channel)) channels.push_back(channel);
      return;
    }
    for (const auto& channel : *removed) rt.unsubscribe(*session, channel);
    for (const auto& channel : admission->channels) rt.subscribe(*session, channel);
  };
  // Queued in event order, not waited for: an event published after this response is fanned out after
  // the change, so it reaches the new channels and not the removed ones.
  if (!run_in_event_order(session->shard(), std::move(apply)))
    return ctx.response.error(503, "ERR_SERVICE_UNAVAILABLE", "Realtime hub overloaded, retry later")
        .header("Retry-After", "1");
  ledger.set_channels(std::move(held));

  json::array refused;
  for (const auto& r : admission->refused)
    refused.push_back(json::object{{"channel", r.channel}, {"reason", r.reason}});
  return ctx.response.success(json::object{{"subscribed", boost::json::value_from(admission->channels)},
                                           {"refused", std::move(refused)},
                                           {"unsubscribed", boost::json::value_from(*removed)}});
}

}  // namespace igniter::server
