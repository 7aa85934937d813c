#include "store/redis/sentinel.hpp"

#include <boost/asio/post.hpp>
#include <charconv>

namespace igniter::store::redis {

namespace {

constexpr const char* kSwitchChannel = "+switch-master";

// An address as a Sentinel sends it: a host of printable characters (at most 255) and a port in 1..65535.
Result<RedisAddress> parse_address(std::string_view host, std::string_view port_text) {
  if (host.empty() || host.size() > 255) return errc::protocol;
  for (char c : host)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return errc::protocol;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535)
    return errc::protocol;
  return RedisAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace

Sentinels::Sentinels(boost::asio::io_context& io, Settings settings, SwitchHandler on_switch)
    : io_(io), settings_(std::move(settings)), on_switch_(std::move(on_switch)) {}

void Sentinels::log(LogLevel level, const std::string& text) const {
  if (settings_.logger && settings_.logger->enabled(level))
    settings_.logger->log(level, "redis sentinel (master '" + settings_.endpoint.master_name + "'): " + text);
}

RedisEndpoint Sentinels::sentinel_endpoint(const RedisAddress& address) const {
  return RedisEndpoint{.host = address.host,
                       .port = address.port,
                       .user = settings_.endpoint.sentinel_user,
                       .password = settings_.endpoint.sentinel_password};
}

void Sentinels::start() {
  const auto& sentinels = settings_.endpoint.sentinels;
  if (stopped_ || watcher_ || sentinels.empty()) return;
  Connection::Settings settings{sentinel_endpoint(sentinels.front()),
                                Connection::Role::subscriptions,
                                settings_.timeout,
                                settings_.reconnect_min,
                                settings_.reconnect_max,
                                kMaxReplyBytes,
                                settings_.logger};
  // Each attempt goes to the next Sentinel: a dead one is not retried forever.
  settings.locate = [this](std::function<void(Result<RedisAddress>)> done) {
    const auto& list = settings_.endpoint.sentinels;
    done(list[next_watched_++ % list.size()]);
  };
  watcher_ = std::make_shared<Connection>(
      io_, std::move(settings),
      Connection::Events{
          .ready =
              [this] {
                watcher_->send({"SUBSCRIBE", kSwitchChannel}, [this](Result<Reply> reply) {
                  if (reply && reply->is_error()) log(LogLevel::warn, "SUBSCRIBE refused: " + reply->text);
                });
              },
          .lost = {},
          .attempt_failed = {},
          .message = [this](Reply&& push) { on_switch_message(push); },
      });
  watcher_->start();
}

void Sentinels::stop() {
  stopped_ = true;
  if (watcher_) watcher_->stop();
  drop_query();
  finish(errc::unavailable);
}

void Sentinels::drop_query() {
  ++attempt_;
  if (!query_) return;
  query_->stop();
  // Not destroyed here: we may be inside one of its callbacks.
  boost::asio::post(io_, [query = std::move(query_)] {});
}

void Sentinels::locate(std::function<void(Result<RedisAddress>)> done) {
  if (stopped_) return done(errc::unavailable);
  waiters_.push_back(std::move(done));
  if (waiters_.size() > 1) return;  // a search is under way
  worst_ = errc::unavailable;
  ask(preferred_ % settings_.endpoint.sentinels.size(), 0);
}

void Sentinels::ask(std::size_t index, std::size_t tried) {
  drop_query();
  auto attempt = attempt_;
  const auto& address = settings_.endpoint.sentinels[index];
  Connection::Settings settings{sentinel_endpoint(address),
                                Connection::Role::commands,
                                settings_.timeout,
                                settings_.reconnect_min,
                                settings_.reconnect_max,
                                kMaxReplyBytes,
                                settings_.logger};
  query_ = std::make_shared<Connection>(
      io_, std::move(settings),
      Connection::Events{
          .ready =
              [this, attempt, index, tried] {
                if (attempt != attempt_) return;
                query_->send({"SENTINEL", "get-master-addr-by-name", settings_.endpoint.master_name},
                             [this, attempt, index, tried](Result<Reply> reply) {
                               if (attempt != attempt_) return;
                               if (!reply) return next(index, tried, reply.error());
                               if (reply->is_error()) {
                                 log(LogLevel::warn, "Sentinel refused: " + reply->text.substr(0, 200));
                                 return next(index, tried, error_from_reply(*reply));
                               }
                               if (reply->is_nil()) {
                                 log(LogLevel::warn,
                                     "a Sentinel does not know this master (check the URL's name)");
                                 return next(index, tried, errc::unavailable);
                               }
                               Result<RedisAddress> found = errc::protocol;
                               if (reply->kind == Reply::Kind::array && reply->elements.size() == 2 &&
                                   reply->elements[0].kind == Reply::Kind::string &&
                                   reply->elements[1].kind == Reply::Kind::string)
                                 found = parse_address(reply->elements[0].text, reply->elements[1].text);
                               if (!found) {
                                 log(LogLevel::warn, "a malformed answer from a Sentinel");
                                 return next(index, tried, errc::protocol);
                               }
                               preferred_ = index;
                               drop_query();
                               finish(std::move(found));
                             });
              },
          .lost = {},
          .attempt_failed =
              [this, attempt, index, tried](std::error_code why) {
                if (attempt == attempt_) next(index, tried, why);
              },
          .message = {},
      });
  query_->start();
}

void Sentinels::next(std::size_t index, std::size_t tried, std::error_code why) {
  if (why == errc::auth_failed) worst_ = why;
  const auto& sentinels = settings_.endpoint.sentinels;
  auto& failed = sentinels[index];
  log(LogLevel::debug,
      "no answer from " + failed.host + ":" + std::to_string(failed.port) + " (" + why.message() + ")");
  drop_query();
  if (tried + 1 >= sentinels.size()) {
    log(LogLevel::warn, "no Sentinel gave the master's address");
    return finish(worst_);
  }
  // Posted: `query_` may be calling us.
  boost::asio::post(io_, [self = shared_from_this(), index, tried, attempt = attempt_] {
    if (attempt != self->attempt_ || self->stopped_) return;
    self->ask((index + 1) % self->settings_.endpoint.sentinels.size(), tried + 1);
  });
}

void Sentinels::finish(Result<RedisAddress> result) {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& done : waiters) done(result);
}

// "<master name> <old ip> <old port> <new ip> <new port>"
void Sentinels::on_switch_message(const Reply& push) {
  if (push.elements[1].text != kSwitchChannel) return;
  std::string_view text = push.elements[2].text;
  std::vector<std::string_view> fields;
  while (!text.empty() && fields.size() < 6) {
    auto space = text.find(' ');
    fields.push_back(text.substr(0, space));
    text = space == text.npos ? std::string_view() : text.substr(space + 1);
  }
  if (fields.size() != 5) return log(LogLevel::warn, "a malformed +switch-master message");
  if (fields[0] != settings_.endpoint.master_name) return;
  auto to = parse_address(fields[3], fields[4]);
  if (!to) return log(LogLevel::warn, "a malformed +switch-master message");
  log(LogLevel::warn, "failover: the master is now " + to->host + ":" + std::to_string(to->port));
  if (on_switch_) on_switch_(*to);
}

}  // namespace igniter::store::redis
