#include "igniter/client/subscription.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/empty_body.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "base/thread_name.hpp"
#include "client/backoff.hpp"
#include "client/client_state.hpp"
#include "client/connection.hpp"
#include "client/response_reader.hpp"
#include "client/sse_parser.hpp"
#include "client/wire.hpp"
#include "igniter/client/client.hpp"

namespace igniter::client {

std::string_view to_string(State state) noexcept {
  switch (state) {
    case State::connecting:
      return "connecting";
    case State::open:
      return "open";
    case State::reconnecting:
      return "reconnecting";
    case State::closed:
      return "closed";
  }
  return "unknown";
}

namespace detail {
namespace {

bool istarts_with(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// Calls a user callback; what it throws stays here, so the stream thread keeps going.
template <class F, class... Args>
void notify(const F& callback, Args&&... args) noexcept {
  if (!callback) return;
  try {
    callback(std::forward<Args>(args)...);
  } catch (...) {
  }
}

}  // namespace

/// A subscription's state, shared by its handle and its thread. Members marked "stream thread" are
/// touched by that thread only (and by handlers posted to io_, which that thread runs).
class SubscriptionState : public std::enable_shared_from_this<SubscriptionState> {
 public:
  SubscriptionState(std::shared_ptr<ClientState> client, SubscribeOptions options)
      : client_(std::move(client)), options_(std::move(options)) {
    channels_ = options_.channels;
    channels_given_ = !channels_.empty();
    last_event_id_ = options_.last_event_id;
  }

  ~SubscriptionState() {
    if (thread_.joinable()) {
      // Only when the handle was destroyed by one of this thread's own callbacks is the thread still here.
      if (thread_.get_id() == std::this_thread::get_id())
        thread_.detach();
      else
        thread_.join();
    }
  }

  void start() {
    thread_ = std::thread([self = shared_from_this()] {
      name_this_thread("igniter-client");
      self->run();
    });
  }

  void close() {
    // Handlers posted to io_ run only inside the stream thread's io_.run(), while this state lives; they
    // hold no reference to it (one left queued when the thread has ended must not keep it alive).
    if (!closed_.exchange(true))
      asio::post(io_, [this] {
        if (current_) current_->interrupt();
      });
    if (running_ == this) return;  // from a callback: the loop ends once it returns
    std::lock_guard lock(join_mutex_);
    if (thread_.joinable()) thread_.join();
  }

  Reply<ChannelChange> change(std::vector<std::string> add, std::vector<std::string> remove) noexcept {
    try {
      return change_once(std::move(add), std::move(remove));
    } catch (const std::exception& e) {
      return Error{.ec = errc::internal_error, .message = std::string("The change failed: ") + e.what()};
    } catch (...) {
      return Error{.ec = errc::internal_error, .message = "The change failed"};
    }
  }

 private:
  Reply<ChannelChange> change_once(std::vector<std::string> add, std::vector<std::string> remove) {
    if (closed_) return Error{.ec = errc::closed, .message = "The subscription is closed"};
    std::uint64_t version = 0, serial = 0;
    bool open = false;
    std::string connection_id, token;
    {
      std::lock_guard lock(mutex_);
      for (const auto& channel : remove) std::erase(channels_, channel);
      for (const auto& channel : add)
        if (std::find(channels_.begin(), channels_.end(), channel) == channels_.end())
          channels_.push_back(channel);
      channels_given_ = true;
      version = ++channels_version_;
      open = open_;
      serial = open_serial_;
      connection_id = connection_id_;
      token = token_;
    }
    ChannelChange deferred{.deferred = true};
    if (!open) return Reply<ChannelChange>(deferred, 0);  // the stream being opened, or the next, asks for it
    if (!connection_id.empty()) {
      json::object body{{"connectionId", connection_id},
                        {"token", token},
                        {"subscribe", boost::json::value_from(add)},
                        {"unsubscribe", boost::json::value_from(remove)}};
      auto reply = client_->call(Method::POST, options_.path + "/subscriptions", {.body = std::move(body)});
      if (reply) return Reply<ChannelChange>(parse_channel_change(*reply), reply.status());
    }
    // The open stream did not take the change (it is gone, the token no longer matches, the call failed,
    // or the server has no live changes): reopening it applies the whole set, resuming where it was.
    drop_if_older(serial, version);
    return Reply<ChannelChange>(deferred, 0);
  }

 public:
  std::string last_event_id() const {
    std::lock_guard lock(mutex_);
    return last_event_id_;
  }
  State state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }
  bool wait_open(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return state_changed_.wait_for(lock, timeout, [&] {
      return state_ == State::open || state_ == State::closed;
    }) && state_ == State::open;
  }
  std::vector<std::string> channels() const {
    std::lock_guard lock(mutex_);
    return channels_;
  }

 private:
  void run() noexcept {
    try {
      loop();
    } catch (...) {
      // Only the bookkeeping around the streams is left here (they are guarded): the subscription stops,
      // and says so, rather than end the program.
      closed_ = true;
      try {
        report({.state = State::closed,
                .error = Error{.ec = errc::internal_error, .message = "The subscription's thread failed"}});
      } catch (...) {
      }
    }
  }

  void loop() {
    running_ = this;
    Backoff backoff(options_.backoff);
    while (!closed_) {
      report({.state = State::connecting, .attempt = backoff.attempts()});
      auto why = guarded_run_stream(backoff);
      if (closed_) break;
      if (reopen_now_) {
        reopen_now_ = false;
        continue;
      }
      auto delay = backoff.next();
      report({.state = State::reconnecting,
              .error = std::move(why),
              .retry_in = delay,
              .attempt = backoff.attempts()});
      Connection waiter(io_);
      current_ = &waiter;
      ++current_serial_;  // a drop posted for the stream that ended must not touch the next one
      waiter.wait(delay);
      current_ = nullptr;
    }
    report({.state = State::closed});
  }

  // run_stream, whose exceptions (a request field too long for Beast, memory running out...) end that
  // stream like any failure: reported, then a reconnect after the backoff delay. Nothing thrown may leave
  // the thread (std::terminate would end the program).
  Error guarded_run_stream(Backoff& backoff) noexcept {
    try {
      return run_stream(backoff);
    } catch (const std::length_error& e) {
      return Error{.ec = errc::invalid_request,
                   .message = std::string("The stream's request cannot be written: ") + e.what()};
    } catch (const std::exception& e) {
      return Error{.ec = errc::internal_error, .message = std::string("The stream failed: ") + e.what()};
    } catch (...) {
      return Error{.ec = errc::internal_error, .message = "The stream failed"};
    }
  }

  // One connection, from connect to its end; returns why it ended.
  Error run_stream(Backoff& backoff) {
    Connection connection(io_, client_->tls_context());
    current_ = &connection;
    auto serial = ++current_serial_;
    reopen_now_ = false;
    struct Reset {
      SubscriptionState& self;
      ~Reset() {
        self.current_ = nullptr;
        std::lock_guard lock(self.mutex_);
        self.open_ = false;
      }
    } reset{*this};

    std::vector<std::string> channels;
    std::uint64_t version = 0;
    std::string last_event_id;
    {
      std::lock_guard lock(mutex_);
      channels = channels_;
      version = channels_version_;
      last_event_id = last_event_id_;
    }
    const auto& url = client_->url();
    const auto& client_options = client_->options();
    auto target = make_target(
        url.base_path, options_.path, {},
        json::object{{"channels", join_comma(channels)}, {"scopes", join_comma(options_.scopes)}});
    if (!target) return std::move(target).error();
    if (auto ec = connection.connect(url.host, url.port, client_options.connect_timeout))
      return transport_error(ec, "Connecting to " + url.host_header, client_options.connect_timeout);

    http::request<http::empty_body> request{http::verb::get, *target, 11};
    request.set(http::field::host, url.host_header);
    request.set(http::field::user_agent, "igniter-cpp-client");
    request.set(http::field::accept, "text/event-stream");
    request.set(http::field::cache_control, "no-cache");
    // The id came from the server: one that cannot be a header field value is not sent back.
    if (!last_event_id.empty() && !bad_header("Last-Event-ID", last_event_id))
      request.set("Last-Event-ID", last_event_id);
    for (const auto& [name, value] : client_->headers()) request.insert(name, value);
    auto deadline = Clock::now() + client_options.timeout;
    std::string what = "GET " + *target;
    if (auto ec = connection.write(request, deadline))
      return transport_error(ec, what, client_options.timeout);

    // The head is bounded like a call's; the body is not (a stream has no end), but what is read of it
    // is handed to the SSE parser and dropped at each read, and the SSE parser bounds a frame.
    ResponseReader reader(client_->response_limits(std::nullopt));
    if (auto ec = connection.read_answer(reader, deadline, /*head_only=*/true))
      return transport_error(ec, what, client_options.timeout);
    char buffer[16 * 1024];
    // Reads the next piece of the body into reader.body(), waiting at most `timeout` for bytes; an error
    // once the stream failed or ended (http::error::end_of_stream for an end where one was allowed).
    auto read = [&](std::chrono::milliseconds timeout) -> error_code {
      std::size_t n = 0;
      auto ec = connection.read_some(buffer, sizeof buffer, n, timeout);
      if (n > 0)
        if (auto failed = reader.feed(std::string_view(buffer, n))) return failed;
      if (ec == asio::error::eof) {
        if (auto failed = reader.finish()) return failed;
        return http::error::end_of_stream;
      }
      return ec;
    };

    auto status = reader.response().result_int();
    if (status != 200) {
      // The refusal's body (an error envelope), at most 64 KiB of it.
      std::string body;
      while (!reader.done() && body.size() < 64 * 1024) {
        auto ec = read(client_options.timeout);
        body += reader.body();
        reader.body().clear();
        if (ec) break;
      }
      body += reader.body();
      auto refusal = interpret_answer(status, body);
      Error error =
          refusal ? Error{.ec = errc::invalid_answer, .status = status} : std::move(refusal).error();
      error.message = "The stream was refused: " +
                      (error.message.empty() ? "HTTP " + std::to_string(status) : error.message);
      return error;
    }
    auto content_type = reader.response()[http::field::content_type];
    if (!istarts_with(content_type, "text/event-stream"))
      return Error{.ec = errc::invalid_answer,
                   .status = status,
                   .message = "The stream answered with Content-Type '" + std::string(content_type) +
                              "', not text/event-stream"};

    SseParser sse(options_.max_frame_bytes, last_event_id, options_.max_event_id_bytes);
    // Hands what has arrived of the body (with the head, or by the last read) to the SSE parser, then
    // drops it; false when a frame is over the bound.
    auto parse_body = [&] {
      bool fits = sse.feed(reader.body(),
                           [&](const SseFrame& frame) { return deliver(frame, serial, version, backoff); });
      reader.body().clear();
      return fits;
    };
    Error too_large{.ec = errc::frame_too_large,
                    .message = "An event stream frame is larger than max_frame_bytes (" +
                               std::to_string(options_.max_frame_bytes) + ")"};
    for (;;) {
      if (!parse_body()) return too_large;
      if (closed_ || reopen_now_) return Error{.ec = errc::closed, .message = "Closed"};
      if (reader.done())
        return Error{.ec = errc::connection_closed, .message = "The server ended the stream"};
      auto ec = read(options_.idle_timeout);
      if (!ec) continue;
      if (!parse_body()) return too_large;  // what arrived before the end or the failure
      if (closed_ || reopen_now_) return Error{.ec = errc::closed, .message = "Closed"};
      if (ec == beast::error::timeout)
        return Error{.ec = errc::timeout,
                     .message = "No data on the stream (not even a keepalive) for " +
                                std::to_string(options_.idle_timeout.count()) + " ms"};
      if (ec == asio::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message)
        return Error{.ec = errc::connection_closed, .message = "The server closed the stream"};
      return transport_error(ec, "The stream", options_.idle_timeout);
    }
  }

  // One frame of the open stream; false stops reading it.
  bool deliver(const SseFrame& frame, std::uint64_t serial, std::uint64_t version, Backoff& backoff) {
    if (closed_) return false;
    if (frame.event == "connected") {
      auto connected = parse_connected(frame.data);
      if (!connected) return true;
      auto& info = connected->info;
      // A lastEventId that could not go back as a Last-Event-ID header (CR, LF, NUL, too long) is ignored,
      // as the SSE parser ignores such an `id:`.
      if (bad_header("Last-Event-ID", info.last_event_id) ||
          info.last_event_id.size() > options_.max_event_id_bytes)
        info.last_event_id.clear();
      if (info.last_event_id.empty() && frame.id) info.last_event_id = *frame.id;
      {
        std::lock_guard lock(mutex_);
        if (version < channels_version_) {
          // The channels changed after this request was written, perhaps on a stream that is gone now:
          // open the next one at once with the whole set (from the id it was to resume from, so that
          // the new channels' events are replayed as well).
          reopen_now_ = true;
          return false;
        }
        if (!info.last_event_id.empty()) last_event_id_ = info.last_event_id;
        if (!channels_given_) {
          channels_ = info.channels;  // the server's default set, asked for again on each reconnect
          channels_given_ = true;
        }
        open_ = true;
        open_serial_ = serial;
        open_version_ = version;
        connection_id_ = info.connection_id;
        token_ = std::move(connected->token);
      }
      backoff.reset();
      report({.state = State::open});
      notify(options_.on_connected, info);
      return !closed_;
    }
    auto event = make_event(frame.id.value_or(""), frame.event, frame.data);
    if (frame.id) {
      std::lock_guard lock(mutex_);
      last_event_id_ = *frame.id;
    }
    notify(options_.on_event, event);
    return !closed_ && !reopen_now_;
  }

  void report(StateChange change) {
    {
      std::lock_guard lock(mutex_);
      state_ = change.state;
    }
    state_changed_.notify_all();
    notify(options_.on_state, change);
  }

  // Closes the open stream `serial` when its request predates channel set `version` (the stream thread
  // then reconnects, asking for the new set).
  void drop_if_older(std::uint64_t serial, std::uint64_t version) {
    {
      std::lock_guard lock(mutex_);
      if (!open_ || open_serial_ != serial || open_version_ >= version) return;
    }
    asio::post(io_, [this, serial] {
      if (current_ && current_serial_ == serial) {
        reopen_now_ = true;
        current_->close();
      }
    });
  }

  static thread_local SubscriptionState* running_;  // the subscription whose thread this is

  std::shared_ptr<ClientState> client_;
  SubscribeOptions options_;
  asio::io_context io_{1};
  std::thread thread_;
  std::mutex join_mutex_;
  std::atomic<bool> closed_{false};

  // stream thread:
  Connection* current_ = nullptr;  // the connection (or backoff wait) in progress
  std::uint64_t current_serial_ = 0;
  bool reopen_now_ = false;  // end this stream and open the next without a backoff delay

  mutable std::mutex mutex_;
  mutable std::condition_variable state_changed_;
  std::vector<std::string> channels_;
  bool channels_given_ = false;
  std::uint64_t channels_version_ = 0;  // bumped by each change of channels_
  std::string last_event_id_;
  State state_ = State::connecting;
  bool open_ = false;  // a `connected` frame arrived on the current stream
  std::uint64_t open_serial_ = 0;
  std::uint64_t open_version_ = 0;  // channels_version_ when the open stream's request was written
  std::string connection_id_;
  std::string token_;
};

thread_local SubscriptionState* SubscriptionState::running_ = nullptr;

}  // namespace detail

Subscription::Subscription(std::shared_ptr<detail::SubscriptionState> state) : state_(std::move(state)) {}

Subscription::~Subscription() {
  close();
}

Subscription::Subscription(Subscription&& other) noexcept = default;

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Reply<ChannelChange> Subscription::subscribe(std::vector<std::string> channels) {
  if (!state_) return Error{.ec = errc::closed, .message = "Empty subscription"};
  return state_->change(std::move(channels), {});
}

Reply<ChannelChange> Subscription::unsubscribe(std::vector<std::string> channels) {
  if (!state_) return Error{.ec = errc::closed, .message = "Empty subscription"};
  return state_->change({}, std::move(channels));
}

std::string Subscription::last_event_id() const {
  return state_ ? state_->last_event_id() : std::string();
}

State Subscription::state() const {
  return state_ ? state_->state() : State::closed;
}

bool Subscription::wait_open(std::chrono::milliseconds timeout) const {
  return state_ && state_->wait_open(timeout);
}

std::vector<std::string> Subscription::channels() const {
  return state_ ? state_->channels() : std::vector<std::string>();
}

void Subscription::close() {
  if (state_) state_->close();
}

Subscription Client::subscribe(SubscribeOptions options) const {
  auto state = std::make_shared<detail::SubscriptionState>(state_, std::move(options));
  state->start();
  return Subscription(std::move(state));
}

}  // namespace igniter::client
