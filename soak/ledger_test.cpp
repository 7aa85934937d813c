// The soak's checker on its own: what it calls lost, duplicated, leaked or justified (no sockets, no clock).
#include "ledger.hpp"

#include <gtest/gtest.h>

namespace soak {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0{};

Ledger make_ledger() {
  return Ledger(100, 300s, 2s);
}

Note note(std::uint64_t seq, std::int64_t to = -1, Clock::duration at = 0s) {
  return Note{
      .seq = seq, .publisher = 0, .number = seq, .to = to, .sent = t0 + at, .answered = t0 + at + 1ms};
}

Chain chain(std::int64_t user) {
  Chain c;
  c.user = user;
  c.notes.push_back(Interval{.from_id = true});
  return c;
}

TEST(SoakLedger, EveryEventAfterTheConnectedIdIsDue) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 10, false, false, t0);
  for (std::uint64_t s = 9; s <= 13; ++s) ledger.published(note(s));
  ledger.notification(c, 11, 0, 11, -1, t0);
  ledger.notification(c, 13, 0, 13, -1, t0);
  auto f = ledger.check({&c}, true);
  EXPECT_EQ(f.lost, 1u);  // 12; 9 and 10 were before the stream opened
  EXPECT_EQ(f.failures(), 1u);
}

TEST(SoakLedger, RunningCheckOnlyCountsGapsBeforeTheLastReceivedEvent) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 0, false, false, t0);
  for (std::uint64_t s = 1; s <= 5; ++s) ledger.published(note(s));
  ledger.notification(c, 1, 0, 1, -1, t0);
  ledger.notification(c, 3, 0, 3, -1, t0);
  EXPECT_EQ(ledger.check({&c}, false).lost, 1u);  // 2; 4 and 5 may still come
  EXPECT_EQ(ledger.check({&c}, true).lost, 3u);
}

TEST(SoakLedger, ADuplicateAcrossAResumeIsAFailure) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 0, false, false, t0);
  ledger.published(note(1));
  ledger.notification(c, 1, 0, 1, -1, t0);
  ledger.connected(c, 1, false, true, t0);
  ledger.notification(c, 1, 0, 1, -1, t0);
  auto f = ledger.check({&c}, true);
  EXPECT_EQ(f.duplicates, 1u);
  EXPECT_EQ(f.lost, 0u);
}

TEST(SoakLedger, AnEventForAnotherUserIsALeakAndNotDue) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 0, false, false, t0);
  ledger.published(note(1, 2));
  ledger.published(note(2, 1));
  ledger.notification(c, 1, 0, 1, 2, t0);
  auto f = ledger.check({&c}, true);
  EXPECT_EQ(f.scope_leaks, 1u);
  EXPECT_EQ(f.lost, 1u);  // 2 was for user 1
}

TEST(SoakLedger, ALiveSubscriptionIsDueFromItsAnswerOn) {
  auto ledger = make_ledger();
  Chain c;
  c.user = 1;
  ledger.connected(c, 0, false, false, t0);
  c.notes.push_back(Interval{.from_id = false, .from_time = t0 + 10s});
  ledger.published(note(1, -1, 5s));   // before: optional
  ledger.published(note(2, -1, 11s));  // after: due
  EXPECT_EQ(ledger.check({&c}, true).lost, 1u);
}

TEST(SoakLedger, EventsJustBeforeAnUnsubscribeAreNotDue) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 0, false, false, t0);
  c.notes[0].until = t0 + 10s;
  ledger.published(note(1, -1, 5s));   // answered 5 s before: due
  ledger.published(note(2, -1, 9s));   // within the 2 s grace: optional
  ledger.published(note(3, -1, 12s));  // after: not due
  EXPECT_EQ(ledger.check({&c}, true).lost, 1u);
}

TEST(SoakLedger, AResyncWithinTheHistoryIsLossAndBeyondItIsJustified) {
  auto ledger = make_ledger();
  auto near = chain(1), far = chain(1);
  ledger.connected(near, 0, false, false, t0);
  ledger.connected(far, 0, false, false, t0);
  for (std::uint64_t s = 1; s <= 5; ++s) ledger.published(note(s));
  ledger.connected(near, 5, true, true, t0 + 1s);
  ledger.connected(far, 5, true, true, t0 + 301s);
  EXPECT_EQ(ledger.check({&near}, true).failures(), 1u);
  auto f = ledger.check({&far}, true);
  EXPECT_EQ(f.resyncs_justified, 1u);
  EXPECT_EQ(f.failures(), 0u);
}

TEST(SoakLedger, ARevalidationNobodyReceivedIsCounted) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 0, false, false, t0);
  ledger.revalidation_due(-1);
  ledger.revalidation_due(-1);
  ledger.revalidation(c, 1, -1, false, t0);
  EXPECT_EQ(ledger.check({&c}, true).unreceived_revals, 1u);
}

TEST(SoakLedger, AnEventWhosePayloadIsAnotherPublishersIsAMismatch) {
  auto ledger = make_ledger();
  auto c = chain(1);
  ledger.connected(c, 0, false, false, t0);
  ledger.published(note(1));
  ledger.notification(c, 1, 3, 99, -1, t0);
  EXPECT_EQ(ledger.check({&c}, true).mismatched, 1u);
}

}  // namespace
}  // namespace soak
