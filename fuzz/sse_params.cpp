// The SSE request's parameters as the hub reads them: the target through boost::urls (as HttpSession
// does), `channels` and `scopes` through split_comma_list, each channel through canonical_channel and
// check_channel_name, the requested scopes narrowed by a granted set, and the resume id from
// `Last-Event-ID` or `lastEventId` through parse_event_id.
//
// Input: the request target, optionally followed by '\n' and a Last-Event-ID header value.

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cstdint>
#include <string>

#include "igniter/http/request.hpp"
#include "igniter/realtime/event.hpp"
#include "realtime/channel.hpp"
#include "realtime/scope_set.hpp"
#include "support.hpp"

using igniter::fuzz::fail;
namespace realtime = igniter::realtime;

namespace {

void check_list(const std::vector<std::string>& items) {
  for (const auto& item : items)
    if (item.empty() || item.find(',') != std::string::npos)
      fail("split_comma_list kept an empty or comma item");
}

void check_channel(const std::string& name) {
  auto channel = realtime::canonical_channel(name);
  if (!name.starts_with(channel)) fail("canonical_channel is not a prefix of the name");
  if (realtime::check_channel_name(channel)) return;
  if (channel.empty() || channel.size() > realtime::kMaxChannelLength)
    fail("accepted a channel of bad length");
  for (char c : channel)
    if (c < 0x21 || c > 0x7e || c == ',') fail("accepted a channel with a character outside the rule");
}

void check_event_id(std::string_view text) {
  auto id = realtime::parse_event_id(text);
  if (id && realtime::to_string(*id) != text) fail("parse_event_id accepted a non-canonical id");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  std::string_view target = input.substr(0, newline);
  std::string_view header =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  // As HttpSession::on_header fills the Request.
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return 0;
  igniter::Request request;
  request.target.assign(target);
  request.path = url->path();
  for (auto param : url->params()) request.query.emplace_back(param.key, param.value);
  if (!header.empty()) request.headers.emplace_back("Last-Event-ID", std::string(header));

  // As Hub::open reads them.
  auto scopes = realtime::split_comma_list(request.query_param("scopes"));
  check_list(scopes);
  auto granted = realtime::ScopeSet({"public", "user:1", "role:admin"}).narrowed_to(scopes);
  for (const auto& scope : granted.values()) {
    if (scope != "public" && scope != "user:1" && scope != "role:admin")
      fail("narrowed_to granted a new scope");
    if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end() && !scopes.empty())
      fail("narrowed_to granted a scope that was not requested");
  }
  auto channels = realtime::split_comma_list(request.query_param("channels"));
  check_list(channels);
  for (const auto& channel : channels) check_channel(channel);
  std::string last_event_id(request.header("last-event-id"));
  if (last_event_id.empty()) last_event_id = request.query_param("lastEventId");
  check_event_id(last_event_id);
  check_event_id(header);
  return 0;
}
