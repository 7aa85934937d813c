#include "realtime/history.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>
#include <vector>

namespace igniter::realtime {
namespace {

using namespace std::chrono;
using Clock = system_clock;

constexpr std::uint64_t kEpoch = 1'000'000;
const Clock::time_point kStart = Clock::time_point{} + hours{24 * 365 * 50};

Event message(std::string channel, Clock::time_point time, json::value data = nullptr) {
  Event event;
  event.channel = std::move(channel);
  event.data = std::move(data);
  event.time = time;
  return event;
}

std::vector<std::uint64_t> seqs(const ReplayResult& result) {
  std::vector<std::uint64_t> out;
  for (const auto& stored : result.events) out.push_back(stored->event.id.seq);
  return out;
}

TEST(History, RecordAssignsConsecutiveIdsOfItsEpoch) {
  History history(kEpoch);
  EXPECT_EQ(history.latest_id(), (EventId{kEpoch, 0}));
  EXPECT_EQ(history.record(message("a", kStart))->event.id, (EventId{kEpoch, 1}));
  EXPECT_EQ(history.record(message("a", kStart))->event.id, (EventId{kEpoch, 2}));
  EXPECT_EQ(history.latest_id(), (EventId{kEpoch, 2}));
  EXPECT_EQ(history.size(), 2u);
}

TEST(History, StoredFrameIsTheEncodedEvent) {
  History history(kEpoch);
  Event event = message("notifications.stream", kStart, json::parse(R"({"text":"hi"})"));
  event.scopes = {"user:42"};
  const auto stored = history.record(event);
  EXPECT_EQ(stored->frame.view(), encode_event(stored->event));
  EXPECT_TRUE(
      stored->frame.view().starts_with("id: " + to_string(EventId{kEpoch, 1}) + "\nevent: message\n"));
}

TEST(History, ReplayReturnsEventsAfterTheIdInOrderOnce) {
  History history(kEpoch);
  for (int i = 0; i < 5; ++i) history.record(message("a", kStart));
  const auto result = history.replay_after(EventId{kEpoch, 2}, kStart);
  EXPECT_FALSE(result.gap);
  EXPECT_EQ(seqs(result), (std::vector<std::uint64_t>{3, 4, 5}));
  // The replayed events are the stored ones: same bytes as the live delivery.
  EXPECT_EQ(result.events.front()->frame.view(), encode_event(result.events.front()->event));
}

TEST(History, ReplayFromTheNewestIdIsEmptyAndNoGap) {
  History history(kEpoch);
  for (int i = 0; i < 3; ++i) history.record(message("a", kStart));
  const auto result = history.replay_after(history.latest_id(), kStart);
  EXPECT_FALSE(result.gap);
  EXPECT_TRUE(result.events.empty());
}

TEST(History, ReplayFromTheStartReturnsEverything) {
  History history(kEpoch);
  EXPECT_FALSE(history.replay_after(EventId{kEpoch, 0}, kStart).gap);  // nothing published yet
  for (int i = 0; i < 3; ++i) history.record(message("a", kStart));
  const auto result = history.replay_after(EventId{kEpoch, 0}, kStart);
  EXPECT_FALSE(result.gap);
  EXPECT_EQ(seqs(result), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(History, GapWhenEventsAfterTheIdWerePrunedByCount) {
  History history(kEpoch, {.max_events = 3});
  for (int i = 0; i < 5; ++i) history.record(message("a", kStart));
  EXPECT_EQ(history.size(), 3u);
  const auto lost = history.replay_after(EventId{kEpoch, 1}, kStart);
  EXPECT_TRUE(lost.gap);
  EXPECT_EQ(seqs(lost), (std::vector<std::uint64_t>{3, 4, 5}));  // what is still there
  const auto complete = history.replay_after(EventId{kEpoch, 2}, kStart);
  EXPECT_FALSE(complete.gap);  // event 2 was pruned, but the client already had it
  EXPECT_EQ(seqs(complete), (std::vector<std::uint64_t>{3, 4, 5}));
}

TEST(History, OldestEventsGoPastTheByteBoundAndTheNewestAlwaysStays) {
  // Each event ~10 KB of frame, counted twice: 100 KB holds four of them.
  History history(kEpoch, {.max_events = 1000, .max_bytes = 100'000});
  for (int i = 0; i < 10; ++i) history.record(message("a", kStart, json::string(std::string(10'000, 'x'))));
  EXPECT_EQ(history.size(), 4u);
  auto replay = history.replay_after(EventId{kEpoch, 5}, kStart);
  EXPECT_TRUE(replay.gap);
  EXPECT_EQ(seqs(history.replay_after(EventId{kEpoch, 6}, kStart)),
            (std::vector<std::uint64_t>{7, 8, 9, 10}));
  // One event past the whole bound is kept alone: a resume right before it still gets it.
  history.record(message("a", kStart, json::string(std::string(200'000, 'y'))));
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(seqs(history.replay_after(EventId{kEpoch, 10}, kStart)), (std::vector<std::uint64_t>{11}));
}

TEST(History, GapWhenEventsAfterTheIdAgedOut) {
  History history(kEpoch, {.max_age = minutes{5}});
  history.record(message("a", kStart));
  history.record(message("a", kStart + minutes{1}));
  history.record(message("a", kStart + minutes{2}));
  // At start + 6 min the first two are older than 5 min.
  const auto result = history.replay_after(EventId{kEpoch, 0}, kStart + minutes{6} + milliseconds{1});
  EXPECT_TRUE(result.gap);
  EXPECT_EQ(seqs(result), std::vector<std::uint64_t>{3});
  EXPECT_FALSE(history.replay_after(EventId{kEpoch, 2}, kStart + minutes{6}).gap);
  EXPECT_EQ(history.size(), 1u);
}

TEST(History, EventExactlyMaxAgeOldIsStillRetained) {
  History history(kEpoch, {.max_age = minutes{5}});
  history.record(message("a", kStart));
  const auto result = history.replay_after(EventId{kEpoch, 0}, kStart + minutes{5});
  EXPECT_FALSE(result.gap);
  EXPECT_EQ(seqs(result), std::vector<std::uint64_t>{1});
}

TEST(History, GapWhenTheIdIsFromAnotherEpoch) {
  History history(kEpoch);
  history.record(message("a", kStart));
  const auto result = history.replay_after(EventId{kEpoch + 1, 1}, kStart);
  EXPECT_TRUE(result.gap);
  EXPECT_TRUE(result.events.empty());
}

TEST(History, GapWhenTheIdIsInTheFuture) {
  History history(kEpoch);
  history.record(message("a", kStart));
  const auto result = history.replay_after(EventId{kEpoch, 2}, kStart);
  EXPECT_TRUE(result.gap);
  EXPECT_TRUE(result.events.empty());
}

TEST(History, LatestIdSurvivesPruning) {
  History history(kEpoch, {.max_age = seconds{1}});
  history.record(message("a", kStart));
  history.prune(kStart + seconds{2});
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.latest_id(), (EventId{kEpoch, 1}));
  EXPECT_FALSE(history.replay_after(EventId{kEpoch, 1}, kStart + seconds{2}).gap);
  EXPECT_TRUE(history.replay_after(EventId{kEpoch, 0}, kStart + seconds{2}).gap);
}

TEST(History, WithoutRetentionEveryMissedEventIsAGap) {
  History history(kEpoch, {.max_events = 0});
  history.record(message("a", kStart));
  EXPECT_EQ(history.size(), 0u);
  EXPECT_TRUE(history.replay_after(EventId{kEpoch, 0}, kStart).gap);
  EXPECT_FALSE(history.replay_after(EventId{kEpoch, 1}, kStart).gap);
}

TEST(History, ReplayFilterSelectsTheConnectionsEvents) {
  History history(kEpoch);
  history.record(message("a", kStart));
  history.record(message("b", kStart));
  history.record(message("a", kStart));
  const auto result = history.replay_after(EventId{kEpoch, 0}, kStart,
                                           [](const Event& event) { return event.channel == "a"; });
  EXPECT_FALSE(result.gap);
  EXPECT_EQ(seqs(result), (std::vector<std::uint64_t>{1, 3}));
}

TEST(History, AppendKeepsOnlyNewerIdsOfItsEpoch) {
  History history(kEpoch);
  auto stored = [](EventId id) {
    Event event = message("a", kStart);
    event.id = id;
    return std::make_shared<const StoredEvent>(StoredEvent{event, Frame::copy_of(encode_event(event))});
  };
  EXPECT_TRUE(history.append(stored(EventId{kEpoch, 5})));
  EXPECT_FALSE(history.append(stored(EventId{kEpoch, 5})));
  EXPECT_FALSE(history.append(stored(EventId{kEpoch, 4})));
  EXPECT_FALSE(history.append(stored(EventId{kEpoch + 1, 9})));
  EXPECT_TRUE(history.append(stored(EventId{kEpoch, 9})));  // ids of a shared log need not be consecutive
  EXPECT_EQ(history.latest_id(), (EventId{kEpoch, 9}));
  EXPECT_FALSE(history.replay_after(EventId{kEpoch, 5}, kStart).gap);
  EXPECT_EQ(seqs(history.replay_after(EventId{kEpoch, 5}, kStart)), std::vector<std::uint64_t>{9});
}

TEST(History, HistoryStartingLaterReportsEarlierIdsAsGaps) {
  History history(kEpoch, {}, 100);
  EXPECT_EQ(history.latest_id(), (EventId{kEpoch, 100}));
  EXPECT_EQ(history.record(message("a", kStart))->event.id.seq, 101u);
  EXPECT_TRUE(history.replay_after(EventId{kEpoch, 50}, kStart).gap);
  EXPECT_FALSE(history.replay_after(EventId{kEpoch, 100}, kStart).gap);
}

TEST(History, ConcurrentRecordsGetUniqueIdsInHistoryOrder) {
  History history(kEpoch, {.max_events = 100'000});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::vector<std::uint64_t>> assigned(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        assigned[t].push_back(history.record(message("c" + std::to_string(t), kStart))->event.id.seq);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto all = history.replay_after(EventId{kEpoch, 0}, kStart);
  EXPECT_FALSE(all.gap);
  ASSERT_EQ(all.events.size(), std::size_t{kThreads * kPerThread});
  for (std::size_t i = 0; i < all.events.size(); ++i) {
    ASSERT_EQ(all.events[i]->event.id.seq, i + 1);  // history order is id order, no holes, no duplicates
    ASSERT_TRUE(all.events[i]->frame.view().starts_with("id: " + to_string(all.events[i]->event.id) + "\n"));
  }
  for (const auto& ids : assigned) EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
}

TEST(History, RandomEpochsHaveEightCharacters) {
  for (int i = 0; i < 20; ++i) {
    const std::uint64_t epoch = random_epoch();
    EXPECT_NE(epoch, 0u);
    EXPECT_EQ(to_string(EventId{epoch, 1}).size(), 10u);
  }
}

TEST(History, ResumeFilterRunsWithoutTheLockSoPublishersAreNeverStalledByIt) {
  History history(kEpoch);
  for (int i = 0; i < 10; ++i) history.record(message("a", kStart));
  bool publisher_finished_during_filter = false;
  std::future<void> publish;  // out here: waiting for it under a held lock would never end
  auto result = history.replay_after(EventId{kEpoch, 0}, kStart, [&](const Event& e) {
    if (e.id.seq == 1) {
      // A publisher on another thread while a far-behind client is being filtered.
      publish = std::async(std::launch::async, [&] { history.record(message("b", kStart)); });
      publisher_finished_during_filter = publish.wait_for(seconds(5)) == std::future_status::ready;
    }
    return e.id.seq % 2 == 0;
  });
  publish.get();
  EXPECT_TRUE(publisher_finished_during_filter);
  EXPECT_EQ(seqs(result), (std::vector<std::uint64_t>{2, 4, 6, 8, 10}));
  EXPECT_EQ(history.latest_id().seq, 11u);
}

}  // namespace
}  // namespace igniter::realtime
