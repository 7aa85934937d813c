#include "http/client_address.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace igniter::http {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// IPv4-mapped IPv6 addresses (a dual-stack listener's view of an IPv4 peer) as the IPv4 address.
ip::address unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  return address;
}

std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return unmapped(address);
}

/// One X-Forwarded-For entry: a bare address, or as some proxies write it "1.2.3.4:80", "[::1]", "[::1]:80".
std::optional<ip::address> parse_forwarded(std::string_view entry) {
  entry = trim(entry);
  if (entry.starts_with('[')) {
    auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return parse_address(entry.substr(1, close - 1));
  }
  if (auto colon = entry.find(':');
      colon != std::string_view::npos && entry.find(':', colon + 1) == entry.npos)
    entry = entry.substr(0, colon);  // IPv4 with a port (an IPv6 address has more than one colon)
  return parse_address(entry);
}

std::string to_text(const ip::address& address) {
  return address.to_string();
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
  for (const auto& raw : entries) {
    auto entry = trim(raw);
    auto fail = [&] {
      throw std::invalid_argument(
          "trusted_proxies: '" + raw +
          "' is neither an IP address nor a CIDR block (like 10.0.0.0/8 or fd00::/8)");
    };
    auto slash = entry.find('/');
    auto address = parse_address(entry.substr(0, slash));
    if (!address) fail();
    unsigned prefix = address->is_v4() ? 32 : 128;
    if (slash != std::string_view::npos) {
      auto digits = entry.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
          prefix > (address->is_v4() ? 32u : 128u))
        fail();
    }
    // Host bits set ("10.1.2.3/8") mean the block they are in, as `ip route` reads them.
    if (address->is_v4())
      networks_.emplace_back(
          ip::network_v4(address->to_v4(), static_cast<unsigned short>(prefix)).canonical());
    else
      networks_.emplace_back(
          ip::network_v6(address->to_v6(), static_cast<unsigned short>(prefix)).canonical());
  }
}

bool TrustedProxies::contains(const ip::address& raw) const noexcept {
  auto address = unmapped(raw);
  for (const auto& network : networks_) {
    if (const auto* v4 = std::get_if<ip::network_v4>(&network)) {
      if (address.is_v4() &&
          ip::network_v4(address.to_v4(), v4->prefix_length()).canonical().network() == v4->network())
        return true;
    } else {
      const auto& v6 = std::get<ip::network_v6>(network);
      if (address.is_v6() &&
          ip::network_v6(address.to_v6(), v6.prefix_length()).canonical().network() == v6.network())
        return true;
    }
  }
  return false;
}

std::string_view peer_ip(std::string_view remote) noexcept {
  auto colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

namespace {

/// Where the walk through X-Forwarded-For ends: the client's address, and how many trusted proxies
/// relayed the request (0: the peer is not trusted, and no forwarded header is believed).
struct Walk {
  std::string client;
  std::size_t proxies = 0;
};

Walk walk(const TrustedProxies& proxies, const Request& request) {
  auto peer_text = peer_ip(request.remote);
  auto peer = parse_address(peer_text);
  if (!peer) return {std::string(peer_text)};
  if (proxies.empty() || !proxies.contains(*peer)) return {to_text(*peer)};

  // Each trusted hop vouches for the one before it; the walk stops at the first hop we do not trust.
  auto current = *peer;
  std::size_t trusted = 1;
  bool forwarded = false;
  for (auto it = request.headers.rbegin(); it != request.headers.rend(); ++it) {
    if (!iequals(it->first, "X-Forwarded-For")) continue;
    forwarded = true;
    std::string_view list = it->second;
    while (true) {
      auto comma = list.rfind(',');
      auto entry = comma == std::string_view::npos ? list : list.substr(comma + 1);
      if (!trim(entry).empty()) {
        auto hop = parse_forwarded(entry);
        if (!hop) return {to_text(current), trusted > 1 ? trusted - 1 : trusted};  // as if it were the end
        current = *hop;
        if (!proxies.contains(current)) return {to_text(current), trusted};
        ++trusted;
      }
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  if (!forwarded)
    if (auto real = request.header("X-Real-IP"); !real.empty())
      if (auto hop = parse_forwarded(real)) return {to_text(*hop), trusted};
  // Every hop was trusted: the leftmost is the client; the last trusted one counted has no relay after it.
  return {to_text(current), trusted > 1 ? trusted - 1 : trusted};
}

}  // namespace

std::string client_address(const TrustedProxies& proxies, const Request& request) {
  return walk(proxies, request).client;
}

std::string_view forwarded_scheme(const TrustedProxies& proxies, const Request& request, bool tls) {
  std::string_view own = tls ? "https" : "http";
  auto relays = walk(proxies, request).proxies;
  if (relays == 0) return own;
  // The entries right to left, each written by one proxy about the connection it received. The one for
  // the client's connection is the relays-th; a proxy that overwrites the header instead of appending
  // (nginx's `$scheme`) leaves fewer: then the leftmost one there is.
  std::vector<std::string_view> entries;
  for (auto it = request.headers.rbegin(); it != request.headers.rend(); ++it) {
    if (!iequals(it->first, "X-Forwarded-Proto")) continue;
    std::string_view list = it->second;
    while (true) {
      auto comma = list.rfind(',');
      auto entry = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (!entry.empty()) entries.push_back(entry);
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  if (entries.empty()) return own;
  auto entry = entries[std::min(relays, entries.size()) - 1];
  if (iequals(entry, "https")) return "https";
  if (iequals(entry, "http")) return "http";
  return own;  // anything else is not a scheme we know: the connection's own
}

}  // namespace igniter::http
