#include "frame.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "base/utf8.hpp"

namespace igniter::realtime {

Frame Frame::join(std::initializer_list<std::string_view> parts) {
  std::size_t total = 0;
  for (std::string_view part : parts) total += part.size();
  if (total > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("SSE frame larger than 4 GiB");
  void* memory = ::operator new(sizeof(Block) + total);
  auto* block = ::new (memory) Block{{1}, static_cast<std::uint32_t>(total)};
  char* cursor = reinterpret_cast<char*>(block + 1);
  for (std::string_view part : parts) {
    if (!part.empty()) std::memcpy(cursor, part.data(), part.size());
    cursor += part.size();
  }
  Frame frame;
  frame.block_ = block;
  return frame;
}

void Frame::destroy(Block* block) noexcept {
  block->~Block();
  ::operator delete(block);
}

namespace {

// A string the client chose (a channel's or scope's name, a reason that quotes one), as valid UTF-8: the
// stream is declared UTF-8 whatever bytes the request held.
void append_echoed(std::string& out, std::string_view text) {
  if (valid_utf8(text))
    json::append_string(out, text);
  else
    json::append_string(out, to_valid_utf8(text));
}

void append_json_strings(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ',';
    append_echoed(out, items[i]);  // channels and scopes as the client named them
  }
  out += ']';
}

void append_two_digits(std::string& out, unsigned value) {
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

// The type is the only value written outside JSON: a line break in it would end the field early.
void append_event_type(std::string& out, std::string_view type) {
  const std::size_t start = out.size();
  for (char c : type) {
    if (c != '\n' && c != '\r' && c != '\0') out += c;
  }
  if (out.size() == start) out += kMessageType;
}

}  // namespace

void append_timestamp(std::string& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss clock{ms - day};
  const int year = std::clamp(static_cast<int>(date.year()), 0, 9999);
  append_two_digits(out, static_cast<unsigned>(year / 100));
  append_two_digits(out, static_cast<unsigned>(year % 100));
  out += '-';
  append_two_digits(out, static_cast<unsigned>(date.month()));
  out += '-';
  append_two_digits(out, static_cast<unsigned>(date.day()));
  out += 'T';
  append_two_digits(out, static_cast<unsigned>(clock.hours().count()));
  out += ':';
  append_two_digits(out, static_cast<unsigned>(clock.minutes().count()));
  out += ':';
  append_two_digits(out, static_cast<unsigned>(clock.seconds().count()));
  out += '.';
  const auto millis = static_cast<unsigned>(clock.subseconds().count());
  out += static_cast<char>('0' + millis / 100);
  append_two_digits(out, millis % 100);
  out += 'Z';
}

std::string format_timestamp(std::chrono::system_clock::time_point time) {
  std::string out;
  append_timestamp(out, time);
  return out;
}

std::string encode_event_body(const Event& event) {
  std::string out;
  out.reserve(96 + event.type.size() + event.channel.size());
  out += "event: ";
  append_event_type(out, event.type);
  out += "\ndata: {";
  if (!event.scopes.empty()) {
    out += "\"scopes\":";
    append_json_strings(out, event.scopes);
    out += ',';
  }
  out += "\"channel\":";
  json::append_string(out, event.channel);
  out += ",\"data\":";
  json::stringify_to(out, event.data);
  out += ",\"timestamp\":\"";
  append_timestamp(out, event.time);
  out += "\"}\n\n";
  return out;
}

Frame frame_with_id(EventId id, std::string_view body) {
  char text[kMaxEventIdLength];
  const std::size_t length = format_event_id(id, text);
  return Frame::join({"id: ", std::string_view(text, length), "\n", body});
}

std::string encode_event(const Event& event) {
  char text[kMaxEventIdLength];
  const std::size_t length = format_event_id(event.id, text);
  std::string out = "id: ";
  out.append(text, length);
  out += '\n';
  out += encode_event_body(event);
  return out;
}

std::string encode_connected(const ConnectedInfo& info) {
  std::string out;
  out.reserve(128);
  if (info.retry) {
    out += "retry: ";
    out += std::to_string(std::max<std::chrono::milliseconds::rep>(info.retry->count(), 0));
    out += '\n';
  }
  if (info.position) {
    out += "id: ";
    out += to_string(*info.position);
    out += '\n';
  }
  out += "event: connected\ndata: {\"connected\":true,\"channels\":";
  append_json_strings(out, info.channels);
  out += ",\"timestamp\":\"";
  append_timestamp(out, info.time);
  out += '"';
  if (!info.connection_id.empty()) {
    out += ",\"connectionId\":";
    json::append_string(out, info.connection_id);
  }
  if (!info.token.empty()) {
    out += ",\"token\":";
    json::append_string(out, info.token);
  }
  if (info.scopes) {
    out += ",\"scopes\":";
    append_json_strings(out, *info.scopes);
  }
  if (!info.refused.empty()) {
    out += ",\"refused\":[";
    for (std::size_t i = 0; i < info.refused.size(); ++i) {
      if (i != 0) out += ',';
      out += "{\"channel\":";
      append_echoed(out, info.refused[i].channel);
      out += ",\"reason\":";
      append_echoed(out, info.refused[i].reason);
      out += '}';
    }
    out += ']';
  }
  if (info.position) {
    out += ",\"lastEventId\":\"";
    out += to_string(*info.position);
    out += '"';
  }
  if (info.resync) out += ",\"resync\":true";
  out += "}\n\n";
  return out;
}

json::value revalidate_payload(const std::vector<std::string>& query_keys, json::value data,
                               std::chrono::system_clock::time_point time) {
  json::object payload;
  json::array keys;
  keys.reserve(query_keys.size());
  for (const auto& key : query_keys) keys.emplace_back(key);
  payload.emplace("queryKeys", std::move(keys));
  if (!data.is_null()) payload.emplace("data", std::move(data));
  payload.emplace("timestamp", format_timestamp(time));
  return payload;
}

json::value stamped_payload(json::value data, std::chrono::system_clock::time_point time) {
  if (auto* object = data.if_object(); object != nullptr && !object->contains("timestamp")) {
    object->emplace("timestamp", format_timestamp(time));
  }
  return data;
}

}  // namespace igniter::realtime
