#include "server/revocation.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "realtime/frame.hpp"
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

void Hub::apply_control(Shard& shard, const realtime::Event& event) {
  // Anything else on a reserved channel (a newer version's control event, bytes a hostile Redis made up)
  // is ignored: a control event only ever takes away.
  if (event.channel != kRevocationChannel || event.scopes.empty()) return;
  const bool close = event.type == kRevokeType;
  if (!close && event.type != kDropScopeType) return;
  auto& rt = *shard.realtime;
  auto holds = [&](const SseSession& session) {
    return std::any_of(event.scopes.begin(), event.scopes.end(),
                       [&](const std::string& scope) { return session.scopes().contains(scope); });
  };
  // Ending a stream may unlink it from the list: collect first.
  std::vector<std::shared_ptr<SseSession>> holders;
  for (auto& session : rt.sessions)
    if (!session.closed() && holds(session)) holders.push_back(session.shared_from_this());
  if (holders.empty()) return;
  static const realtime::Frame kRevoked = realtime::Frame::copy_of(kRevokedBytes);
  for (auto& session : holders) {
    if (close) {
      // What was queued before the revocation still goes out, then the comment, then the close; the
      // client reconnects and its scopes are resolved again from its credentials.
      session->end(kRevoked);
    } else {
      auto kept = session->scopes().values();
      std::erase_if(kept, [&](const std::string& scope) {
        return std::find(event.scopes.begin(), event.scopes.end(), scope) != event.scopes.end();
      });
      session->set_scopes(realtime::ScopeSet(std::move(kept)));
    }
  }
  // Runs inside a fan-out pass (Hub::start_pass), which writes to every session queued to, these too.
}

}  // namespace igniter::server
