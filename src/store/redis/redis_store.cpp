#include "igniter/store/redis_store.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "base/thread_name.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/sentinel.hpp"
#include "store/subscriber_registry.hpp"

namespace igniter::store {

namespace asio = boost::asio;
using redis::Connection;

namespace {

std::string milliseconds_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count());
}

}  // namespace

struct RedisStore::Impl final : detail::SubscriptionOwner, std::enable_shared_from_this<Impl> {
  using ConnectionListener = detail::Listener<bool>;

  // Redis's view of one channel on the subscription connection (I/O thread only).
  struct ChannelState {
    bool subscribed = false;  // what the last SUBSCRIBE/UNSUBSCRIBE sent asked for
    int unconfirmed = 0;      // SUBSCRIBE/UNSUBSCRIBE sent and not yet confirmed
    bool restoring = false;   // sent by the restore after a reconnect
    std::vector<std::function<void(std::error_code)>> waiters;  // subscribe() calls awaiting confirmation
  };

  Impl(RedisEndpoint endpoint_in, StoreOptions options_in)
      : endpoint(std::move(endpoint_in)), options(std::move(options_in)) {}

  void start() {
    Connection::Settings settings{endpoint,
                                  Connection::Role::commands,
                                  options.timeout,
                                  options.reconnect_min,
                                  options.reconnect_max,
                                  options.max_reply_bytes,
                                  options.logger};
    if (!endpoint.sentinels.empty()) {
      sentinels = std::make_shared<redis::Sentinels>(
          io,
          redis::Sentinels::Settings{endpoint, options.timeout, options.reconnect_min, options.reconnect_max,
                                     options.logger},
          [this](const RedisAddress& to) { on_switch(to); });
      settings.locate = [weak = std::weak_ptr<redis::Sentinels>(sentinels)](
                            std::function<void(Result<RedisAddress>)> done) {
        if (auto found = weak.lock()) return found->locate(std::move(done));
        done(errc::unavailable);
      };
      settings.require_master = true;
    }
    commands = std::make_shared<Connection>(
        io, settings,
        Connection::Events{
            .ready = [this] { on_commands_ready(); },
            .lost = [this](std::error_code why) { on_lost(why, false); },
            .attempt_failed = [this](std::error_code why) { on_attempt_failed(why); },
            .message = {},
        });
    settings.role = Connection::Role::subscriptions;
    subscriptions = std::make_shared<Connection>(
        io, settings,
        Connection::Events{
            .ready = [this] { on_subscriptions_ready(); },
            .lost = [this](std::error_code why) { on_lost(why, true); },
            .attempt_failed = [this](std::error_code why) { on_attempt_failed(why); },
            .message = [this](Reply&& push) { on_message(std::move(push)); },
        });
    asio::post(io, [this] {
      if (sentinels) sentinels->start();
      commands->start();
      subscriptions->start();
    });
    thread = std::thread([this] {
      name_this_thread("igniter-redis");
      io_thread.store(std::this_thread::get_id());
      io.run();
      // Set when the store was destroyed by one of its own handlers: the last owner is this thread.
      auto self = std::move(self_on_io_thread);
    });
  }

  // Returns once both connections are up, a fatal error occurred, or the timeout passed.
  std::error_code wait_connected() {
    std::unique_lock lock(state_mutex);
    state_changed.wait_for(lock, options.timeout, [&] { return up.load() || fatal_error; });
    if (up.load()) return {};
    if (fatal_error) return fatal_error;
    return errc::unavailable;
  }

  // Stops the connections and the I/O thread. On the I/O thread itself (the store destroyed by one
  // of its handlers) the thread is detached and keeps `owner` alive until it has finished.
  void shutdown(std::shared_ptr<Impl> owner) {
    if (closing.exchange(true)) return;
    asio::post(io, [this] {
      commands->stop();
      subscriptions->stop();
      if (sentinels) sentinels->stop();
      for (auto& [name, state] : channels) {
        for (auto& waiter : state.waiters) waiter(errc::unavailable);
      }
      channels.clear();
    });
    work.reset();
    if (on_io_thread()) {
      self_on_io_thread = std::move(owner);
      thread.detach();
    } else if (thread.joinable()) {
      thread.join();
    }
  }

  bool on_io_thread() const { return std::this_thread::get_id() == io_thread.load(); }

  // Reply -> Result for the Store operations: an error reply becomes its error code. Any other kind
  // than `expected` is a protocol error, and closes the command connection: a server that answers GET
  // with an array may have put every later reply out of step.
  std::error_code check(const Result<Reply>& reply, std::initializer_list<Reply::Kind> expected) {
    if (!reply) return reply.error();
    if (reply->is_error()) return redis::error_from_reply(*reply);
    for (auto kind : expected) {
      if (reply->kind == kind) return {};
    }
    if (options.logger) options.logger->warn("redis store: a reply of an unexpected kind; reconnecting");
    asio::post(io, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->commands->abort(errc::protocol);
    });
    return errc::protocol;
  }

  // Blocking calls, from any thread but the I/O thread. The result is exact about whether the command
  // ran: unavailable/busy, never sent (one still queued when `timeout` passes is withdrawn); a reply; or
  // timeout, written and unanswered. A written command is never abandoned while its connection lives:
  // we wait for the connection's verdict, which comes at most `timeout` after it was sent (the watchdog
  // closes a connection with an overdue reply), so a caller told "timeout" knows the connection that
  // carried it is closed.
  Result<Reply> call(std::vector<std::string> args) {
    if (on_io_thread()) return errc::would_deadlock;
    if (closing.load() || !commands_ready.load()) return errc::unavailable;
    if (!reserve()) return errc::busy;
    struct State {
      std::promise<Result<Reply>> promise;
      std::uint64_t ticket = 0;  // I/O thread only
    };
    auto state = std::make_shared<State>();
    auto future = state->promise.get_future();
    asio::post(io, [weak = weak_from_this(), args = std::move(args), state]() mutable {
      auto self = weak.lock();
      if (!self) return;
      state->ticket = self->commands->send(args, [impl = self.get(), state](Result<Reply> reply) {
        impl->in_flight.fetch_sub(1);
        state->promise.set_value(std::move(reply));
      });
    });
    if (future.wait_for(options.timeout) != std::future_status::ready) {
      asio::post(io, [weak = weak_from_this(), state] {
        if (auto self = weak.lock()) self->commands->withdraw(state->ticket, errc::unavailable);
      });
      // The watchdog's period is at most 250 ms; the margin covers a loaded machine.
      if (future.wait_for(options.timeout + std::chrono::seconds(1)) != std::future_status::ready) {
        return errc::timeout;
      }
    }
    try {
      return future.get();
    } catch (const std::future_error&) {  // the store closed before the command was sent
      return errc::unavailable;
    }
  }

  // `refused` set: deliver that error instead of sending (still on the I/O thread, like every reply).
  void call_async(std::vector<std::string> args, ReplyHandler done, std::error_code refused = {}) {
    auto deliver = [this, done = std::move(done)](Result<Reply> reply) {
      try {
        done(std::move(reply));
      } catch (const std::exception& e) {
        if (options.logger) options.logger->error(std::string("store: a reply handler threw: ") + e.what());
      } catch (...) {
        if (options.logger) options.logger->error("store: a reply handler threw a non-exception");
      }
    };
    if (refused) {
    } else if (closing.load() || !commands_ready.load()) {
      refused = errc::unavailable;
    } else if (!reserve()) {
      refused = errc::busy;
    }
    asio::post(io, [weak = weak_from_this(), args = std::move(args), deliver = std::move(deliver),
                    refused]() mutable {
      auto self = weak.lock();
      if (!self) return;
      if (refused) return deliver(refused);
      self->commands->send(args,
                           [impl = self.get(), deliver = std::move(deliver)](Result<Reply> reply) mutable {
                             impl->in_flight.fetch_sub(1);
                             deliver(std::move(reply));
                           });
    });
  }

  bool reserve() {
    if (in_flight.fetch_add(1) >= options.max_pending) {
      in_flight.fetch_sub(1);
      return false;
    }
    return true;
  }

  Result<Subscription> subscribe(std::string_view channel, MessageHandler handler) {
    if (!handler) return errc::invalid_argument;
    if (on_io_thread()) return errc::would_deadlock;
    if (closing.load() || !subscriptions_ready.load()) return errc::unavailable;
    auto full = key(channel);
    auto added = subscribers.add(full, std::string(channel), std::move(handler));
    auto id = added.subscriber->listener.id();
    auto promise = std::make_shared<std::promise<std::error_code>>();
    auto future = promise->get_future();
    asio::post(io, [weak = weak_from_this(), full, promise] {
      if (auto self = weak.lock())
        self->sync_channel(full, [promise](std::error_code ec) { promise->set_value(ec); });
    });
    std::error_code error;
    if (future.wait_for(options.timeout) != std::future_status::ready) {
      error = errc::timeout;
    } else {
      try {
        error = future.get();
      } catch (const std::future_error&) {
        error = errc::unavailable;
      }
    }
    if (error) {
      unsubscribe(id);
      return error;
    }
    std::weak_ptr<detail::SubscriptionOwner> owner = shared_from_this();
    return Subscription(std::move(owner), id, std::string(channel));
  }

  void unsubscribe(std::uint64_t id) noexcept override {
    {
      std::unique_lock lock(listeners_mutex);
      auto it = std::find_if(listeners.begin(), listeners.end(), [id](auto& l) { return l->id() == id; });
      if (it != listeners.end()) {
        auto listener = std::move(*it);
        listeners.erase(it);
        lock.unlock();
        listener->deactivate();
        return;
      }
    }
    auto removed = subscribers.remove(id);
    if (!removed || !removed->channel_now_empty || closing.load()) return;
    try {
      asio::post(io, [weak = weak_from_this(), channel = std::move(removed->full_channel)] {
        if (auto self = weak.lock()) self->sync_channel(channel, {});
      });
    } catch (...) {  // out of memory: Redis keeps sending to a channel nobody reads, which is harmless
    }
  }

  Subscription add_listener(ConnectionHandler handler) {
    auto listener = std::make_shared<ConnectionListener>(subscribers.next_id(), std::move(handler));
    auto id = listener->id();
    {
      std::scoped_lock lock(state_mutex, listeners_mutex);
      listeners.push_back(std::move(listener));
    }
    std::weak_ptr<detail::SubscriptionOwner> owner = shared_from_this();
    return Subscription(std::move(owner), id, {});
  }

  std::string key(std::string_view name) const {
    std::string full;
    full.reserve(options.key_prefix.size() + name.size());
    full.append(options.key_prefix).append(name);
    return full;
  }

  // From here on, the I/O thread only.

  // Brings Redis's subscription to `channel` in line with whether anyone here subscribes to it.
  // Working from the registry rather than from the order of requests keeps a subscribe and an
  // unsubscribe racing on two threads from leaving Redis unsubscribed under a live subscriber.
  void sync_channel(const std::string& channel, std::function<void(std::error_code)> waiter) {
    if (!subscriptions->ready()) {
      if (waiter) waiter(errc::unavailable);
      return;
    }
    bool wanted = subscribers.has(channel);
    auto& state = channels[channel];
    if (wanted == state.subscribed) {
      if (waiter) {
        if (wanted && state.unconfirmed > 0) {
          state.waiters.push_back(std::move(waiter));
        } else {
          waiter({});
        }
      }
      if (!wanted && state.unconfirmed == 0) channels.erase(channel);
      return;
    }
    state.subscribed = wanted;
    ++state.unconfirmed;
    if (waiter) {
      if (wanted) {
        state.waiters.push_back(std::move(waiter));
      } else {
        waiter({});
      }
    }
    subscriptions->send({wanted ? "SUBSCRIBE" : "UNSUBSCRIBE", channel},
                        [this, channel](Result<Reply> reply) { on_channel_reply(channel, reply); });
  }

  void on_channel_reply(const std::string& channel, const Result<Reply>& reply) {
    if (!reply) return;  // the connection is gone; on_lost() resets every channel
    auto it = channels.find(channel);
    if (it == channels.end()) return;
    auto& state = it->second;
    if (reply->is_error() && options.logger) {
      options.logger->warn("redis: (un)subscribing " + channel + " failed: " + reply->text);
    }
    if (state.restoring) {
      state.restoring = false;
      --restoring;
    }
    if (--state.unconfirmed > 0) return;
    auto waiters = std::move(state.waiters);
    std::error_code result = reply->is_error() ? redis::error_from_reply(*reply) : std::error_code{};
    if (!state.subscribed) channels.erase(it);
    for (auto& waiter : waiters) waiter(result);
    update_up();
  }

  void on_message(Reply&& push) {
    // ["message", channel, payload], three bulk strings: the connection checked the shape.
    auto list = subscribers.find(push.elements[1].text);
    if (!list) return;
    const auto& payload = push.elements[2].text;
    boost::system::error_code ec;
    json::value message = json::parse(payload, ec);
    if (ec) message = json::string(payload);  // published by something else than a store: deliver as text
    for (const auto& subscriber : *list) subscriber->deliver(options.logger, message);
  }

  void on_commands_ready() {
    commands_ready.store(true);
    update_up();
  }

  void on_subscriptions_ready() {
    subscriptions_ready.store(true);
    // Restore every channel that has subscribers here, many per SUBSCRIBE.
    auto names = subscribers.channels();
    constexpr std::size_t kChannelsPerCommand = 256;
    for (std::size_t begin = 0; begin < names.size(); begin += kChannelsPerCommand) {
      auto end = std::min(names.size(), begin + kChannelsPerCommand);
      std::vector<std::string> args{"SUBSCRIBE"};
      std::vector<ReplyHandler> replies;
      for (auto i = begin; i < end; ++i) {
        auto& state = channels[names[i]];
        state.subscribed = true;
        state.restoring = true;
        ++state.unconfirmed;
        ++restoring;
        args.push_back(names[i]);
        replies.push_back(
            [this, channel = names[i]](Result<Reply> reply) { on_channel_reply(channel, reply); });
      }
      subscriptions->send(args, std::move(replies));
    }
    update_up();
  }

  void on_lost(std::error_code why, bool subscription_connection) {
    if (subscription_connection) {
      subscriptions_ready.store(false);
      restoring = 0;
      auto lost = std::move(channels);
      channels.clear();
      for (auto& [name, state] : lost) {
        for (auto& waiter : state.waiters) waiter(errc::unavailable);
      }
    } else {
      commands_ready.store(false);
    }
    remember_error(why, false);
    update_up();
  }

  // A Sentinel announced a failover: leave the old master now rather than when its connections fail
  // (it may be alive and demoted, or dead with the kernel not yet telling us).
  void on_switch(const RedisAddress& to) {
    for (auto* connection : {commands.get(), subscriptions.get()}) {
      if (connection->ready() && connection->address() == to) continue;
      connection->reconnect_now(errc::unavailable);
    }
  }

  void on_attempt_failed(std::error_code why) {
    bool fatal = why == errc::auth_failed || why == errc::command_failed;
    remember_error(why, fatal);
  }

  void remember_error(std::error_code why, bool fatal) {
    std::lock_guard lock(state_mutex);
    if (fatal) fatal_error = why;
    state_changed.notify_all();
  }

  void update_up() {
    bool now_up = commands->ready() && subscriptions->ready() && restoring == 0;
    if (now_up == up.load()) return;
    std::vector<std::shared_ptr<ConnectionListener>> snapshot;
    {
      // One critical section with add_listener(): a listener hears exactly the changes after it was added.
      std::scoped_lock lock(state_mutex, listeners_mutex);
      up.store(now_up);
      if (now_up) fatal_error = {};
      snapshot = listeners;
    }
    state_changed.notify_all();
    if (options.logger) options.logger->info(now_up ? "redis store: connected" : "redis store: disconnected");
    for (auto& listener : snapshot) listener->call(options.logger, now_up);
  }

  RedisEndpoint endpoint;
  StoreOptions options;

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<Connection> commands;
  std::shared_ptr<Connection> subscriptions;
  std::shared_ptr<redis::Sentinels> sentinels;  // with redis-sentinel:// only
  std::thread thread;
  std::atomic<std::thread::id> io_thread{};
  std::shared_ptr<Impl> self_on_io_thread;

  std::atomic<bool> closing{false};
  std::atomic<bool> commands_ready{false};
  std::atomic<bool> subscriptions_ready{false};
  std::atomic<bool> up{false};
  std::atomic<std::size_t> in_flight{0};

  std::mutex state_mutex;  // with state_changed: what open() waits for
  std::condition_variable state_changed;
  std::error_code fatal_error;

  detail::SubscriberRegistry subscribers;
  detail::StringMap<ChannelState> channels;  // I/O thread only
  std::size_t restoring = 0;                 // I/O thread only: restore confirmations outstanding

  std::mutex listeners_mutex;
  std::vector<std::shared_ptr<ConnectionListener>> listeners;
};

Result<std::shared_ptr<RedisStore>> RedisStore::open(RedisEndpoint endpoint, StoreOptions options) {
  if (!endpoint.sentinels.empty() && endpoint.master_name.empty()) return errc::invalid_url;
  if (endpoint.sentinels.size() > kMaxSentinels) return errc::invalid_url;
  if (options.timeout.count() <= 0 || options.reconnect_min.count() <= 0 ||
      options.reconnect_max < options.reconnect_min || options.max_pending == 0 ||
      options.max_reply_bytes < 1024) {
    return errc::invalid_argument;
  }
  auto impl = std::make_shared<Impl>(std::move(endpoint), std::move(options));
  impl->start();
  auto error = impl->wait_connected();
  bool fatal = error == errc::auth_failed || error == errc::command_failed;
  if (error && (fatal || impl->options.require_connection)) {
    impl->shutdown(impl);
    return error;
  }
  return std::shared_ptr<RedisStore>(new RedisStore(std::move(impl)));
}

Result<std::shared_ptr<RedisStore>> RedisStore::open(std::string_view url, StoreOptions options) {
  auto endpoint = parse_redis_url(url);
  if (!endpoint) return endpoint.error();
  return open(std::move(*endpoint), std::move(options));
}

RedisStore::RedisStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RedisStore::~RedisStore() {
  impl_->shutdown(impl_);
}

Result<std::optional<json::value>> RedisStore::get(std::string_view key) {
  auto reply = impl_->call({"GET", impl_->key(key)});
  if (auto error = impl_->check(reply, {Reply::Kind::string, Reply::Kind::nil})) return error;
  if (reply->is_nil()) return std::optional<json::value>{};
  boost::system::error_code ec;
  auto value = json::parse(reply->text, ec);
  if (ec) return errc::invalid_value;
  return std::optional<json::value>(std::move(value));
}

Result<void> RedisStore::set(std::string_view key, const json::value& value,
                             std::optional<std::chrono::milliseconds> ttl) {
  if (ttl && ttl->count() <= 0) return errc::invalid_argument;
  std::vector<std::string> args{"SET", impl_->key(key), json::stringify(value)};
  if (ttl) {
    args.emplace_back("PX");
    args.push_back(milliseconds_text(*ttl));
  }
  auto reply = impl_->call(std::move(args));
  if (auto error = impl_->check(reply, {Reply::Kind::status})) return error;
  return {};
}

Result<bool> RedisStore::remove(std::string_view key) {
  auto reply = impl_->call({"DEL", impl_->key(key)});
  if (auto error = impl_->check(reply, {Reply::Kind::integer})) return error;
  return reply->integer > 0;
}

Result<bool> RedisStore::has(std::string_view key) {
  auto reply = impl_->call({"EXISTS", impl_->key(key)});
  if (auto error = impl_->check(reply, {Reply::Kind::integer})) return error;
  return reply->integer > 0;
}

Result<std::int64_t> RedisStore::increment(std::string_view key, std::int64_t by) {
  auto reply = impl_->call({"INCRBY", impl_->key(key), std::to_string(by)});
  if (auto error = impl_->check(reply, {Reply::Kind::integer})) return error;
  return std::int64_t(reply->integer);
}

Result<bool> RedisStore::expire(std::string_view key, std::chrono::milliseconds ttl) {
  // PEXPIRE with a ttl that is not positive deletes the key, as the Store contract says.
  auto reply = impl_->call({"PEXPIRE", impl_->key(key), milliseconds_text(ttl)});
  if (auto error = impl_->check(reply, {Reply::Kind::integer})) return error;
  return reply->integer > 0;
}

Result<void> RedisStore::publish(std::string_view channel, const json::value& message) {
  auto reply = impl_->call({"PUBLISH", impl_->key(channel), json::stringify(message)});
  if (auto error = impl_->check(reply, {Reply::Kind::integer})) return error;
  return {};
}

Result<Subscription> RedisStore::subscribe(std::string_view channel, MessageHandler handler) {
  return impl_->subscribe(channel, std::move(handler));
}

Result<Reply> RedisStore::command(std::vector<std::string> args) {
  if (args.empty()) return errc::invalid_argument;
  return impl_->call(std::move(args));
}

Result<Reply> RedisStore::command(std::initializer_list<std::string_view> args) {
  return command(std::vector<std::string>(args.begin(), args.end()));
}

void RedisStore::command_async(std::vector<std::string> args, ReplyHandler done) {
  if (!done) done = [](Result<Reply>) {};
  std::error_code refused = args.empty() ? std::error_code(errc::invalid_argument) : std::error_code();
  impl_->call_async(std::move(args), std::move(done), refused);
}

Subscription RedisStore::on_connection_change(ConnectionHandler handler) {
  return impl_->add_listener(std::move(handler));
}

bool RedisStore::connected() const noexcept {
  return impl_->up.load();
}

std::string RedisStore::key(std::string_view name) const {
  return impl_->key(name);
}

const RedisEndpoint& RedisStore::endpoint() const noexcept {
  return impl_->endpoint;
}

const StoreOptions& RedisStore::options() const noexcept {
  return impl_->options;
}

}  // namespace igniter::store
