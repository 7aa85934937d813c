#pragma once
// Many SSE clients on one thread that behave like a browser's EventSource across a rolling restart: when
// a stream ends they wait its last `retry:` hint, then reconnect (to a surviving process) with
// Last-Event-ID, and keep a ledger of every event they received. For tests/cluster/drain_test.cpp and
// bench/drain (the bench's storm without draining is these clients all reconnecting together).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace igniter::test {

/// Settings of a RoamingClients crowd.
struct RoamingOptions {
  std::string target = "/api/v1/sse/events?channels=notifications";  ///< What every stream asks for.
  std::vector<std::uint16_t> survivors;  ///< Where client i goes when its stream ends: survivors[i % n].
  bool honour_retry = true;              ///< Wait the last `retry:` before reconnecting (as EventSource).
  std::size_t max_connecting = 256;      ///< Connects in flight at once while opening the crowd.
};

/// What the crowd saw; read with RoamingClients::snapshot.
struct RoamingReport {
  using Clock = std::chrono::steady_clock;
  std::size_t open = 0;                     ///< Streams open now (their `connected` frame arrived).
  std::size_t on_survivors = 0;             ///< Of those, streams open on a survivor.
  std::vector<Clock::time_point> moves;     ///< When each reconnect to a survivor got its `connected` frame.
  std::vector<Clock::time_point> closes;    ///< When each stream on the first process ended.
  std::vector<Clock::time_point> attempts;  ///< When each connect to a survivor began (retries too).
  std::vector<std::chrono::milliseconds> waits;  ///< Per move: from its connect to its `connected` frame.
  std::vector<std::vector<std::string>> texts;   ///< Per client: the `text` of every message, in order.
  std::size_t failed_connects = 0;               ///< Reconnects refused or answered with another status.

  /// The most reconnects that reached the survivors within any `bin` (bins start at the first one).
  std::size_t peak_moves_per(std::chrono::milliseconds bin) const { return peak_per(moves, bin); }

  /// The most of `times` within any `bin` (bins start at the earliest).
  static std::size_t peak_per(const std::vector<Clock::time_point>& times, std::chrono::milliseconds bin) {
    if (times.empty()) return 0;
    auto first = *std::min_element(times.begin(), times.end());
    std::vector<std::size_t> bins;
    for (auto at : times) {
      auto k = static_cast<std::size_t>((at - first) / bin);
      if (bins.size() <= k) bins.resize(k + 1);
      ++bins[k];
    }
    return *std::max_element(bins.begin(), bins.end());
  }
};

/// The crowd: its own io_context on one thread; every method may be called from any other thread.
class RoamingClients {
 public:
  using Clock = std::chrono::steady_clock;
  using tcp = boost::asio::ip::tcp;

  explicit RoamingClients(RoamingOptions options) : options_(std::move(options)), work_(io_.get_executor()) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RoamingClients() {
    boost::asio::post(io_, [this] {
      for (auto& client : clients_) client->shutdown();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  RoamingClients(const RoamingClients&) = delete;
  RoamingClients& operator=(const RoamingClients&) = delete;

  /// Opens `count` streams to `port` (at most max_connecting connecting at once).
  void open(std::uint16_t port, std::size_t count) {
    boost::asio::post(io_, [this, port, count] {
      for (std::size_t i = 0; i < count; ++i)
        clients_.push_back(std::make_unique<Client>(*this, clients_.size(), port));
      for (std::size_t i = 0; i < std::min(count, options_.max_connecting); ++i) open_next();
    });
  }

  /// Waits until `count` streams are open (true) or `timeout` passes (false).
  bool wait_open(std::size_t count, std::chrono::milliseconds timeout, bool on_survivors = false) {
    auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      auto report = snapshot(false);
      if ((on_survivors ? report.on_survivors : report.open) >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  /// Copies what the crowd saw (with the ledgers when `texts`).
  RoamingReport snapshot(bool texts = true) {
    std::promise<RoamingReport> done;
    boost::asio::post(io_, [&] {
      RoamingReport report;
      for (auto& client : clients_) {
        report.open += client->open;
        report.on_survivors += client->open && client->port != client->first_port;
        if (texts) report.texts.push_back(client->texts);
      }
      report.moves = moves_;
      report.closes = closes_;
      report.attempts = attempts_;
      report.waits = waits_;
      report.failed_connects = failed_connects_;
      done.set_value(std::move(report));
    });
    return done.get_future().get();
  }

 private:
  struct Client {
    Client(RoamingClients& crowd, std::size_t index, std::uint16_t port)
        : crowd(crowd), index(index), port(port), first_port(port), socket(crowd.io_), timer(crowd.io_) {}

    void connect() {
      started = Clock::now();
      if (port != first_port) crowd.attempts_.push_back(started);
      head_done = false;
      buffer.clear();
      event.clear();
      data.clear();
      socket = tcp::socket(crowd.io_);
      socket.async_connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port),
                           [this](boost::system::error_code ec) {
                             if (ec) return failed();
                             request = "GET " + crowd.options_.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                       "Accept: text/event-stream\r\n";
                             if (!last_id.empty()) request += "Last-Event-ID: " + last_id + "\r\n";
                             request += "\r\n";
                             boost::asio::async_write(socket, boost::asio::buffer(request),
                                                      [this](boost::system::error_code ec, std::size_t) {
                                                        if (ec) return failed();
                                                        read();
                                                      });
                           });
    }
    void read() {
      socket.async_read_some(boost::asio::buffer(chunk), [this](boost::system::error_code ec, std::size_t n) {
        if (ec) return ended();
        buffer.append(chunk.data(), n);
        if (!parse()) return failed();
        read();
      });
    }
    // Consumes whole lines; false when the response is not a stream.
    bool parse() {
      if (!head_done) {
        auto end = buffer.find("\r\n\r\n");
        if (end == std::string::npos) return true;
        if (buffer.compare(0, 12, "HTTP/1.1 200") != 0) return false;
        buffer.erase(0, end + 4);
        head_done = true;
      }
      std::size_t start = 0;
      for (auto eol = buffer.find('\n', start); eol != std::string::npos; eol = buffer.find('\n', start)) {
        std::string_view line(buffer.data() + start, eol - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        start = eol + 1;
        if (line.empty()) {
          dispatch();
          continue;
        }
        auto colon = line.find(':');
        if (colon == 0) continue;  // a comment
        auto field = line.substr(0, colon);
        auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "id") pending_id = std::string(value);
        if (field == "event") event = std::string(value);
        if (field == "data") data += value;
        if (field == "retry" && !value.empty() &&
            std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
          retry = std::chrono::milliseconds(std::stol(std::string(value)));
      }
      buffer.erase(0, start);
      return true;
    }
    void dispatch() {
      if (pending_id) last_id = *pending_id;  // as EventSource: the id moves even without data
      pending_id.reset();
      if (event == "connected") {
        open = ever_open = true;
        if (port != first_port) {
          crowd.moves_.push_back(Clock::now());
          crowd.waits_.push_back(
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
        }
        crowd.open_next();
      } else if (event == "message") {
        auto key = data.find("\"text\":\"");
        if (key != std::string::npos) {
          auto from = key + 8;
          texts.emplace_back(data.substr(from, data.find('"', from) - from));
        }
      }
      event.clear();
      data.clear();
    }
    void ended() {
      boost::system::error_code ignored;
      socket.close(ignored);
      if (stopped) return;
      if (open && port == first_port) crowd.closes_.push_back(Clock::now());
      open = false;
      reconnect(crowd.options_.honour_retry ? retry : std::chrono::milliseconds(0));
    }
    void failed() {
      boost::system::error_code ignored;
      socket.close(ignored);
      if (stopped) return;
      ++crowd.failed_connects_;
      open = false;
      reconnect(std::chrono::milliseconds(200));
    }
    void reconnect(std::chrono::milliseconds delay) {
      const auto& survivors = crowd.options_.survivors;
      if (ever_open && !survivors.empty()) port = survivors[index % survivors.size()];
      timer.expires_after(delay);
      timer.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopped) connect();
      });
    }
    void shutdown() {
      stopped = true;
      boost::system::error_code ignored;
      timer.cancel();
      socket.close(ignored);
    }

    RoamingClients& crowd;
    std::size_t index;
    std::uint16_t port, first_port;
    tcp::socket socket;
    boost::asio::steady_timer timer;
    std::array<char, 4096> chunk{};
    std::string request, buffer, event, data, last_id;
    std::optional<std::string> pending_id;
    std::chrono::milliseconds retry{3000};  // EventSource's usual default until the server says otherwise
    std::vector<std::string> texts;
    Clock::time_point started;  // of the current connect
    bool head_done = false, open = false, ever_open = false, stopped = false;
  };

  // Starts the next client of the crowd that has not connected yet.
  void open_next() {
    if (next_ < clients_.size()) clients_[next_++]->connect();
  }

  RoamingOptions options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<std::unique_ptr<Client>> clients_;  // touched on the crowd's thread only
  std::size_t next_ = 0;
  std::vector<Clock::time_point> moves_, closes_, attempts_;
  std::vector<std::chrono::milliseconds> waits_;
  std::size_t failed_connects_ = 0;
};

}  // namespace igniter::test
