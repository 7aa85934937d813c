#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "igniter/store/redis_store.hpp"

namespace igniter::store {

namespace {

constexpr std::string_view kSentinelScheme = "redis-sentinel://";
constexpr std::size_t kMaxHostLength = 255;
constexpr std::size_t kMaxNameLength = 256;  // master names, user names, passwords

Result<RedisEndpoint> invalid(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return errc::invalid_url;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         boost::urls::grammar::ci_is_equal(boost::core::string_view(text.data(), prefix.size()),
                                           boost::core::string_view(prefix.data(), prefix.size()));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX-decodes `in`; false on a broken escape, a control character or space (in the text or decoded:
// Sentinel's messages separate fields by spaces), or a result longer than kMaxNameLength.
bool decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int high = hex_value(in[i + 1]), low = hex_value(in[i + 2]);
      if (high < 0 || low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    out += c;
  }
  return out.size() <= kMaxNameLength;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

// "host", "host:port", "[v6]" or "[v6]:port".
bool parse_address(std::string_view text, RedisAddress& address, std::string& why) {
  std::string_view host = text, port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == text.npos) return why = "an IPv6 address without its closing ']'", false;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return why = "unexpected text after ']'", false;
      port = rest.substr(1);
      if (port.empty()) return why = "an empty port after ':'", false;
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != host.npos)
      return why = "a malformed IPv6 address", false;
  } else {
    auto colon = text.find(':');
    if (colon != text.npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return why = "an empty port after ':'", false;
    }
    if (host.empty()) return why = "an empty host in the list of Sentinels", false;
    for (char c : host)
      if (!is_host_char(c))
        return why = "a host name with a character other than letters, digits, '-', '.', '_'", false;
  }
  if (host.size() > kMaxHostLength) return why = "a host name longer than 255 characters", false;
  address.host = std::string(host);
  address.port = 26379;
  if (!port.empty() && !parse_port(port, address.port))
    return why = "port '" + std::string(port) + "' is not a number in 1..65535", false;
  return true;
}

Result<RedisEndpoint> parse_sentinel_url(std::string_view url, std::string* why) {
  std::string_view rest = url.substr(kSentinelScheme.size());
  if (rest.find('#') != rest.npos) return invalid(why, "a redis-sentinel:// URL takes no fragment ('#')");
  std::string_view query;
  if (auto mark = rest.find('?'); mark != rest.npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == rest.npos ? std::string_view() : rest.substr(slash + 1);

  RedisEndpoint endpoint;
  if (auto at = authority.rfind('@'); at != authority.npos) {
    auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (!decode(userinfo.substr(0, colon), endpoint.user))
      return invalid(why,
                     "the user name is malformed (bad %-escape, space or control character, or too long)");
    if (colon != userinfo.npos && !decode(userinfo.substr(colon + 1), endpoint.password))
      return invalid(why,
                     "the password is malformed (bad %-escape, space or control character, or too long)");
  }
  if (authority.empty()) return invalid(why, "no Sentinel: list them as host:port,host:port");
  while (!authority.empty()) {
    auto comma = authority.find(',');
    auto item = authority.substr(0, comma);
    authority = comma == authority.npos ? std::string_view() : authority.substr(comma + 1);
    if (comma != std::string_view::npos && authority.empty())
      return invalid(why, "a trailing ',' in the list of Sentinels");
    RedisAddress address;
    std::string reason;
    if (!parse_address(item, address, reason))
      return invalid(why, "Sentinel '" + std::string(item) + "': " + reason);
    if (endpoint.sentinels.size() == kMaxSentinels)
      return invalid(why, "more than " + std::to_string(kMaxSentinels) + " Sentinels");
    endpoint.sentinels.push_back(std::move(address));
  }

  auto name_end = path.find('/');
  if (!decode(path.substr(0, name_end), endpoint.master_name) || endpoint.master_name.empty())
    return invalid(why, "no master name: the path must be /master-name or /master-name/db");
  if (name_end != path.npos) {
    auto db = path.substr(name_end + 1);
    auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), endpoint.db);
    if (db.empty() || ec != std::errc() || end != db.data() + db.size() || endpoint.db < 0)
      return invalid(why, "the database '" + std::string(db) + "' is not a non-negative integer");
  }

  bool seen_user = false, seen_password = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    query = amp == query.npos ? std::string_view() : query.substr(amp + 1);
    auto equals = item.find('=');
    auto key = item.substr(0, equals);
    auto value = equals == item.npos ? std::string_view() : item.substr(equals + 1);
    std::string* target = nullptr;
    bool* seen = nullptr;
    if (key == "sentinel_user") {
      target = &endpoint.sentinel_user;
      seen = &seen_user;
    } else if (key == "sentinel_password") {
      target = &endpoint.sentinel_password;
      seen = &seen_password;
    } else {
      return invalid(
          why, "unknown parameter '" + std::string(key) + "' (known: sentinel_user, sentinel_password)");
    }
    if (equals == item.npos) return invalid(why, "parameter '" + std::string(key) + "' has no value");
    if (*seen) return invalid(why, "parameter '" + std::string(key) + "' is given twice");
    *seen = true;
    if (!decode(value, *target))
      return invalid(why, "the value of '" + std::string(key) +
                              "' is malformed (bad %-escape, space or control character, or too long)");
  }
  return endpoint;
}

}  // namespace

Result<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why) {
  if (starts_with_ci(url, kSentinelScheme)) return parse_sentinel_url(url, why);
  auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed) return invalid(why, "not a URL");
  const auto& uri = *parsed;
  if (!boost::urls::grammar::ci_is_equal(uri.scheme(), "redis"))
    return invalid(why, "the scheme must be redis:// or redis-sentinel:// (TLS is not supported)");
  if (!uri.has_authority() || uri.has_query() || uri.has_fragment())
    return invalid(why,
                   "a redis:// URL is redis://[user:password@]host[:port][/db], with no query or fragment");

  RedisEndpoint endpoint;
  if (!uri.host_address().empty()) endpoint.host = uri.host_address();
  if (uri.has_port()) {
    auto port = uri.port();
    if (!parse_port(std::string_view(port.data(), port.size()), endpoint.port))
      return invalid(why, "the port is not a number in 1..65535");
  }
  if (uri.has_userinfo()) {
    endpoint.user = uri.user();
    if (uri.has_password()) endpoint.password = uri.password();
  }
  std::string_view path(uri.encoded_path().data(), uri.encoded_path().size());
  if (path.starts_with('/')) path.remove_prefix(1);
  if (!path.empty()) {
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), endpoint.db);
    if (ec != std::errc() || end != path.data() + path.size() || endpoint.db < 0)
      return invalid(why, "the database is not a non-negative integer");
  }
  return endpoint;
}

}  // namespace igniter::store
