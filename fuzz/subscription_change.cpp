// The body of POST <sse path>/subscriptions as the endpoint takes it: parse_body, decode into
// SubscriptionChange (its rules: at most 100 channels each way), then each channel the way
// Hub::change_subscriptions looks at it (canonical_channel, check_channel_name).
//
// Input: the body bytes.

#include <cstdint>

#include "igniter/server/detail/invoke.hpp"
#include "realtime/channel.hpp"
#include "server/hub.hpp"
#include "support.hpp"

using igniter::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::Request request;
  request.headers.emplace_back("Content-Type", "application/json");
  request.body.assign(reinterpret_cast<const char*>(data), size);
  igniter::json::value body;
  if (igniter::detail::parse_body(request, body)) return 0;
  auto change = igniter::json::decode<igniter::server::SubscriptionChange>(body);
  for (const auto& issue : change.issues) (void)igniter::json::stringify(igniter::json::to_json(issue));
  if (!change) return 0;
  if (change->subscribe.size() > 100 || change->unsubscribe.size() > 100) fail("max_items(100) not enforced");
  for (const auto* list : {&change->subscribe, &change->unsubscribe})
    for (const auto& name : *list) {
      auto channel = igniter::realtime::canonical_channel(name);
      if (!igniter::realtime::check_channel_name(channel) &&
          channel.size() > igniter::realtime::kMaxChannelLength)
        fail("a channel past the length limit was accepted");
    }
  return 0;
}
