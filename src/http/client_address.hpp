#pragma once
/// The client's address of a request: the peer's, or the one a trusted reverse proxy forwarded.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "igniter/http/request.hpp"

namespace igniter::http {

/// The reverse proxies whose forwarded client address is believed (AppOptions::trusted_proxies): IP
/// addresses and CIDR blocks. Immutable once built, so any thread may read it.
class TrustedProxies {
 public:
  /// Trusts nobody.
  TrustedProxies() = default;
  /// Parses "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"; throws std::invalid_argument naming the first
  /// entry that is neither an address nor a CIDR block.
  explicit TrustedProxies(const std::vector<std::string>& entries);

  /// Whether no proxy is trusted (forwarded headers are then never read).
  bool empty() const noexcept { return networks_.empty(); }
  /// Whether `address` (an IPv4-mapped IPv6 address counts as its IPv4 one) is a trusted proxy.
  bool contains(const boost::asio::ip::address& address) const noexcept;

 private:
  std::vector<std::variant<boost::asio::ip::network_v4, boost::asio::ip::network_v6>> networks_;
};

/// The IP address part of Request::remote ("1.2.3.4:5678" -> "1.2.3.4", "::1:5678" -> "::1").
std::string_view peer_ip(std::string_view remote) noexcept;

/// The client's IP address of `request`, which came from `request.remote`. The peer's own address unless
/// the peer is a trusted proxy; then, going right to left through `X-Forwarded-For` (all such headers, in
/// order), each entry is believed as long as the hop that wrote it is trusted: the first untrusted hop,
/// or the leftmost entry, is the client. Without `X-Forwarded-For`, a trusted peer's `X-Real-IP` is
/// used. An entry that is not an IP address stops the walk at the hop that sent it. IPv4-mapped IPv6
/// addresses are answered as IPv4.
std::string client_address(const TrustedProxies& proxies, const Request& request);

/// The scheme the client used for `request`, "https" or "http": the connection's own (`tls`) unless the
/// peer is a trusted proxy; then what `X-Forwarded-Proto` says (all such headers, comma-separated lists
/// read right to left as X-Forwarded-For is): the entry written by the proxy the client connected to,
/// or the leftmost there is when the proxies overwrote the header rather than appended to it. A value
/// other than http or https, or no header, leaves the connection's own.
std::string_view forwarded_scheme(const TrustedProxies& proxies, const Request& request, bool tls);

}  // namespace igniter::http
