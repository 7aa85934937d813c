#pragma once
// The load generator's shared plumbing: clocks, options, the target URL and its sockets, the latency
// histogram, the incremental HTTP response reader and the keep-alive HTTP client connections. Each mode
// (sub.cpp, pub.cpp, reval.cpp) is one scenario; main.cpp parses the command line and runs one.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace loadgen {

/// Set by SIGINT/SIGTERM: every mode stops and reports.
inline std::atomic<bool> g_stop{false};

inline std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- Options ----

struct Args {
  std::map<std::string, std::string> values;
  std::string get(const std::string& key, std::string fallback = "") const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  long num(const std::string& key, long fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : std::stol(it->second);
  }
  bool has(const std::string& key) const { return values.count(key) != 0; }
};

struct Target {
  sockaddr_in addr{};
  std::string host;  // host:port for the Host header
  std::string path;
};

inline Target parse_url(const std::string& url) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) throw std::invalid_argument("url must start with http://: " + url);
  auto rest = url.substr(prefix.size());
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  Target t;
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  t.host = hostport;
  auto colon = hostport.find(':');
  auto host = hostport.substr(0, colon);
  int port = colon == std::string::npos ? 80 : std::stoi(hostport.substr(colon + 1));
  if (host == "localhost") host = "127.0.0.1";
  t.addr.sin_family = AF_INET;
  t.addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &t.addr.sin_addr) != 1)
    throw std::invalid_argument("bad host: " + host);
  return t;
}

// Opens a non-blocking socket bound to 127.0.0.<source> (the kernel picks the port at connect time, so
// the ephemeral range is per source address) and starts connecting.
inline int open_socket(const Target& t, int source) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source > 0) {
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl((127u << 24) | static_cast<std::uint32_t>(source));
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close(fd);
      return -1;
    }
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// ---- Latency histogram: log-linear buckets of microseconds ----

class Histogram {
 public:
  static constexpr int kSub = 64;
  Histogram() : counts_(kSub * 40, 0) {}
  void add(std::int64_t ns) {
    auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0) / 1000);
    counts_[index(us)]++;
    ++total_;
    max_ns_ = std::max(max_ns_, ns);
  }
  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ns_ = std::max(max_ns_, o.max_ns_);
  }
  std::uint64_t total() const { return total_; }
  double percentile_ms(double p) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(static_cast<double>(upper(i)) / 1000.0, max_ms());
    }
    return max_ms();
  }
  double max_ms() const { return static_cast<double>(max_ns_) / 1e6; }
  std::string sparse_json() const {
    std::string out = "[";
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] == 0) continue;
      if (out.size() > 1) out += ",";
      out += "[" + std::to_string(upper(i)) + "," + std::to_string(counts_[i]) + "]";
    }
    return out + "]";
  }

 private:
  static std::size_t index(std::uint64_t us) {
    if (us < kSub) return us;
    int msb = 63 - __builtin_clzll(us);  // >= 6
    int shift = msb - 5;                 // keeps 6 significant bits
    std::size_t i = static_cast<std::size_t>(shift) * (kSub / 2) + (us >> shift);
    return std::min<std::size_t>(i, kSub * 40 - 1);
  }
  // The largest microsecond value that falls in bucket i (reported as the bucket's value).
  static std::uint64_t upper(std::size_t i) {
    if (i < kSub) return i;
    std::size_t shift = (i - kSub / 2) / (kSub / 2);
    std::uint64_t mantissa = i - shift * (kSub / 2);
    return ((mantissa + 1) << shift) - 1;
  }
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::int64_t max_ns_ = 0;
};

// ---- Incremental HTTP response reader: status + headers, then a body (chunked or not) ----

struct BodyReader {
  enum class State { headers, chunk_size, chunk_data, chunk_crlf, identity } state = State::headers;
  std::string head;
  int status = 0;
  bool chunked = false;
  std::int64_t content_length = -1;
  std::uint64_t chunk_left = 0;
  std::string size_line;

  // Feeds raw bytes; calls on_headers() once and on_body(data, len) for body bytes. Returns false on a
  // malformed response.
  template <class OnHeaders, class OnBody>
  bool feed(const char* p, std::size_t n, OnHeaders&& on_headers, OnBody&& on_body) {
    while (n > 0) {
      switch (state) {
        case State::headers: {
          std::size_t old = head.size();
          head.append(p, n);
          auto end = head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
          if (end == std::string::npos) {
            if (head.size() > 65536) return false;
            return true;
          }
          std::size_t used = end + 4 - old;
          head.resize(end + 2);
          if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return false;
          status = std::atoi(head.c_str() + 9);
          std::string lower = head;
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          chunked = lower.find("transfer-encoding: chunked") != std::string::npos;
          if (auto cl = lower.find("content-length:"); cl != std::string::npos)
            content_length = std::atoll(lower.c_str() + cl + 15);
          state = chunked ? State::chunk_size : State::identity;
          on_headers();
          p += used;
          n -= used;
          break;
        }
        case State::chunk_size: {
          const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
          if (!nl) {
            size_line.append(p, n);
            return size_line.size() < 64;
          }
          size_line.append(p, static_cast<std::size_t>(nl - p));
          chunk_left = std::strtoull(size_line.c_str(), nullptr, 16);
          size_line.clear();
          n -= static_cast<std::size_t>(nl + 1 - p);
          p = nl + 1;
          if (chunk_left == 0) {
            on_body(nullptr, 0);  // end of body
            state = State::chunk_crlf;
            chunk_left = 0;
          } else {
            state = State::chunk_data;
          }
          break;
        }
        case State::chunk_data: {
          std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left, n));
          on_body(p, take);
          p += take;
          n -= take;
          chunk_left -= take;
          if (chunk_left == 0) state = State::chunk_crlf;
          break;
        }
        case State::chunk_crlf: {
          // Skips the CRLF after a chunk (or the trailer's last CRLF).
          const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
          if (!nl) return true;
          n -= static_cast<std::size_t>(nl + 1 - p);
          p = nl + 1;
          state = State::chunk_size;
          break;
        }
        case State::identity: {
          std::size_t take = n;
          if (content_length >= 0) take = std::min<std::size_t>(n, static_cast<std::size_t>(content_length));
          if (take) on_body(p, take);
          p += take;
          n -= take;
          if (content_length >= 0) {
            content_length -= static_cast<std::int64_t>(take);
            if (content_length == 0) {
              on_body(nullptr, 0);
              content_length = -1;
            }
          }
          if (n > 0) return false;  // bytes past a complete response on an unpipelined connection
          break;
        }
      }
    }
    return true;
  }
  void reset() { *this = BodyReader{}; }
};

// Finds `"key":<integer>` in a line; -1 when absent.
inline std::int64_t find_number(std::string_view line, std::string_view key) {
  auto at = line.find(key);
  if (at == std::string_view::npos) return -1;
  std::int64_t v = 0;
  bool any = false;
  for (auto i = at + key.size(); i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    v = v * 10 + (line[i] - '0');
    any = true;
  }
  return any ? v : -1;
}

// ---- SSE subscriber connections (sub, and bench/scale's scale_sub) ----

struct SseConn {
  int fd = -1;
  bool sent = false;       // the request is written
  bool connected = false;  // 200 and headers received
  BodyReader reader;
  std::string line;  // a line split over reads
};

// Splits SSE body bytes into lines (LF, with CR dropped) and hands complete ones to on_line. A line past
// 64 KiB is of no use to a load generator and is dropped: a connection never grows unbounded, and an
// idle one keeps no buffer.
template <class OnLine>
void split_sse_lines(std::string& pending, const char* p, std::size_t n, OnLine&& on_line) {
  while (n > 0) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    if (!nl) {
      if (pending.size() + n > 65536) pending.clear();
      pending.append(p, n);
      return;
    }
    std::string_view piece(p, static_cast<std::size_t>(nl - p));
    if (!pending.empty()) {
      pending.append(piece);
      std::string_view whole = pending;
      if (!whole.empty() && whole.back() == '\r') whole.remove_suffix(1);
      on_line(whole);
      pending.clear();
      pending.shrink_to_fit();
    } else {
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      on_line(piece);
    }
    n -= static_cast<std::size_t>(nl + 1 - p);
    p = nl + 1;
  }
}

// Feeds `n` bytes read from subscriber `c` to its reader: on_ready() once its 200 and headers are in,
// on_line(line) for each complete SSE line. False when the connection is over (not a 200, or junk).
template <class OnReady, class OnLine>
bool feed_sse(SseConn& c, const char* data, std::size_t n, OnReady&& on_ready, OnLine&& on_line) {
  bool ok = c.reader.feed(
      data, n,
      [&] {
        if (c.reader.status != 200) return;
        c.connected = true;
        std::string().swap(c.reader.head);  // not needed past the status
        on_ready();
      },
      [&](const char* p, std::size_t size) {
        if (p) split_sse_lines(c.line, p, size, on_line);
      });
  return ok && (c.reader.state == BodyReader::State::headers || c.connected);
}

// Handles one epoll event `ev` of subscriber `c` (registered on `ep` for input and output): once its
// connect completes, writes `request` and watches for input only; then reads what arrived, counting the
// bytes into `bytes`. on_ready() once its 200 and headers are in, on_line(line) for each complete SSE
// line. False when the connection is over (the connect failed, the answer is not a 200, the peer closed
// or reset it): the caller drops it.
template <class OnReady, class OnLine>
bool on_sse_event(int ep, SseConn& c, const epoll_event& ev, const std::string& request, std::uint64_t& bytes,
                  OnReady&& on_ready, OnLine&& on_line) {
  if ((ev.events & EPOLLOUT) && !c.sent) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err ||
        ::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      return false;
    epoll_event input{};
    input.events = EPOLLIN | EPOLLRDHUP;
    input.data.u64 = ev.data.u64;
    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &input);
    c.sent = true;
  }
  if (!(ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return true;
  static thread_local char buf[1 << 16];
  for (;;) {
    ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
    if (got == 0) return false;
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    bytes += static_cast<std::uint64_t>(got);
    if (!feed_sse(c, buf, static_cast<std::size_t>(got), on_ready, on_line)) return false;
    if (static_cast<std::size_t>(got) < sizeof buf) return true;
  }
}

// ---- Simple keep-alive HTTP client connections (pub and reval) ----

struct HttpConn {
  int fd = -1;
  BodyReader reader;
  bool busy = false;
  bool connected = false;
  std::int64_t sent_at = 0;
  std::string pending;  // request bytes not yet written
};

inline bool http_send(HttpConn& c, const std::string& req) {
  c.pending = req;
  while (!c.pending.empty()) {
    ssize_t w = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
    if (w < 0) return errno == EAGAIN;  // the rest goes on EPOLLOUT
    c.pending.erase(0, static_cast<std::size_t>(w));
  }
  return true;
}

inline std::string post_request(const Target& t, std::string_view body) {
  return "POST " + t.path + " HTTP/1.1\r\nHost: " + t.host +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

inline std::string get_request(const Target& t) {
  return "GET " + t.path + " HTTP/1.1\r\nHost: " + t.host + "\r\nAccept: application/json\r\n\r\n";
}

// Makes a body of about `size` bytes carrying the send time and sequence number.
inline std::string make_body(const std::string& tmpl, std::int64_t ts, std::uint64_t seq, std::size_t size) {
  std::string head = "{\"ts\":" + std::to_string(ts) + ",\"seq\":" + std::to_string(seq);
  if (!tmpl.empty()) return head + "," + tmpl.substr(1);  // tmpl is a JSON object: merge its members
  std::string body = head + ",\"pad\":\"";
  std::size_t pad = size > body.size() + 2 ? size - body.size() - 2 : 0;
  body.append(pad, 'x');
  return body + "\"}";
}

// ---- The modes (one file each) ----

/// SSE subscribers (sub.cpp).
int run_sub(const Args& a, std::FILE* out);
/// Publishers over keep-alive HTTP connections (pub.cpp).
int run_pub(const Args& a, std::FILE* out);
/// Revalidation round trips: SSE clients that refetch a list (reval.cpp).
int run_reval(const Args& a, std::FILE* out);

}  // namespace loadgen
