#pragma once
// A blocking SSE client for integration tests: a real socket to 127.0.0.1, the request bytes a browser's
// EventSource sends, and a parser of the `text/event-stream` frames that come back. Every wait is bounded.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace igniter::test {

/// One SSE frame: the lines up to a blank line, as received and as parsed.
struct SseFrame {
  std::string raw;                    ///< Exact bytes, including the final blank line.
  std::optional<std::string> id;      ///< `id:` value, when the frame has one.
  std::string event;                  ///< `event:` value ("" when absent).
  std::string data;                   ///< `data:` lines joined with '\n'.
  std::optional<long> retry;          ///< `retry:` value, when present.
  std::vector<std::string> comments;  ///< Comment lines, without the leading ':' and one space.

  /// `data` parsed as JSON (throws when it is not JSON).
  boost::json::value json() const { return boost::json::parse(data); }
  /// True for a frame made only of comments (`: keepalive`).
  bool comment_only() const { return !id && event.empty() && data.empty() && !retry && !comments.empty(); }
};

/// Settings of one SSE connection.
struct SseOptions {
  std::string last_event_id;                                     ///< Sent as `Last-Event-ID` when set.
  std::vector<std::pair<std::string, std::string>> headers;      ///< Extra request headers (Cookie, ...).
  int receive_buffer = 0;                                        ///< SO_RCVBUF before connect; 0 = default.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  ///< Default bound of every wait.
};

/// One SSE connection; not thread-safe (one thread reads it at a time).
class SseClient {
 public:
  using Clock = std::chrono::steady_clock;

  /// Connects and sends `GET target`; the response head is read by `read_head` (or with the frames).
  SseClient(std::uint16_t port, std::string target, SseOptions options = {})
      : port_(port), target_(std::move(target)), options_(std::move(options)) {
    connect_and_send();
  }
  ~SseClient() { close(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  /// Reads the response head within the timeout; returns the status (0 on timeout or close). For a
  /// non-200 answer the body (by Content-Length) is then in `body()`.
  unsigned read_head() {
    auto deadline = Clock::now() + options_.timeout;
    while (!parse_head())
      if (!fill(deadline)) return 0;
    if (status_ != 200) {
      auto length = header("content-length");
      std::size_t want = length.empty() ? 0 : std::stoul(length);
      while (buffered() < want)
        if (!fill(deadline)) break;
      body_ = std::string(pending().substr(0, want));
      pos_ += std::min(want, buffered());
    }
    return status_;
  }

  /// The raw response head, "HTTP/1.1 200 OK\r\n...\r\n\r\n" ("" until read).
  const std::string& head() const noexcept { return head_; }
  unsigned status() const noexcept { return status_; }
  /// The body of a refusal (non-200 answer).
  const std::string& body() const noexcept { return body_; }
  /// The value of response header `name` (case-insensitive), "" when absent.
  std::string header(std::string_view name) const {
    std::string_view rest(head_);
    while (!rest.empty()) {
      auto eol = rest.find("\r\n");
      auto line = rest.substr(0, eol);
      rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
      auto colon = line.find(':');
      if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return std::string(value);
      }
    }
    return {};
  }

  /// The next frame, waiting at most `timeout` (the connection's default when zero); nullopt on timeout
  /// or when the server closed the stream. Remembers the last `id:` seen, as EventSource does.
  std::optional<SseFrame> next(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) {
    auto deadline = deadline_after(timeout);
    for (;;) {
      if (parse_head())
        if (auto frame = take_frame()) return frame;
      if (!fill(deadline)) return std::nullopt;
    }
  }

  /// The next frame that is not only a comment (keepalives are skipped).
  std::optional<SseFrame> next_event(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) {
    auto deadline = deadline_after(timeout);
    for (;;) {
      auto frame = next(left(deadline));
      if (!frame || !frame->comment_only()) return frame;
    }
  }

  /// The next event of type `event` (others are skipped), within `timeout`.
  std::optional<SseFrame> next_of(std::string_view event,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) {
    auto deadline = deadline_after(timeout);
    for (;;) {
      auto frame = next_event(left(deadline));
      if (!frame || frame->event == event) return frame;
    }
  }

  /// Every non-comment frame arriving within `window` (to assert that nothing else came).
  std::vector<SseFrame> drain(std::chrono::milliseconds window) {
    std::vector<SseFrame> out;
    auto deadline = Clock::now() + window;
    while (auto frame = next(left(deadline)))
      if (!frame->comment_only()) out.push_back(std::move(*frame));
    return out;
  }

  /// Reads whatever has arrived without waiting and returns the complete frames it held (head first
  /// parsed); for tests that watch many connections with poll(). `closed_by_server()` tells EOF apart.
  std::vector<SseFrame> read_available() {
    std::vector<SseFrame> out;
    while (fd_ >= 0 && !eof_) {
      char chunk[65536];
      auto n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;  // EAGAIN: nothing more for now (or an error, seen as EOF next time)
      if (n == 0) {
        eof_ = true;
        break;
      }
      append(chunk, static_cast<std::size_t>(n));
    }
    if (parse_head())
      while (auto frame = take_frame()) out.push_back(std::move(*frame));
    return out;
  }

  /// Waits until the server closes the stream (reading and discarding what comes); false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) {
    auto deadline = deadline_after(timeout);
    while (!eof_) {
      buffer_.clear();
      pos_ = 0;
      if (!fill(deadline) && !eof_) return false;
    }
    return true;
  }

  /// True once a read saw the server close the stream.
  bool closed_by_server() const noexcept { return eof_; }

  /// The last `id:` received (what a reconnect sends as Last-Event-ID).
  const std::string& last_event_id() const noexcept { return last_id_; }

  /// Closes this connection and opens a new one (to `target`, or the same one), sending the last id
  /// received as Last-Event-ID when `resume`; the head is read with the next frames.
  void reconnect(bool resume = true, std::string target = {}) {
    reconnect_from(resume ? last_id_ : std::string(), std::move(target));
  }

  /// Like reconnect, resuming from `last_event_id` (e.g. the last frame a test processed before it
  /// dropped the rest of what it had read); none when empty.
  void reconnect_from(std::string last_event_id, std::string target = {}) {
    close();
    if (!target.empty()) target_ = std::move(target);
    options_.last_event_id = std::move(last_event_id);
    buffer_.clear();
    pos_ = 0;
    head_.clear();
    body_.clear();
    status_ = 0;
    eof_ = false;
    connect_and_send();
  }

  /// Closes the socket: the server sees the client go away.
  void close() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  int fd() const noexcept { return fd_; }

 private:
  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
        return false;
    return true;
  }
  Clock::time_point deadline_after(std::chrono::milliseconds timeout) const {
    return Clock::now() + (timeout.count() > 0 ? timeout : options_.timeout);
  }
  static std::chrono::milliseconds left(Clock::time_point deadline) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(ms, std::chrono::milliseconds(1));
  }
  std::size_t buffered() const noexcept { return buffer_.size() - pos_; }
  std::string_view pending() const noexcept { return std::string_view(buffer_).substr(pos_); }

  void append(const char* data, std::size_t size) {
    if (pos_ > 0 && pos_ >= buffer_.size() / 2) {  // compact now and then, not per frame
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    buffer_.append(data, size);
  }

  void connect_and_send() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    if (options_.receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options_.receive_buffer, sizeof options_.receive_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close();
      throw std::runtime_error("connect failed");
    }
    std::string request = "GET " + target_ +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                          "Cache-Control: no-cache\r\n";
    if (!options_.last_event_id.empty()) request += "Last-Event-ID: " + options_.last_event_id + "\r\n";
    for (const auto& [name, value] : options_.headers) request += name + ": " + value + "\r\n";
    request += "\r\n";
    std::string_view rest = request;
    while (!rest.empty()) {
      auto n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Waits for bytes until `deadline` and appends what one read returns; false on timeout or EOF.
  bool fill(Clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    for (;;) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (ms < 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(ms));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char chunk[65536];
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  // True once the response head is parsed (cutting it off the buffer).
  bool parse_head() {
    if (!head_.empty()) return true;
    auto end = pending().find("\r\n\r\n");
    if (end == std::string_view::npos) return false;
    head_ = std::string(pending().substr(0, end + 4));
    pos_ += end + 4;
    status_ = head_.size() > 12 ? static_cast<unsigned>(std::stoul(head_.substr(9, 3))) : 0;
    return true;
  }

  // Cuts one complete frame off the buffer and parses it (text/event-stream rules, LF line ends).
  std::optional<SseFrame> take_frame() {
    // Blank lines before a frame's first field dispatch nothing: skip them.
    while (pos_ < buffer_.size() && buffer_[pos_] == '\n') ++pos_;
    auto end = pending().find("\n\n");
    if (end == std::string_view::npos) return std::nullopt;
    SseFrame frame;
    frame.raw = std::string(pending().substr(0, end + 2));
    pos_ += end + 2;
    std::string_view text(frame.raw);
    text.remove_suffix(1);
    bool has_data = false;
    while (!text.empty()) {
      auto eol = text.find('\n');
      auto line = text.substr(0, eol);
      text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
      if (line.empty()) continue;
      if (line.front() == ':') {
        line.remove_prefix(1);
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        frame.comments.emplace_back(line);
        continue;
      }
      auto colon = line.find(':');
      auto field = line.substr(0, colon);
      auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (field == "id") {
        frame.id = std::string(value);
        last_id_ = *frame.id;
      } else if (field == "event") {
        frame.event = std::string(value);
      } else if (field == "data") {
        if (has_data) frame.data += '\n';
        frame.data.append(value);
        has_data = true;
      } else if (field == "retry") {
        frame.retry = std::stol(std::string(value));
      }
    }
    return frame;
  }

  std::uint16_t port_;
  std::string target_;
  SseOptions options_;
  int fd_ = -1;
  std::string buffer_;
  std::size_t pos_ = 0;  // bytes of buffer_ already parsed
  std::string head_;
  std::string body_;
  std::string last_id_;
  unsigned status_ = 0;
  bool eof_ = false;
};

}  // namespace igniter::test
