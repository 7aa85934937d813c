#include "server/hub_fanout.hpp"

#include <boost/asio/post.hpp>

#include "realtime/channel.hpp"
#include "server/app_impl.hpp"
#include "server/hub.hpp"
#include "server/sse_session.hpp"
#include "server/stream_frames.hpp"

namespace igniter::server {

namespace asio = boost::asio;

void Hub::fan_out_locked(const realtime::StoredEventPtr& stored) {
  published.fetch_add(1, std::memory_order_relaxed);
  for (auto* shard : shards_) {
    auto& inbox = *shard->realtime->inbox;
    // Local publishes checked the room first; an event from the cluster's stream was recorded already.
    if (!inbox.has_room(stored->frame.size())) {
      overflow_locked(*shard, stored->event.id);
      continue;
    }
    // A burst costs one wake-up per shard; while a pass runs, it takes the inbox when it ends.
    if (inbox.push({.event = stored, .task = {}}))
      asio::post(shard->io, [this, shard] { start_pass(*shard); });
  }
}

void Hub::overflow_locked(Shard& shard, realtime::EventId at) {
  auto& inbox = *shard.realtime->inbox;
  auto dropped = inbox.drop_events();
  resyncs.fetch_add(1, std::memory_order_relaxed);
  app_.logger.error("realtime: shard " + std::to_string(shard.index) + " fell " + std::to_string(dropped) +
                    " events behind its inbox bound (max_inbox_bytes): its streams refetch");
  // In order with the subscription changes still waiting; framed with the id of the event that did not
  // fit, so that later events keep ascending ids.
  auto frame = refetch_frame(at, std::chrono::system_clock::now());
  bool first = inbox.push({.event = nullptr, .task = [&shard, frame] {
                             for (auto& session : shard.realtime->sessions) session.enqueue(frame);
                           }});
  if (first) asio::post(shard.io, [this, &shard] { start_pass(shard); });
}

void Hub::start_pass(Shard& shard) {
  auto& rt = *shard.realtime;
  if (rt.pass_running) return;
  // The sessions the last pass wrote before events that came during it, in the order it wrote them: the
  // same place in this pass, so that none waits more than a pass.
  rt.pass.clear();
  rt.pass.swap(rt.next);
  // What is left waits for the next pass (the inbox is bounded: max_inbox_bytes). Events that reached
  // nobody here write nothing: take on, else the rest would wait for a publish that never wakes us.
  do {
    rt.pass_taken = take_inbox(shard, pass_budget(options_.max_pending_bytes));
  } while (rt.pass.empty() && rt.pass_taken > 0);
  if (rt.pass.empty()) return;
  rt.pass_cursor = 0;
  rt.pass_running = true;
  continue_pass(shard);
}

std::size_t Hub::take_inbox(Shard& shard, std::size_t budget) {
  auto& rt = *shard.realtime;
  auto batch = rt.inbox->take(budget);
  std::size_t taken = 0;
  std::uint64_t last_seq = 0;
  for (auto& item : batch) {
    if (item.task) {
      taken += realtime::Inbox::kTaskBytes;
      try {
        item.task();
      } catch (const std::exception& error) {  // never across the loop's callback
        app_.logger.error(std::string("realtime: a shard task failed: ") + error.what());
      }
      continue;
    }
    const auto& stored = item.event;
    taken += stored->frame.size();
    last_seq = stored->event.id.seq;
    if (realtime::is_reserved_channel(stored->event.channel)) {  // a control event: applied, not delivered
      apply_control(shard, stored->event);
      continue;
    }
    rt.index.for_each(stored->event.channel,
                      [&](realtime::Subscriber& s) { static_cast<SseSession&>(s).deliver(*stored); });
    rt.alias.assign(stored->event.channel).append(":{}");
    realtime::Frame aliased;
    rt.index.for_each(rt.alias, [&](realtime::Subscriber& s) {
      if (!aliased) aliased = alias_frame(*stored, rt.alias);
      static_cast<SseSession&>(s).deliver(*stored, aliased);
    });
  }
  // Every frame of the batch is queued: one write per socket carries all of them. A session that a pass
  // has yet to write to is in its list already; the others join the pass starting now, or while one
  // runs, the next one.
  auto& into = rt.pass_running ? rt.next : rt.pass;
  for (auto* session : rt.dirty)
    if (session->schedule()) into.push_back(session->shared_from_this());
  rt.dirty.clear();
  // Publishers whose answers wait for their events to be taken (when_taken) may go on. seq_cst pairs
  // with when_taken: either its look sees this take, or this sees its waiter.
  if (last_seq != 0) rt.taken_seq.store(last_seq, std::memory_order_seq_cst);
  if (!batch.empty() && taken_awaited_.load(std::memory_order_seq_cst)) release_taken();
  return taken;
}

void Hub::continue_pass(Shard& shard) {
  auto& rt = *shard.realtime;
  auto end = std::min(rt.pass.size(), rt.pass_cursor + pass_slice(rt.pass.size()));
  for (; rt.pass_cursor < end; ++rt.pass_cursor) rt.pass[rt.pass_cursor]->flush_batched();
  rt.send_batch();
  if (rt.pass_cursor < rt.pass.size()) {
    // Events published meanwhile ride this pass for the sessions it has not written yet, as long as
    // no session can be handed more than the pass's budget (half its bound) by this pass.
    const auto budget = pass_budget(options_.max_pending_bytes);
    if (rt.pass_taken + max_event_frame() <= budget && rt.inbox->bytes() > 0)
      rt.pass_taken += take_inbox(shard, budget - rt.pass_taken);
    asio::post(shard.io, [this, &shard] { continue_pass(shard); });  // behind what became ready meanwhile
    return;
  }
  rt.pass.clear();
  rt.pass_running = false;
  start_pass(shard);  // what arrived during this pass, and the sessions written before it arrived
}

}  // namespace igniter::server
