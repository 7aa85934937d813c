#include "server/cluster_stream.hpp"

#include <charconv>

#include "igniter/json/json.hpp"
#include "igniter/realtime/error.hpp"
#include "realtime/channel.hpp"

namespace igniter::server::stream {

namespace {

using Reply = store::Reply;

bool is_string(const Reply& reply) {
  return reply.kind == Reply::Kind::string;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// system_clock is nanoseconds in a signed 64-bit count: beyond ~2262 the conversion would overflow.
constexpr std::int64_t kMaxEventMillis = 9'000'000'000'000;

}  // namespace

std::string StreamId::text() const {
  return std::to_string(millis) + "-" + std::to_string(seq);
}

std::optional<StreamId> parse_stream_id(std::string_view text) noexcept {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto millis = parse_decimal(text.substr(0, dash));
  auto seq = parse_decimal(text.substr(dash + 1));
  if (!millis || !seq || *millis > kMaxStreamMillis) return std::nullopt;
  return StreamId{*millis, *seq};
}

realtime::EventId to_event_id(std::uint64_t epoch, StreamId id) noexcept {
  return {epoch, (std::min(id.millis, kMaxStreamMillis) << 16) | std::min<std::uint64_t>(id.seq, 0xffff)};
}

const std::string* StreamEntry::field(std::string_view name) const noexcept {
  for (const auto& [key, value] : fields)
    if (key == name) return &value;
  return nullptr;
}

Result<std::vector<StreamEntry>> parse_entries(const Reply& reply) {
  if (reply.kind != Reply::Kind::array) return store::errc::protocol;
  std::vector<StreamEntry> entries;
  entries.reserve(reply.elements.size());
  for (const auto& raw : reply.elements) {
    if (raw.kind != Reply::Kind::array || raw.elements.size() != 2) return store::errc::protocol;
    const auto& id = raw.elements[0];
    const auto& fields = raw.elements[1];
    if (!is_string(id) || fields.kind != Reply::Kind::array || fields.elements.size() % 2 != 0)
      return store::errc::protocol;
    auto parsed = parse_stream_id(id.text);
    if (!parsed) return store::errc::protocol;
    StreamEntry entry{.id = *parsed, .fields = {}};
    entry.fields.reserve(fields.elements.size() / 2);
    for (std::size_t i = 0; i < fields.elements.size(); i += 2) {
      const auto& name = fields.elements[i];
      const auto& value = fields.elements[i + 1];
      if (!is_string(name) || !is_string(value)) return store::errc::protocol;
      entry.fields.emplace_back(name.text, value.text);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::vector<StreamEntry>> parse_xread(const Reply& reply, std::string_view key) {
  if (reply.kind == Reply::Kind::nil) return std::vector<StreamEntry>{};
  if (reply.kind != Reply::Kind::array) return store::errc::protocol;
  std::vector<StreamEntry> entries;
  for (const auto& stream : reply.elements) {
    if (stream.kind != Reply::Kind::array || stream.elements.size() != 2 || !is_string(stream.elements[0]))
      return store::errc::protocol;
    auto parsed = parse_entries(stream.elements[1]);
    if (!parsed) return parsed.error();
    if (stream.elements[0].text != key) continue;
    for (auto& entry : *parsed) entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<StreamId> max_deleted_id(const Reply& reply) {
  if (reply.kind != Reply::Kind::array) return std::nullopt;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const auto& name = reply.elements[i];
    const auto& value = reply.elements[i + 1];
    if ((is_string(name) || name.kind == Reply::Kind::status) && name.text == "max-deleted-entry-id")
      return is_string(value) || value.kind == Reply::Kind::status ? parse_stream_id(value.text)
                                                                   : std::nullopt;
  }
  return std::nullopt;
}

std::string encode_event(const realtime::Event& event) {
  json::array scopes;
  for (const auto& s : event.scopes) scopes.emplace_back(s);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(event.time.time_since_epoch()).count();
  return json::stringify(json::object{
      {"c", event.channel}, {"t", event.type}, {"s", std::move(scopes)}, {"d", event.data}, {"ts", millis}});
}

std::optional<realtime::Event> decode_event(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  auto& o = value.as_object();
  auto* c = o.if_contains("c");
  auto* t = o.if_contains("t");
  auto* s = o.if_contains("s");
  auto* ts = o.if_contains("ts");
  if (!c || !c->is_string() || !t || !t->is_string() || !s || !s->is_array() || !ts || !ts->is_int64())
    return std::nullopt;
  auto millis = ts->as_int64();
  if (millis < 0 || millis > kMaxEventMillis) return std::nullopt;
  // Reserved channels are refused to clients and apps, but the framework's own control events (a
  // revocation) travel on them through the stream.
  auto channel_error = realtime::check_channel_name(c->as_string());
  if ((channel_error && channel_error != realtime::Error::channel_reserved) ||
      realtime::check_event_type(t->as_string()))
    return std::nullopt;
  realtime::Event event;
  event.channel = c->as_string();
  event.type = t->as_string();
  for (const auto& scope : s->as_array())
    if (scope.is_string()) event.scopes.emplace_back(scope.as_string());
  if (auto* d = o.if_contains("d")) event.data = std::move(*d);
  event.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(millis));
  return event;
}

}  // namespace igniter::server::stream
