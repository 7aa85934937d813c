#include "server/hub_replay.hpp"

#include <sys/random.h>

#include <array>
#include <random>

#include "realtime/frame.hpp"
#include "server/app_impl.hpp"
#include "server/hub.hpp"
#include "server/presence.hpp"
#include "server/revocation.hpp"
#include "server/sse_session.hpp"
#include "server/stream_frames.hpp"

namespace igniter::server {

namespace asio = boost::asio;
using SystemClock = std::chrono::system_clock;

namespace {

std::array<std::uint64_t, 2> random_token() {
  // The kernel's CSPRNG in one call (a std::random_device per stream cost ~2% of a connection storm's CPU:
  // it probes the CPU with cpuid, which traps under a hypervisor). 16 bytes never come back short.
  std::array<std::uint64_t, 2> token{};
  if (::getrandom(token.data(), sizeof token, 0) == static_cast<ssize_t>(sizeof token)) return token;
  std::random_device random;
  auto word = [&] { return (static_cast<std::uint64_t>(random()) << 32) | random(); };
  return {word(), word()};
}

// Caps the kernel's send buffer of a stream's socket, so that a client that stops reading holds `bytes` of
// kernel memory (not tcp_wmem's maximum, 4 MiB by default, which autotuning grants loopback and fast
// links from the handshake on) and fills its own queue, whose bound cuts it, that much sooner.
void cap_send_buffer(Stream& stream, std::size_t bytes) {
  if (bytes == 0) return;
  // Linux doubles what SO_SNDBUF asks for (half of the buffer is its bookkeeping) and clamps the request
  // to net.core.wmem_max: ask for half, so that the socket's buffer is `bytes` (as `ss -m` shows it).
  boost::system::error_code ignored;  // a socket the client already closed fails its first write anyway
  stream.socket().set_option(asio::socket_base::send_buffer_size(static_cast<int>(bytes / 2)), ignored);
}

}  // namespace

void Hub::start_stream(Shard& shard, Stream stream, Grant grant, Admission admission,
                       const std::string& last_event_id, AddressSlot slot) {
  cap_send_buffer(stream, options_.stream_send_buffer_bytes);
  auto id = next_connection_id();
  auto hsts = stream.is_tls() ? app_.options.tls.hsts_max_age : std::chrono::seconds(0);
  auto session = std::make_shared<SseSession>(*this, shard, std::move(stream), id, random_token(),
                                              realtime::ScopeSet(std::move(grant.held)), std::move(slot));
  session->ledger().set_channels(admission.channels);  // before register_session: no change can race it
  session->withhold(std::move(grant.withheld));
  // A revocation that passed while the credentials were checked: applied before anything is replayed.
  bool revoked = catch_up_revocations(*session, grant.resolved_after);
  auto now = SystemClock::now();

  // Resume: what the client missed, from the history, filtered like live delivery would be.
  ChannelMatch match(admission.channels);
  auto plan = plan_resume(history_, last_event_id, now, [&](const realtime::Event& e) {
    return match.any(e.channel) && session->scopes().admits(e.scopes);
  });
  if (plan.resync) resyncs.fetch_add(1, std::memory_order_relaxed);

  realtime::ConnectedInfo info;
  info.channels = admission.channels;
  info.time = now;
  info.retry = options_.retry_hint;
  info.connection_id = std::to_string(id);
  info.token = session->token_text();
  info.refused = admission.refused;
  info.scopes = session->scopes().values();
  info.position = plan.position;
  info.resync = plan.resync;

  session->enqueue(hsts.count() > 0 ? stream_head(hsts) : stream_head());
  session->enqueue(realtime::Frame::copy_of(realtime::encode_connected(info)));
  for (auto& [channel, data] : admission.initial) {
    realtime::Event first{.channel = channel, .data = std::move(data), .time = now};
    session->enqueue(realtime::Frame::copy_of(realtime::encode_event_body(first)));
  }
  if (plan.resync) {
    // Igniter.js clients refetch everything on a revalidation of the empty key; ours also read `resync`.
    session->enqueue(refetch_frame(plan.position, now));
  }
  if (session->closed()) {
    // The first frames alone overflowed its bound (max_pending_bytes): cut off as a slow client before it
    // was registered, subscribed or counted present; nothing of it must outlive this scope.
    shard.realtime->flush_dirty();  // its entry in the dirty list goes while it is alive
    app_.logger.warn("realtime: stream " + std::to_string(id) +
                     " closed as it opened: its first frames (head, " +
                     "connected, first data of its stream channels) exceed max_pending_bytes (" +
                     std::to_string(options_.max_pending_bytes) + ")");
    return;
  }
  register_session(id, session);
  if (presence_) presence_->opened(id, std::move(grant.member), admission.channels);  // until unregistered
  session->watch();
  session->replayed(plan.position);
  if (replay_page(*session, plan.events, match)) {
    go_live(*session, admission.channels, plan.replayed_through);
  } else {
    // More to replay than the bound holds: the rest follows page by page as the client reads it
    // (continue_replay), then live events. Cutting it off instead would make it come back forever.
    session->page_rest(std::move(admission.channels));
  }
  if (revoked) session->end(revoked_frame());
  shard.realtime->flush_dirty();
}

bool Hub::replay_page(SseSession& session, const std::vector<realtime::StoredEventPtr>& events,
                      const ChannelMatch& channels) {
  auto& rt = *session.shard().realtime;
  std::uint64_t replayed = 0;  // replays count as deliveries (RealtimeStats::events_delivered)
  bool complete = true;
  for (const auto& stored : events) {
    realtime::Frame plain, aliased;
    if (channels.plain(stored->event.channel)) plain = stored->frame;
    if (channels.alias(stored->event.channel)) aliased = alias_frame(*stored, stored->event.channel + ":{}");
    if (plain.size() + aliased.size() > session.room()) {
      complete = false;
      // One event larger than the whole bound can never be sent: that is a slow client after all.
      if (session.queue_empty()) session.enqueue(plain ? plain : aliased);
      break;
    }
    replayed += (plain && session.try_enqueue(plain)) + (aliased && session.try_enqueue(aliased));
    session.replayed(stored->event.id);
  }
  rt.delivered.store(rt.delivered.load(std::memory_order_relaxed) + replayed, std::memory_order_relaxed);
  return complete;
}

void Hub::go_live(SseSession& session, const std::vector<std::string>& channels,
                  std::uint64_t replayed_through) {
  auto& rt = *session.shard().realtime;
  for (const auto& channel : channels) rt.subscribe(session, channel);
  session.skip_through(replayed_through);
}

void Hub::continue_replay(SseSession& session) {
  if (session.closed()) return;
  ChannelMatch channels(session.paging_channels());
  auto keep = [&](const realtime::Event& e) {
    return channels.any(e.channel) && session.scopes().admits(e.scopes);
  };
  auto replay = history_.replay_after(session.replay_cursor(), SystemClock::now(), keep);
  std::uint64_t replayed_through = session.replay_cursor().seq;
  if (replay.gap) {
    // The history moved past the client while it was catching up: announce the gap, then go live.
    auto latest = history_.latest_id();
    resyncs.fetch_add(1, std::memory_order_relaxed);
    session.enqueue(refetch_frame(latest, SystemClock::now()));
    replayed_through = latest.seq;
  } else if (!replay_page(session, replay.events, channels)) {
    return;  // the next page goes when this one has been read
  } else {
    replayed_through = session.replay_cursor().seq;
  }
  if (session.closed()) return;
  // Caught up: this page was read from the history on this thread, so every later event is still on its
  // way to this shard's inbox and arrives live after the subscription below.
  auto live = session.finish_paging();
  go_live(session, live, replayed_through);
}

}  // namespace igniter::server
