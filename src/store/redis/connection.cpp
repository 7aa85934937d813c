#include "store/redis/connection.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace igniter::store::redis {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// RESP: an array of bulk strings.
void append_command(std::string& out, const std::vector<std::string>& args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (const auto& arg : args) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out += arg;
    out += "\r\n";
  }
}

// A pub/sub push: an array whose first element names the kind. Replies to SUBSCRIBE ("subscribe") and
// to PING in subscribed mode ("pong") have that shape too, but are answers to a pending command.
bool looks_like_push(const Reply& reply) {
  return reply.kind == Reply::Kind::array && !reply.elements.empty() &&
         reply.elements[0].kind == Reply::Kind::string &&
         (reply.elements[0].text == "message" || reply.elements[0].text == "pmessage");
}

// The only push we ask for (we never PSUBSCRIBE): ["message", channel, payload], all bulk strings.
bool is_valid_message(const Reply& reply) {
  return reply.elements.size() == 3 && reply.elements[0].text == "message" &&
         reply.elements[1].kind == Reply::Kind::string && reply.elements[2].kind == Reply::Kind::string;
}

}  // namespace

std::error_code error_from_reply(const Reply& reply) {
  std::string_view text = reply.text;
  if (text.starts_with("WRONGTYPE") || text.find("not an integer") != std::string_view::npos) {
    return errc::wrong_type;
  }
  if (text.find("overflow") != std::string_view::npos) return errc::out_of_range;
  if (text.starts_with("NOAUTH") || text.starts_with("WRONGPASS") ||
      text.find("invalid password") != text.npos || text.find("invalid username-password") != text.npos) {
    return errc::auth_failed;
  }
  if (text.starts_with("LOADING") || text.starts_with("MASTERDOWN") || text.starts_with("BUSY") ||
      text.starts_with("READONLY")) {
    return errc::unavailable;
  }
  return errc::command_failed;
}

Connection::Connection(asio::io_context& io, Settings settings, Events events)
    : io_(io),
      settings_(std::move(settings)),
      events_(std::move(events)),
      address_{settings_.endpoint.host, settings_.endpoint.port},
      resolver_(io),
      socket_(io),
      backoff_timer_(io),
      watchdog_(io),
      backoff_(settings_.reconnect_min),
      reader_(std::make_unique<ReplyReader>(settings_.max_reply_bytes)) {}

Connection::~Connection() = default;

void Connection::log(LogLevel level, const std::string& text) const {
  if (!settings_.logger || !settings_.logger->enabled(level)) return;
  settings_.logger->log(
      level, "redis " + std::string(settings_.role == Role::commands ? "commands" : "subscriptions") +
                 " connection to " + address_.host + ":" + std::to_string(address_.port) + ": " + text);
}

void Connection::start() {
  if (state_ != State::idle) return;
  arm_watchdog();
  connect();
}

void Connection::stop() {
  if (state_ == State::stopped) return;
  ++generation_;
  state_ = State::stopped;
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  backoff_timer_.cancel();
  watchdog_.cancel();
  queued_.clear();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& entry : pending) entry.done(errc::unavailable);
}

void Connection::abort(std::error_code why) {
  if (state_ == State::ready) fail(why, errc::timeout);
}

void Connection::reconnect_now(std::error_code why) {
  if (state_ == State::stopped || state_ == State::idle) return;
  backoff_ = settings_.reconnect_min;
  if (state_ == State::waiting) {
    ++generation_;  // the backoff timer's wait is now stale
    backoff_timer_.cancel();
    return connect();
  }
  fail(why, errc::timeout);
}

void Connection::connect() {
  if (!settings_.locate) return resolve();
  state_ = State::locating;
  auto generation = generation_;
  settings_.locate([self = shared_from_this(), generation](Result<RedisAddress> found) {
    if (generation != self->generation_ || self->state_ != State::locating) return;
    if (!found) return self->fail(found.error(), errc::unavailable);
    self->address_ = std::move(*found);
    self->resolve();
  });
}

void Connection::resolve() {
  state_ = State::connecting;
  attempt_deadline_ = Clock::now() + settings_.timeout;
  auto generation = generation_;
  resolver_.async_resolve(
      address_.host, std::to_string(address_.port),
      [self = shared_from_this(), generation](const boost::system::error_code& ec,
                                              tcp::resolver::results_type found) {
        if (generation != self->generation_) return;
        if (ec) return self->fail(errc::unavailable, errc::unavailable);
        asio::async_connect(self->socket_, found,
                            [self, generation](const boost::system::error_code& ec, const tcp::endpoint&) {
                              if (generation != self->generation_) return;
                              if (ec) return self->fail(errc::unavailable, errc::unavailable);
                              self->on_connected();
                            });
      });
}

void Connection::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  state_ = State::handshaking;
  last_traffic_ = Clock::now();
  read();

  const auto& endpoint = settings_.endpoint;
  auto generation = generation_;
  // The handshake is pipelined: AUTH, SELECT and a PING whose answer means the connection is usable.
  auto check = [this, generation](std::error_code on_error) {
    return [this, generation, on_error](Result<Reply> reply) {
      if (generation != generation_ || !reply) return;
      if (reply->is_error()) {
        log(LogLevel::warn, "handshake refused: " + reply->text);
        fail(on_error, errc::unavailable);
      }
    };
  };
  if (!endpoint.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!endpoint.user.empty()) auth.push_back(endpoint.user);
    auth.push_back(endpoint.password);
    enqueue(auth, {check(errc::auth_failed)});
  }
  // Pub/sub channels are not per database: the subscription connection needs no SELECT.
  if (endpoint.db != 0 && settings_.role == Role::commands) {
    enqueue({"SELECT", std::to_string(endpoint.db)}, {check(errc::command_failed)});
  }
  // A Sentinel's answer may be stale (a failover under way, a demoted master not yet reconfigured):
  // only a server that says it is the master will do.
  if (settings_.require_master) {
    enqueue({"ROLE"}, {[this, generation](Result<Reply> reply) {
              if (generation != generation_ || !reply) return;
              if (reply->kind == Reply::Kind::array && !reply->elements.empty() &&
                  reply->elements[0].kind == Reply::Kind::string && reply->elements[0].text == "master")
                return;
              std::string role = reply->is_error() ? reply->text
                                 : reply->kind == Reply::Kind::array && !reply->elements.empty()
                                     ? reply->elements[0].text.substr(0, 32)
                                     : std::string("?");
              log(LogLevel::warn, "not the master (ROLE: " + role + "); asking the Sentinels again");
              fail(reply->is_error() ? error_from_reply(*reply) : std::error_code(errc::unavailable),
                   errc::unavailable);
            }});
  }
  enqueue({"PING"}, {[this, generation](Result<Reply> reply) {
            if (generation != generation_ || !reply) return;
            if (reply->is_error()) {
              log(LogLevel::warn, "handshake refused: " + reply->text);
              return fail(error_from_reply(*reply), errc::unavailable);
            }
            state_ = State::ready;
            ready_since_ = Clock::now();
            log(LogLevel::info, "connected");
            if (events_.ready) events_.ready();
          }});
}

std::uint64_t Connection::send(const std::vector<std::string>& args, ReplyHandler done) {
  std::vector<ReplyHandler> replies;
  replies.push_back(std::move(done));
  return send(args, std::move(replies));
}

std::uint64_t Connection::send(const std::vector<std::string>& args, std::vector<ReplyHandler> replies) {
  if (state_ != State::ready) {
    for (auto& done : replies) done(errc::unavailable);
    return 0;
  }
  return enqueue(args, std::move(replies));
}

std::uint64_t Connection::enqueue(const std::vector<std::string>& args, std::vector<ReplyHandler> replies) {
  auto ticket = next_ticket_++;
  Queued queued{.bytes = {}, .ticket = ticket};
  append_command(queued.bytes, args);
  queued_.push_back(std::move(queued));
  auto now = Clock::now();
  for (auto& done : replies) pending_.push_back({std::move(done), now, ticket, false});
  flush();
  return ticket;
}

bool Connection::withdraw(std::uint64_t ticket, std::error_code error) {
  auto queued =
      std::find_if(queued_.begin(), queued_.end(), [ticket](auto& q) { return q.ticket == ticket; });
  if (queued == queued_.end()) return false;
  queued_.erase(queued);
  std::vector<ReplyHandler> handlers;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->ticket == ticket) {
      handlers.push_back(std::move(it->done));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : handlers) done(error);
  return true;
}

// Commands queued while a write is in flight go out together in the next one: under load, one
// write carries many commands.
void Connection::flush() {
  if (write_in_progress_ || queued_.empty()) return;
  write_in_progress_ = true;
  writing_.clear();
  for (auto& queued : queued_) writing_ += queued.bytes;
  queued_.clear();
  // From here on Redis may run them whatever becomes of this connection: they can no longer be withdrawn.
  for (auto it = pending_.rbegin(); it != pending_.rend() && !it->written; ++it) it->written = true;
  auto generation = generation_;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this(), generation](const boost::system::error_code& ec, std::size_t) {
        if (generation != self->generation_) return;
        self->write_in_progress_ = false;
        if (ec) return self->fail(errc::unavailable, errc::timeout);
        self->flush();
      });
}

void Connection::read() {
  auto generation = generation_;
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this(), generation](const boost::system::error_code& ec, std::size_t size) {
        if (generation != self->generation_) return;
        if (ec) return self->fail(errc::unavailable, errc::timeout);
        self->last_traffic_ = Clock::now();
        if (auto error = self->reader_->feed(self->read_buffer_.data(), size))
          return self->fail(error, error);
        for (;;) {
          auto reply = self->reader_->next();
          if (!reply) return self->fail(reply.error(), reply.error());
          if (!*reply) break;
          self->on_reply(std::move(**reply));
          // A callback may have closed this connection (and replaced the reader).
          if (generation != self->generation_) return;
        }
        self->read();
      });
}

void Connection::on_reply(Reply&& reply) {
  if (settings_.role == Role::subscriptions && looks_like_push(reply)) {
    if (!is_valid_message(reply)) {
      log(LogLevel::warn, "malformed pub/sub message from Redis");
      return fail(errc::protocol, errc::protocol);
    }
    if (events_.message) events_.message(std::move(reply));
    return;
  }
  if (pending_.empty()) return fail(errc::protocol, errc::protocol);
  auto done = std::move(pending_.front().done);
  pending_.pop_front();
  bool demoted = settings_.require_master && reply.is_error() && reply.text.starts_with("READONLY");
  auto generation = generation_;
  done(std::move(reply));
  // A master demoted under us (a failover we did not hear of): back to the Sentinels.
  if (demoted && generation == generation_ && state_ == State::ready) {
    log(LogLevel::warn, "READONLY: no longer the master; asking the Sentinels again");
    backoff_ = settings_.reconnect_min;
    fail(errc::unavailable, errc::timeout);
  }
}

void Connection::fail(std::error_code why, std::error_code pending_error) {
  if (state_ == State::stopped || state_ == State::waiting) return;
  bool was_ready = state_ == State::ready;
  ++generation_;
  state_ = State::waiting;
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  reader_ = std::make_unique<ReplyReader>(settings_.max_reply_bytes);
  queued_.clear();
  write_in_progress_ = false;
  auto pending = std::move(pending_);
  pending_.clear();

  // The backoff starts over only after a connection that lasted: one that a broken or hostile server
  // ends at once (a malformed reply after every handshake) is retried ever more slowly, not in a loop.
  if (was_ready && Clock::now() - ready_since_ >= settings_.reconnect_max) backoff_ = settings_.reconnect_min;
  auto delay = backoff_;
  backoff_ = std::min(backoff_ * 2, settings_.reconnect_max);
  log(was_ready ? LogLevel::warn : LogLevel::debug, (was_ready ? "lost (" : "attempt failed (") +
                                                        why.message() + "); retrying in " +
                                                        std::to_string(delay.count()) + " ms");
  backoff_timer_.expires_after(delay);
  auto generation = generation_;
  backoff_timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    if (ec || generation != self->generation_ || self->state_ != State::waiting) return;
    self->connect();
  });

  // Last, as these callbacks may call back into this connection (which now refuses new commands).
  // A command never written cannot have run: unavailable says so; for the others the outcome is unknown.
  for (auto& entry : pending) entry.done(entry.written ? pending_error : std::error_code(errc::unavailable));
  if (was_ready) {
    if (events_.lost) events_.lost(why);
  } else if (events_.attempt_failed) {
    events_.attempt_failed(why);
  }
}

void Connection::arm_watchdog() {
  auto period =
      std::clamp(settings_.timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
  watchdog_.expires_after(period);
  watchdog_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->state_ == State::stopped) return;
    self->on_watchdog();
    self->arm_watchdog();
  });
}

// A connection that Redis no longer answers (a paused server, a lost network) gives no error of
// its own: a reply overdue by `timeout`, or a connect that takes longer, closes it. An idle
// connection sends PING every `timeout` so that this also holds without traffic.
void Connection::on_watchdog() {
  auto now = Clock::now();
  switch (state_) {
    case State::connecting:
    case State::handshaking:
      if (now > attempt_deadline_) fail(errc::timeout, errc::unavailable);
      break;
    case State::ready:
      if (!pending_.empty()) {
        if (now - pending_.front().sent > settings_.timeout) fail(errc::timeout, errc::timeout);
      } else if (now - last_traffic_ > settings_.timeout) {
        last_traffic_ = now;
        enqueue({"PING"}, {[](Result<Reply>) {}});
      }
      break;
    default:
      break;
  }
}

}  // namespace igniter::store::redis
