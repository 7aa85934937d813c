// TLS session ticket keys: rotation by the session lifetime, on a clock the test drives. No sockets.
#include "server/tls.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(TicketKeys, AKeyEncryptsForOneLifetimeDecryptsForAnotherThenIsForgotten) {
  TicketKeys keys;
  auto start = Clock::time_point{} + 1000h;
  auto first = keys.encrypting(2h, start);
  ASSERT_TRUE(first);
  EXPECT_EQ(keys.encrypting(2h, start + 119min)->name, first->name);  // the same key all its period

  // One lifetime on: a new key encrypts; the old one still opens its tickets, which are then renewed.
  auto second = keys.encrypting(2h, start + 2h);
  ASSERT_TRUE(second);
  EXPECT_NE(second->name, first->name);
  EXPECT_NE(second->aes, first->aes);
  bool renew = false;
  auto old = keys.decrypting(first->name.data(), 2h, renew, start + 3h);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->aes, first->aes);
  EXPECT_TRUE(renew);
  renew = false;
  EXPECT_TRUE(keys.decrypting(second->name.data(), 2h, renew, start + 3h));
  EXPECT_FALSE(renew);

  // Two lifetimes after it was made, the first key is gone: its tickets mean a full handshake.
  renew = false;
  EXPECT_FALSE(keys.decrypting(first->name.data(), 2h, renew, start + 4h));
  EXPECT_TRUE(keys.decrypting(second->name.data(), 2h, renew, start + 4h));
}

TEST(TicketKeys, AfterALongIdleNoOldKeyIsKept) {
  TicketKeys keys;
  auto start = Clock::time_point{} + 1000h;
  auto first = keys.encrypting(1h, start);
  auto later = keys.encrypting(1h, start + 5h);  // nothing asked for 5 h
  ASSERT_TRUE(first && later);
  bool renew = false;
  EXPECT_FALSE(keys.decrypting(first->name.data(), 1h, renew, start + 5h));
  unsigned char unknown[16] = {};
  EXPECT_FALSE(keys.decrypting(unknown, 1h, renew, start + 5h));
}

}  // namespace
}  // namespace igniter::server
