#include "server/revocation.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "server/app_impl.hpp"
#include "server/hub.hpp"
#include "server/sse_session.hpp"

namespace igniter::server {

realtime::Event revocation_event(std::string_view type, std::string_view scope) {
  return realtime::Event{.channel = std::string(kRevocationChannel),
                         .type = std::string(type),
                         .scopes = {std::string(scope)},
                         .data = nullptr,
                         .time = std::chrono::system_clock::now()};
}

const realtime::Frame& revoked_frame() {
  static const realtime::Frame frame = realtime::Frame::copy_of(kRevokedBytes);
  return frame;
}

std::vector<std::string> revocable_withheld(const realtime::ScopeSet& resolved,
                                            const std::vector<std::string>& held) {
  std::vector<std::string> out;
  for (const auto& scope : resolved.values())
    if (std::find(held.begin(), held.end(), scope) == held.end()) out.push_back(scope);
  return out;
}

namespace {

enum class Action { none, drop, close };

// What `event` asks of the streams holding its scopes. Anything else on a reserved channel (a newer
// version's control event, bytes a hostile Redis made up) is ignored: a control event only takes away.
Action action_of(const realtime::Event& event) {
  if (event.channel != kRevocationChannel || event.scopes.empty()) return Action::none;
  if (event.type == kRevokeType) return Action::close;
  if (event.type == kDropScopeType) return Action::drop;
  return Action::none;
}

bool targets(const realtime::Event& event, const std::string& scope) {
  return std::find(event.scopes.begin(), event.scopes.end(), scope) != event.scopes.end();
}

// Whether `session` holds (or withheld) one of the event's scopes.
bool reaches(const realtime::Event& event, const SseSession& session) {
  auto targeted = [&](const std::string& scope) { return targets(event, scope); };
  return std::any_of(session.scopes().values().begin(), session.scopes().values().end(), targeted) ||
         std::any_of(session.withheld().begin(), session.withheld().end(), targeted);
}

// Takes the event's scopes from the session (held and withheld).
void drop(const realtime::Event& event, SseSession& session) {
  auto targeted = [&](const std::string& scope) { return targets(event, scope); };
  auto kept = session.scopes().values();
  std::erase_if(kept, targeted);
  session.set_scopes(realtime::ScopeSet(std::move(kept)));
  auto withheld = session.withheld();
  std::erase_if(withheld, targeted);
  session.withhold(std::move(withheld));
}

}  // namespace

void Hub::apply_control(Shard& shard, const realtime::Event& event) {
  auto action = action_of(event);
  if (action == Action::none) return;
  auto& rt = *shard.realtime;
  // Ending a stream may unlink it from the list: collect first.
  std::vector<std::shared_ptr<SseSession>> reached;
  for (auto& session : rt.sessions)
    if (!session.closed() && reaches(event, session)) reached.push_back(session.shared_from_this());
  for (auto& session : reached) {
    if (action == Action::drop) {
      drop(event, *session);
    } else {
      // What was queued before the revocation still goes out, then the comment, then the close; the
      // client reconnects and its scopes are resolved again from its credentials.
      session->end(revoked_frame());
    }
  }
  // Runs inside a fan-out pass (Hub::start_pass), which writes to every session queued to, these too.
}

bool Hub::catch_up_revocations(SseSession& session, realtime::EventId since) {
  // The revocations recorded since the credentials were read (a logout racing the stream's opening);
  // later ones reach the session through the inbox once it is registered. A gap (the history moved past
  // `since` meanwhile) leaves it as it is: ending every new stream under load would loop reconnects.
  auto recorded =
      history_.replay_after(since, std::chrono::system_clock::now(),
                            [](const realtime::Event& e) { return action_of(e) != Action::none; });
  bool end = false;
  for (const auto& stored : recorded.events) {
    const auto& event = stored->event;
    if (!reaches(event, session)) continue;
    if (action_of(event) == Action::drop) {
      drop(event, session);
    } else {
      end = true;
    }
  }
  if (end) {  // nothing private before the close: whatever is replayed first is what anyone may read
    session.set_scopes({});
    session.withhold({});
  }
  return end;
}

}  // namespace igniter::server
