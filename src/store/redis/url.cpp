#include <boost/url/grammar/ci_string.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "igniter/store/redis_store.hpp"

namespace igniter::store {

Result<RedisEndpoint> parse_redis_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed) return errc::invalid_url;
  const auto& uri = *parsed;
  if (!boost::urls::grammar::ci_is_equal(uri.scheme(), "redis")) return errc::invalid_url;
  if (!uri.has_authority() || uri.has_query() || uri.has_fragment()) return errc::invalid_url;

  RedisEndpoint endpoint;
  if (!uri.host_address().empty()) endpoint.host = uri.host_address();
  if (uri.has_port()) {
    auto port = uri.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return errc::invalid_url;
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  if (uri.has_userinfo()) {
    endpoint.user = uri.user();
    if (uri.has_password()) endpoint.password = uri.password();
  }
  std::string_view path(uri.encoded_path().data(), uri.encoded_path().size());
  if (path.starts_with('/')) path.remove_prefix(1);
  if (!path.empty()) {
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), endpoint.db);
    if (ec != std::errc() || end != path.data() + path.size() || endpoint.db < 0) return errc::invalid_url;
  }
  return endpoint;
}

}  // namespace igniter::store
