#include "realtime/outbound_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace igniter::realtime {
namespace {

std::string pending_text(const OutboundQueue& queue) {
  std::vector<ConstBuffer> slices(queue.pending_frames() + 1);
  const std::size_t n = queue.gather(slices);
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text.append(slices[i].data, slices[i].size);
  return text;
}

TEST(OutboundQueue, IsSmallAndHoldsNoHeapStorageWhileEmpty) {
  static_assert(sizeof(OutboundQueue) <= 32);
  OutboundQueue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.heap_slots(), 0u);
  EXPECT_EQ(queue.limit(), OutboundQueue::kDefaultLimit);
}

TEST(OutboundQueue, OneFrameNeedsNoRing) {
  OutboundQueue queue;
  ASSERT_TRUE(queue.push(Frame::copy_of("abc")));
  EXPECT_EQ(queue.heap_slots(), 0u);
  EXPECT_EQ(queue.pending_bytes(), 3u);
  EXPECT_EQ(pending_text(queue), "abc");
}

TEST(OutboundQueue, RefusesAFrameThatWouldExceedTheLimitAndStaysUnchanged) {
  OutboundQueue queue(100);
  ASSERT_TRUE(queue.push(Frame::copy_of(std::string(60, 'a'))));
  EXPECT_FALSE(queue.push(Frame::copy_of(std::string(41, 'b'))));
  EXPECT_EQ(queue.pending_bytes(), 60u);
  EXPECT_EQ(queue.pending_frames(), 1u);
  EXPECT_EQ(pending_text(queue), std::string(60, 'a'));
  EXPECT_TRUE(queue.push(Frame::copy_of(std::string(40, 'c'))));  // exactly at the limit
  EXPECT_EQ(queue.pending_bytes(), 100u);
  EXPECT_FALSE(queue.push(Frame::copy_of("d")));
}

TEST(OutboundQueue, RefusesAFrameLargerThanTheLimitEvenWhenEmpty) {
  OutboundQueue queue(10);
  EXPECT_FALSE(queue.push(Frame::copy_of(std::string(11, 'x'))));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.heap_slots(), 0u);
}

TEST(OutboundQueue, WrittenBytesFreeRoomUnderTheLimit) {
  OutboundQueue queue(10);
  ASSERT_TRUE(queue.push(Frame::copy_of("0123456789")));
  EXPECT_FALSE(queue.push(Frame::copy_of("a")));
  queue.consume(4);
  EXPECT_TRUE(queue.push(Frame::copy_of("abcd")));
  EXPECT_EQ(pending_text(queue), "456789abcd");
}

TEST(OutboundQueue, EmptyFramesAreAcceptedAndIgnored) {
  OutboundQueue queue(1);
  EXPECT_TRUE(queue.push(Frame()));
  EXPECT_TRUE(queue.push(Frame::copy_of("")));
  EXPECT_TRUE(queue.empty());
}

TEST(OutboundQueue, GatherListsEveryPendingFrameInOrder) {
  OutboundQueue queue;
  for (const char* text : {"one,", "two,", "three"}) ASSERT_TRUE(queue.push(Frame::copy_of(text)));
  std::array<ConstBuffer, 8> slices{};
  ASSERT_EQ(queue.gather(slices), 3u);
  EXPECT_EQ(std::string(slices[0].data, slices[0].size), "one,");
  EXPECT_EQ(std::string(slices[2].data, slices[2].size), "three");
}

TEST(OutboundQueue, GatherFillsAtMostTheGivenSlices) {
  OutboundQueue queue;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue.push(Frame::copy_of(std::to_string(i))));
  std::array<ConstBuffer, 2> slices{};
  ASSERT_EQ(queue.gather(slices), 2u);
  EXPECT_EQ(std::string(slices[1].data, slices[1].size), "1");
  queue.consume(2);
  ASSERT_EQ(queue.gather(slices), 2u);
  EXPECT_EQ(std::string(slices[0].data, slices[0].size), "2");
}

TEST(OutboundQueue, PartialWriteResumesInsideAFrame) {
  OutboundQueue queue;
  ASSERT_TRUE(queue.push(Frame::copy_of("abcdef")));
  queue.consume(2);
  EXPECT_EQ(queue.pending_bytes(), 4u);
  EXPECT_EQ(pending_text(queue), "cdef");
  queue.consume(3);
  EXPECT_EQ(pending_text(queue), "f");
}

TEST(OutboundQueue, PartialWriteAcrossFrameBoundaries) {
  OutboundQueue queue;
  for (const char* text : {"abc", "defg", "hi"}) ASSERT_TRUE(queue.push(Frame::copy_of(text)));
  queue.consume(5);  // all of "abc", "de" of the second
  EXPECT_EQ(queue.pending_frames(), 2u);
  EXPECT_EQ(queue.pending_bytes(), 4u);
  EXPECT_EQ(pending_text(queue), "fghi");
  queue.consume(2);  // exactly to the boundary
  EXPECT_EQ(queue.pending_frames(), 1u);
  EXPECT_EQ(pending_text(queue), "hi");
  queue.consume(2);
  EXPECT_TRUE(queue.empty());
}

TEST(OutboundQueue, SlicesStayValidWhilePushesGrowTheRing) {
  OutboundQueue queue;
  ASSERT_TRUE(queue.push(Frame::copy_of("first")));
  std::array<ConstBuffer, 1> slices{};
  ASSERT_EQ(queue.gather(slices), 1u);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(queue.push(Frame::copy_of("more")));
  EXPECT_EQ(std::string(slices[0].data, slices[0].size), "first");
  queue.consume(5);
  EXPECT_EQ(queue.pending_frames(), 100u);
}

TEST(OutboundQueue, KeepsOrderThroughRingWrapAroundAndGrowth) {
  OutboundQueue queue;
  std::string expected;
  int next = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 13 + 1; ++i) {
      const std::string text = std::to_string(next++) + ";";
      expected += text;
      ASSERT_TRUE(queue.push(Frame::copy_of(text)));
    }
    const std::size_t written =
        std::min<std::size_t>(expected.size(), static_cast<std::size_t>(round % 7) * 3);
    ASSERT_EQ(pending_text(queue), expected);
    queue.consume(written);
    expected.erase(0, written);
    ASSERT_EQ(queue.pending_bytes(), expected.size());
  }
  ASSERT_EQ(pending_text(queue), expected);
}

TEST(OutboundQueue, DrainingReleasesTheRingAndTheFrames) {
  OutboundQueue queue;
  Frame frame = Frame::copy_of("0123456789");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(queue.push(frame));
  EXPECT_GT(queue.heap_slots(), 0u);
  EXPECT_EQ(frame.use_count(), 21u);
  queue.consume(195);
  EXPECT_EQ(frame.use_count(), 2u);
  queue.consume(5);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.heap_slots(), 0u);
  EXPECT_EQ(frame.use_count(), 1u);
}

TEST(OutboundQueue, ClearReleasesEverything) {
  OutboundQueue queue;
  Frame frame = Frame::copy_of("x");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(queue.push(frame));
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.heap_slots(), 0u);
  EXPECT_EQ(frame.use_count(), 1u);
  EXPECT_TRUE(queue.push(frame));  // usable again
}

TEST(OutboundQueue, FanOutSharesOneCopyOfTheBytes) {
  Frame frame = Frame::copy_of("id: 1-1\nevent: message\ndata: {}\n\n");
  std::vector<OutboundQueue> queues(3);
  for (auto& queue : queues) ASSERT_TRUE(queue.push(frame));
  EXPECT_EQ(frame.use_count(), 4u);
  for (auto& queue : queues) {
    std::array<ConstBuffer, 1> slice{};
    ASSERT_EQ(queue.gather(slice), 1u);
    EXPECT_EQ(slice[0].data, frame.data());
  }
}

}  // namespace
}  // namespace igniter::realtime
