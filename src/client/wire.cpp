#include "client/wire.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace igniter::client::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string string_member(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> string_list(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (auto* v = o.if_contains(key); v && v->is_array())
    for (const auto& item : v->get_array())
      if (item.is_string()) out.emplace_back(item.get_string());
  return out;
}

std::vector<RefusedChannel> refused_list(const json::object& o) {
  std::vector<RefusedChannel> out;
  if (auto* v = o.if_contains("refused"); v && v->is_array())
    for (const auto& item : v->get_array())
      if (item.is_object())
        out.push_back(
            {string_member(item.get_object(), "channel"), string_member(item.get_object(), "reason")});
  return out;
}

std::optional<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  return value;
}

std::string snippet(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

BaseUrl parse_base_url(std::string_view url) {
  auto fail = [&](std::string_view why) {
    throw std::invalid_argument("igniter::client: base URL '" + std::string(url) + "': " + std::string(why));
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) fail("not a URL (expected http[s]://host[:port][/path])");
  const auto& u = *parsed;
  bool tls = iequals(u.scheme(), "https");
  if (!tls && !iequals(u.scheme(), "http"))
    fail("unsupported scheme '" + std::string(u.scheme()) + "' (only http and https)");
  if (!u.has_authority() || u.encoded_host().empty()) fail("no host");
  if (u.has_userinfo()) fail("user information is not supported (set an Authorization header instead)");
  if (u.has_query() || u.has_fragment()) fail("a base URL has no query or fragment");
  BaseUrl out;
  out.tls = tls;
  out.host = u.host_address();
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) fail("bad port");
    out.port = std::string(u.port());
  } else {
    out.port = tls ? "443" : "80";
  }
  out.host_header = std::string(u.encoded_host_and_port());
  out.base_path = std::string(u.encoded_path());
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string query_text(const json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_double()) {
    // The shortest text that reads back as the same double ("1.5", where JSON writes "1.5E0").
    char out[32];
    auto [end, ec] = std::to_chars(out, out + sizeof out, value.get_double());
    if (ec == std::errc{}) return std::string(out, end);
  }
  return boost::json::serialize(value);
}

std::string query_string(const json::object& query) {
  std::string out;
  auto add = [&](std::string_view key, const json::value& value) {
    if (value.is_null()) return;
    if (!out.empty()) out += '&';
    out += percent_encode(key);
    out += '=';
    out += percent_encode(query_text(value));
  };
  for (const auto& [key, value] : query) {
    if (value.is_array())
      for (const auto& item : value.get_array()) add(key, item);
    else
      add(key, value);
  }
  return out;
}

Reply<std::string> make_target(std::string_view base_path, std::string_view path, const json::object& params,
                               const json::object& query) {
  std::string_view existing_query;
  if (auto q = path.find('?'); q != std::string_view::npos) {
    existing_query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  std::string target(base_path);
  if (path.empty() || path.front() != '/') target += '/';
  // Segment by segment, so that `:id` is replaced only where it is a whole segment, as the router reads it.
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto segment = path.substr(start, end - start);
    if (segment.size() > 1 && segment.front() == ':') {
      auto name = segment.substr(1);
      auto* value = params.if_contains(name);
      if (value == nullptr || value->is_null())
        return Error{.ec = errc::invalid_request,
                     .message = "Path parameter :" + std::string(name) + " has no value in params"};
      target += percent_encode(query_text(*value));
    } else {
      target += segment;
    }
    if (end == path.size()) break;
    target += '/';
    start = end + 1;
  }
  auto written = query_string(query);
  if (!existing_query.empty() || !written.empty()) {
    target += '?';
    target += existing_query;
    if (!existing_query.empty() && !written.empty()) target += '&';
    target += written;
  }
  return target;
}

json::Issue issue_from_json(const json::value& value) {
  json::Issue issue;
  if (!value.is_object()) {
    issue.code = "custom";
    issue.message = boost::json::serialize(value);
    return issue;
  }
  for (const auto& [key, member] : value.get_object()) {
    if (key == "code" && member.is_string()) {
      issue.code = member.get_string();
    } else if (key == "message" && member.is_string()) {
      issue.message = member.get_string();
    } else if (key == "expected" && member.is_string()) {
      issue.expected = member.get_string();
    } else if (key == "received" && member.is_string()) {
      issue.received = member.get_string();
    } else if (key == "path" && member.is_array()) {
      for (const auto& step : member.get_array()) {
        if (step.is_string())
          issue.path.emplace_back(std::string(step.get_string()));
        else if (step.is_uint64())
          issue.path.emplace_back(static_cast<std::size_t>(step.get_uint64()));
        else if (step.is_int64() && step.get_int64() >= 0)
          issue.path.emplace_back(static_cast<std::size_t>(step.get_int64()));
        else
          issue.path.emplace_back(boost::json::serialize(step));
      }
    } else {
      issue.details.emplace(key, member);
    }
  }
  return issue;
}

Reply<json::value> interpret_answer(unsigned status, std::string_view body) {
  bool success = status >= 200 && status < 300;
  std::optional<json::value> parsed;
  if (!body.empty()) parsed = parse_json(body);
  if (success) {
    if (body.empty()) return Reply<json::value>(nullptr, status);
    if (!parsed)
      return Error{.ec = errc::invalid_answer,
                   .status = status,
                   .message = "The answer is not JSON: " + snippet(body)};
    auto* envelope = parsed->if_object();
    auto* data = envelope ? envelope->if_contains("data") : nullptr;
    if (data == nullptr)
      return Error{.ec = errc::invalid_answer,
                   .status = status,
                   .message = "The answer has no {\"data\": ...} envelope: " + snippet(body)};
    return Reply<json::value>(std::move(*data), status);
  }
  Error error{.ec = errc::error_response, .status = status};
  const json::object* problem = nullptr;
  if (parsed && parsed->is_object())
    if (auto* e = parsed->get_object().if_contains("error"); e && e->is_object()) problem = &e->get_object();
  if (problem == nullptr) {
    error.message = "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + snippet(body));
    return error;
  }
  error.code = string_member(*problem, "code");
  error.message = string_member(*problem, "message");
  if (error.message.empty()) error.message = "HTTP " + std::to_string(status);
  if (auto* data = problem->if_contains("data")) error.data = *data;
  if (auto* details = problem->if_contains("details"); details && details->is_array())
    for (const auto& issue : details->get_array()) error.issues.push_back(issue_from_json(issue));
  return error;
}

std::optional<CookieChange> parse_set_cookie(std::string_view line) {
  auto semi = line.find(';');
  auto pair = line.substr(0, semi);
  auto eq = pair.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  CookieChange change{std::string(trim(pair.substr(0, eq))), std::string(trim(pair.substr(eq + 1)))};
  if (change.name.empty()) return std::nullopt;
  if (change.value.size() >= 2 && change.value.front() == '"' && change.value.back() == '"')
    change.value = change.value.substr(1, change.value.size() - 2);
  change.remove = change.value.empty();
  bool max_age_removes = false;
  auto attributes = semi == std::string_view::npos ? std::string_view() : line.substr(semi + 1);
  while (!attributes.empty()) {
    auto next = attributes.find(';');
    auto attribute = trim(attributes.substr(0, next));
    attributes.remove_prefix(next == std::string_view::npos ? attributes.size() : next + 1);
    auto aeq = attribute.find('=');
    if (aeq == std::string_view::npos || !iequals(trim(attribute.substr(0, aeq)), "max-age")) continue;
    // RFC 6265 §5.2.2: a leading '-' or DIGIT, then DIGITs only; anything else leaves the attribute out.
    // The number is compared, never converted, so no length of it can overflow.
    auto number = trim(attribute.substr(aeq + 1));
    bool negative = !number.empty() && number.front() == '-';
    auto digits = negative ? number.substr(1) : number;
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) continue;
    bool zero = digits.find_first_not_of('0') == std::string_view::npos;
    max_age_removes = negative || zero;  // the last Max-Age is the one that counts
  }
  if (max_age_removes) change.remove = true;
  return change;
}

bool CookieJar::set(std::string_view name, std::string_view value) {
  if (value.empty()) {
    remove(name);
    return true;
  }
  if (name.size() + value.size() > limits_.max_cookie_bytes) return false;
  remove(name);
  cookies_.emplace(std::string(name), Entry{std::string(value), ++serial_});
  bytes_ += name.size() + value.size();
  while (!cookies_.empty() && (cookies_.size() > limits_.max_cookies || bytes_ > limits_.max_jar_bytes)) {
    auto oldest = cookies_.begin();
    for (auto it = cookies_.begin(); it != cookies_.end(); ++it)
      if (it->second.serial < oldest->second.serial) oldest = it;
    bytes_ -= oldest->first.size() + oldest->second.value.size();
    cookies_.erase(oldest);
  }
  return true;
}

void CookieJar::remove(std::string_view name) {
  if (auto it = cookies_.find(name); it != cookies_.end()) {
    bytes_ -= it->first.size() + it->second.value.size();
    cookies_.erase(it);
  }
}

std::string CookieJar::get(std::string_view name) const {
  auto it = cookies_.find(name);
  return it == cookies_.end() ? std::string() : it->second.value;
}

void CookieJar::append_header(std::string& header) const {
  for (const auto& [name, entry] : cookies_) {
    if (!header.empty()) header += "; ";
    header += name;
    header += '=';
    header += entry.value;
  }
}

std::optional<ConnectedFrame> parse_connected(std::string_view data) {
  auto parsed = parse_json(data);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const auto& o = parsed->get_object();
  ConnectedFrame frame;
  frame.token = string_member(o, "token");
  auto& info = frame.info;
  info.connection_id = string_member(o, "connectionId");
  info.channels = string_list(o, "channels");
  info.refused = refused_list(o);
  info.scopes = string_list(o, "scopes");
  info.last_event_id = string_member(o, "lastEventId");
  if (auto* resync = o.if_contains("resync")) info.resync = resync->is_bool() && resync->get_bool();
  return frame;
}

Event make_event(std::string id, std::string type, std::string_view data) {
  Event event;
  event.id = std::move(id);
  event.type = type.empty() ? std::string("message") : std::move(type);
  auto parsed = parse_json(data);
  if (!parsed) {
    event.data = json::string(data);
    return event;
  }
  auto* envelope = parsed->if_object();
  if (envelope == nullptr || !envelope->contains("channel") || !envelope->contains("data")) {
    event.data = std::move(*parsed);
    return event;
  }
  event.channel = string_member(*envelope, "channel");
  event.scopes = string_list(*envelope, "scopes");
  event.timestamp = string_member(*envelope, "timestamp");
  event.data = std::move((*envelope)["data"]);
  return event;
}

ChannelChange parse_channel_change(const json::value& data) {
  ChannelChange change;
  if (!data.is_object()) return change;
  const auto& o = data.get_object();
  change.subscribed = string_list(o, "subscribed");
  change.refused = refused_list(o);
  change.unsubscribed = string_list(o, "unsubscribed");
  return change;
}

std::string join_comma(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

}  // namespace igniter::client::detail
