// loadgen: the benchmarks' load generator. Holds many SSE connections on a few epoll threads, parses
// frames, timestamps deliveries from the send time the publisher wrote in each payload ("ts": ns since
// the epoch, CLOCK_REALTIME), and publishes events over keep-alive HTTP connections.
//
//   loadgen sub   --url URL --conns N [--threads T] [--sources K] [--hold S] [--per-event] [--ready FILE]
//   loadgen pub   --url URL [--conns C] [--rate R] [--duration S] [--size B] [--body JSON]
//   loadgen reval --sse-url URL --list-url URL --mutate-url URL --conns N [--rounds R] [--body JSON]
//
// Every mode writes one JSON object (its results) to --out FILE, or to stdout. `sub` writes FILE.ready
// (or --ready) once every connection has its 200 and headers; it then holds the connections for --hold
// seconds (or until SIGTERM/SIGINT) and reports. Latency histograms are log-linear (64 sub-buckets per
// power of two of microseconds) and written sparse, so a runner can merge several processes.
// Only IPv4 loopback targets of the form http://127.0.0.1:PORT/path are supported.
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

namespace {

std::atomic<bool> g_stop{false};

std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double cpu_seconds() {
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

Target parse_url(const std::string& url) {
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
int open_socket(const Target& t, int source) {
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
std::int64_t find_number(std::string_view line, std::string_view key) {
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

// ---- sub: SSE subscribers ----

struct PerEvent {
  std::int64_t max_ns = 0;
  std::uint32_t count = 0;
};

struct SubConn {
  int fd = -1;
  int source = 0;
  bool sent = false;       // the request is written
  bool connected = false;  // 200 and headers received
  BodyReader reader;
  std::string line;  // a line split over reads
};

struct SubThread {
  std::vector<SubConn> conns;
  Histogram hist;
  std::vector<PerEvent> events;  // by seq, with --per-event
  std::uint64_t deliveries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t failed = 0;  // connects or non-200 answers
  std::uint64_t closed_by_peer = 0;
  std::int64_t first_delivery = 0;  // mono ns
  std::int64_t last_delivery = 0;
  std::atomic<std::uint64_t> ready{0};
  std::atomic<std::uint64_t> finished{0};  // connections ready or failed
};

struct SubConfig {
  Target target;
  std::string request;
  std::size_t conns = 0;
  int sources = 1;
  bool per_event = false;
  std::size_t max_inflight = 256;  // connects in progress per thread (bounded: the SYN backlog)
  std::int64_t deadline_ns = 0;    // mono: stop then
};

void on_line(SubThread& t, std::string_view line, bool per_event) {
  if (line.size() < 5 || line.compare(0, 5, "data:") != 0) return;
  std::int64_t ts = find_number(line, "\"ts\":");
  if (ts < 0) return;
  std::int64_t now_m = mono_ns();
  std::int64_t lat = realtime_ns() - ts;
  t.hist.add(lat);
  ++t.deliveries;
  if (!t.first_delivery) t.first_delivery = now_m;
  t.last_delivery = now_m;
  if (per_event) {
    std::int64_t seq = find_number(line, "\"seq\":");
    if (seq >= 0 && seq < 10'000'000) {
      if (static_cast<std::size_t>(seq) >= t.events.size())
        t.events.resize(static_cast<std::size_t>(seq) + 1024);
      auto& e = t.events[static_cast<std::size_t>(seq)];
      e.max_ns = std::max(e.max_ns, lat);
      ++e.count;
    }
  }
}

// Splits SSE body bytes into lines (LF, with CR dropped) and hands complete ones to on_line.
void on_sse_bytes(SubThread& t, SubConn& c, const char* p, std::size_t n, bool per_event) {
  while (n > 0) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    if (!nl) {
      c.line.append(p, n);
      return;
    }
    std::string_view piece(p, static_cast<std::size_t>(nl - p));
    if (!c.line.empty()) {
      c.line.append(piece);
      std::string_view whole = c.line;
      if (!whole.empty() && whole.back() == '\r') whole.remove_suffix(1);
      on_line(t, whole, per_event);
      c.line.clear();
      c.line.shrink_to_fit();  // idle connections keep no buffer
    } else {
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      on_line(t, piece, per_event);
    }
    n -= static_cast<std::size_t>(nl + 1 - p);
    p = nl + 1;
  }
}

void sub_thread(SubThread& t, const SubConfig& cfg, std::size_t first_index) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::size_t next = 0, inflight = 0;
  auto start_more = [&] {
    while (next < t.conns.size() && inflight < cfg.max_inflight) {
      auto& c = t.conns[next];
      c.source = cfg.sources > 1
                     ? 1 + static_cast<int>((first_index + next) % static_cast<std::size_t>(cfg.sources))
                     : 0;
      c.fd = open_socket(cfg.target, c.source);
      if (c.fd < 0) {
        ++t.failed;
        t.finished++;
      } else {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u64 = next;
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        ++inflight;
      }
      ++next;
    }
  };
  auto drop = [&](SubConn& c, bool failed) {
    if (c.fd < 0) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    if (!c.connected) {
      if (failed) ++t.failed;
      t.finished++;
      --inflight;
    } else {
      ++t.closed_by_peer;
    }
  };
  start_more();
  std::vector<epoll_event> events(1024);
  static thread_local char buf[1 << 16];
  while (!g_stop.load(std::memory_order_relaxed) && mono_ns() < cfg.deadline_ns) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n; ++i) {
      auto& c = t.conns[events[i].data.u64];
      if (c.fd < 0) continue;
      if ((events[i].events & EPOLLOUT) && !c.sent) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
          drop(c, true);
          continue;
        }
        if (::send(c.fd, cfg.request.data(), cfg.request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(cfg.request.size())) {
          drop(c, true);
          continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = events[i].data.u64;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        c.sent = true;
      }
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        bool closed = false;
        for (;;) {
          ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
          if (got > 0) {
            t.bytes += static_cast<std::uint64_t>(got);
            bool ok = c.reader.feed(
                buf, static_cast<std::size_t>(got),
                [&] {
                  if (c.reader.status == 200) {
                    c.connected = true;
                    --inflight;
                    t.ready++;
                    t.finished++;
                  }
                },
                [&](const char* p, std::size_t len) {
                  if (p) on_sse_bytes(t, c, p, len, cfg.per_event);
                });
            if (!ok || (c.reader.state != BodyReader::State::headers && !c.connected)) {
              closed = true;
              break;
            }
            if (static_cast<std::size_t>(got) < sizeof buf) break;
          } else if (got == 0) {
            closed = true;
            break;
          } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK) closed = true;
            break;
          }
        }
        if (closed) drop(c, true);
      }
    }
    start_more();
  }
  for (auto& c : t.conns)
    if (c.fd >= 0) close(c.fd);
  close(ep);
}

std::string write_events_json(const std::vector<std::unique_ptr<SubThread>>& threads) {
  std::size_t n = 0;
  for (auto& t : threads) n = std::max(n, t->events.size());
  std::string out = "[";
  bool first = true;
  for (std::size_t seq = 0; seq < n; ++seq) {
    PerEvent e;
    for (auto& t : threads) {
      if (seq < t->events.size()) {
        e.max_ns = std::max(e.max_ns, t->events[seq].max_ns);
        e.count += t->events[seq].count;
      }
    }
    if (e.count == 0) continue;
    if (!first) out += ",";
    first = false;
    char item[96];
    std::snprintf(item, sizeof item, "[%zu,%u,%.3f]", seq, e.count, static_cast<double>(e.max_ns) / 1e6);
    out += item;
  }
  return out + "]";
}

int run_sub(const Args& a, std::FILE* out) {
  SubConfig cfg;
  cfg.target = parse_url(a.get("url"));
  cfg.conns = static_cast<std::size_t>(a.num("conns", 100));
  cfg.sources = static_cast<int>(a.num("sources", 1 + static_cast<long>(cfg.conns / 20000)));
  cfg.per_event = a.has("per-event");
  cfg.request = "GET " + cfg.target.path + " HTTP/1.1\r\nHost: " + cfg.target.host +
                "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
  auto hold_s = a.num("hold", 10);
  auto connect_timeout_s = a.num("connect-timeout", 60);
  std::size_t nthreads = static_cast<std::size_t>(a.num("threads", std::thread::hardware_concurrency()));
  nthreads = std::max<std::size_t>(1, std::min(nthreads, std::max<std::size_t>(1, cfg.conns)));
  std::string ready_file = a.get("ready", a.get("out") + ".ready");

  std::vector<std::unique_ptr<SubThread>> threads;
  for (std::size_t i = 0; i < nthreads; ++i) {
    threads.push_back(std::make_unique<SubThread>());
    threads.back()->conns.resize(cfg.conns / nthreads + (i < cfg.conns % nthreads ? 1 : 0));
  }
  // The deadline is set once connected; until then the threads run with the connect timeout.
  std::int64_t t0 = mono_ns();
  cfg.deadline_ns = t0 + (connect_timeout_s + hold_s) * 1'000'000'000LL;
  double cpu0 = cpu_seconds();
  std::vector<std::thread> workers;
  std::size_t base = 0;
  for (std::size_t i = 0; i < nthreads; ++i) {
    workers.emplace_back(sub_thread, std::ref(*threads[i]), std::cref(cfg), base);
    base += threads[i]->conns.size();
  }
  // Waits until every connection is ready or failed (or the connect timeout).
  std::uint64_t ready = 0, finished = 0;
  for (;;) {
    ready = finished = 0;
    for (auto& t : threads) {
      ready += t->ready.load();
      finished += t->finished.load();
    }
    if (finished >= cfg.conns || g_stop.load() || mono_ns() - t0 > connect_timeout_s * 1'000'000'000LL) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::int64_t t_ready = mono_ns();
  double connect_s = static_cast<double>(t_ready - t0) / 1e9;
  double cpu_ready = cpu_seconds();
  if (!ready_file.empty() && ready_file != ".ready") {
    std::ofstream(ready_file) << ready << "\n";
  }
  std::int64_t end = t_ready + hold_s * 1'000'000'000LL;
  while (!g_stop.load() && mono_ns() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  g_stop = true;
  for (auto& w : workers) w.join();
  double cpu_end = cpu_seconds();

  Histogram hist;
  std::uint64_t deliveries = 0, bytes = 0, failed = 0, closed = 0;
  std::int64_t first = 0, last = 0;
  for (auto& t : threads) {
    hist.merge(t->hist);
    deliveries += t->deliveries;
    bytes += t->bytes;
    failed += t->failed;
    closed += t->closed_by_peer;
    if (t->first_delivery && (!first || t->first_delivery < first)) first = t->first_delivery;
    last = std::max(last, t->last_delivery);
  }
  double span = last > first ? static_cast<double>(last - first) / 1e9 : 0;
  std::fprintf(
      out,
      "{\"mode\":\"sub\",\"conns\":%zu,\"ready\":%llu,\"failed\":%llu,\"closed_by_server\":%llu,"
      "\"connect_seconds\":%.3f,\"connect_rate\":%.1f,\"deliveries\":%llu,\"bytes\":%llu,"
      "\"delivery_span_seconds\":%.3f,\"deliveries_per_second\":%.1f,\"first_delivery_mono_ns\":%lld,"
      "\"last_delivery_mono_ns\":%lld,"
      "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"cpu_seconds_connect\":%.3f,"
      "\"cpu_seconds_hold\":%.3f,\"threads\":%zu,\"histogram_us\":%s",
      cfg.conns, static_cast<unsigned long long>(ready), static_cast<unsigned long long>(failed),
      static_cast<unsigned long long>(closed), connect_s,
      connect_s > 0 ? static_cast<double>(ready) / connect_s : 0.0,
      static_cast<unsigned long long>(deliveries), static_cast<unsigned long long>(bytes), span,
      span > 0 ? static_cast<double>(deliveries) / span : 0.0, static_cast<long long>(first),
      static_cast<long long>(last), hist.percentile_ms(50), hist.percentile_ms(99), hist.max_ms(),
      cpu_ready - cpu0, cpu_end - cpu_ready, nthreads, hist.sparse_json().c_str());
  if (cfg.per_event) std::fprintf(out, ",\"events\":%s", write_events_json(threads).c_str());
  std::fprintf(out, "}\n");
  return 0;
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

bool http_send(HttpConn& c, const std::string& req) {
  c.pending = req;
  while (!c.pending.empty()) {
    ssize_t w = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
    if (w < 0) return errno == EAGAIN;  // the rest goes on EPOLLOUT
    c.pending.erase(0, static_cast<std::size_t>(w));
  }
  return true;
}

std::string post_request(const Target& t, std::string_view body) {
  return "POST " + t.path + " HTTP/1.1\r\nHost: " + t.host +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string get_request(const Target& t) {
  return "GET " + t.path + " HTTP/1.1\r\nHost: " + t.host + "\r\nAccept: application/json\r\n\r\n";
}

// Makes a body of about `size` bytes carrying the send time and sequence number.
std::string make_body(const std::string& tmpl, std::int64_t ts, std::uint64_t seq, std::size_t size) {
  std::string head = "{\"ts\":" + std::to_string(ts) + ",\"seq\":" + std::to_string(seq);
  if (!tmpl.empty()) return head + "," + tmpl.substr(1);  // tmpl is a JSON object: merge its members
  std::string body = head + ",\"pad\":\"";
  std::size_t pad = size > body.size() + 2 ? size - body.size() - 2 : 0;
  body.append(pad, 'x');
  return body + "\"}";
}

int run_pub(const Args& a, std::FILE* out) {
  Target t = parse_url(a.get("url"));
  std::size_t nconns = static_cast<std::size_t>(a.num("conns", 4));
  double rate = static_cast<double>(a.num("rate", 0));  // events/s over all connections; 0 = max
  auto duration_s = a.num("duration", 10);
  std::size_t size = static_cast<std::size_t>(a.num("size", 100));
  std::string tmpl = a.get("body");
  std::int64_t max_events = a.num("count", -1);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<HttpConn> conns(nconns);
  for (std::size_t i = 0; i < nconns; ++i) {
    conns[i].fd = open_socket(t, 0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  Histogram hist;
  std::uint64_t seq = 0, ok = 0, errors = 0, late = 0;
  std::map<int, std::uint64_t> statuses;
  double cpu0 = cpu_seconds();
  std::int64_t start = mono_ns();
  std::int64_t end = start + duration_s * 1'000'000'000LL;
  std::int64_t interval = rate > 0 ? static_cast<std::int64_t>(1e9 / rate) : 0;
  std::int64_t next_at = start;
  auto can_send = [&] { return max_events < 0 || static_cast<std::int64_t>(seq) < max_events; };
  auto fire = [&](HttpConn& c) {
    auto now = mono_ns();
    c.busy = true;
    c.sent_at = now;
    c.reader.reset();
    if (!http_send(c, post_request(t, make_body(tmpl, realtime_ns(), seq++, size)))) {
      ++errors;
      c.busy = false;
    }
  };
  std::vector<epoll_event> events(256);
  char buf[1 << 16];
  while (!g_stop.load()) {
    std::int64_t now = mono_ns();
    if (now >= end ||
        (!can_send() && std::none_of(conns.begin(), conns.end(), [](auto& c) { return c.busy; })))
      break;
    // Sends what is due on idle connections.
    if (can_send() && now < end) {
      if (interval == 0) {
        for (auto& c : conns)
          if (c.connected && !c.busy && can_send()) fire(c);
      } else {
        while (next_at <= now && can_send()) {
          auto idle =
              std::find_if(conns.begin(), conns.end(), [](auto& c) { return c.connected && !c.busy; });
          if (idle == conns.end()) {
            if (std::any_of(conns.begin(), conns.end(), [](auto& c) { return c.connected; })) ++late;
            next_at += interval;
            continue;
          }
          fire(*idle);
          next_at += interval;
        }
      }
    }
    int timeout_ms =
        interval ? static_cast<int>(std::max<std::int64_t>(0, (next_at - mono_ns()) / 1'000'000)) : 50;
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), std::min(timeout_ms, 50));
    for (int i = 0; i < n; ++i) {
      auto& c = conns[events[i].data.u64];
      if (events[i].events & EPOLLOUT) {
        c.connected = true;
        while (!c.pending.empty()) {
          ssize_t w = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
          if (w <= 0) break;
          c.pending.erase(0, static_cast<std::size_t>(w));
        }
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
          if (got <= 0) {
            if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
              // The server closed the connection: reopen it.
              epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
              close(c.fd);
              if (c.busy) ++errors;
              c = HttpConn{};
              c.fd = open_socket(t, 0);
              epoll_event ev{};
              ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
              ev.data.u64 = events[i].data.u64;
              epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
            }
            break;
          }
          bool done = false;
          c.reader.feed(
              buf, static_cast<std::size_t>(got), [] {},
              [&](const char* p, std::size_t) {
                if (!p) done = true;
              });
          if (done) {
            statuses[c.reader.status]++;
            if (c.reader.status >= 200 && c.reader.status < 300) {
              ++ok;
              hist.add(mono_ns() - c.sent_at);
            } else {
              ++errors;
            }
            c.busy = false;
            c.reader.reset();
            if (interval == 0 && can_send() && mono_ns() < end) fire(c);
          }
        }
      }
    }
  }
  double elapsed = static_cast<double>(mono_ns() - start) / 1e9;
  double cpu = cpu_seconds() - cpu0;
  for (auto& c : conns)
    if (c.fd >= 0) close(c.fd);
  close(ep);
  std::string status_json = "{";
  for (auto& [code, count] : statuses) {
    if (status_json.size() > 1) status_json += ",";
    status_json += "\"" + std::to_string(code) + "\":" + std::to_string(count);
  }
  status_json += "}";
  std::fprintf(out,
               "{\"mode\":\"pub\",\"sent\":%llu,\"ok\":%llu,\"errors\":%llu,\"late\":%llu,\"seconds\":%.3f,"
               "\"published_per_second\":%.1f,\"response_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
               "\"statuses\":%s,\"cpu_seconds\":%.3f}\n",
               static_cast<unsigned long long>(seq), static_cast<unsigned long long>(ok),
               static_cast<unsigned long long>(errors), static_cast<unsigned long long>(late), elapsed,
               elapsed > 0 ? static_cast<double>(ok) / elapsed : 0.0, hist.percentile_ms(50),
               hist.percentile_ms(99), hist.max_ms(), status_json.c_str(), cpu);
  return 0;
}

// ---- reval: N clients, each an SSE connection plus a keep-alive HTTP connection that refetches the
// list when a revalidation arrives; one more connection posts the mutation. One thread. ----

struct RevalClient {
  int sse = -1;
  BodyReader sse_reader;
  std::string line;
  bool sse_ready = false;
  HttpConn http;
  std::uint64_t refetches = 0;
  std::int64_t answered_at = 0;  // mono ns of the last refetch answer
  std::int64_t event_at = 0;
};

int run_reval(const Args& a, std::FILE* out) {
  Target sse_t = parse_url(a.get("sse-url"));
  Target list_t = parse_url(a.get("list-url"));
  Target mut_t = parse_url(a.get("mutate-url"));
  std::size_t n = static_cast<std::size_t>(a.num("conns", 100));
  auto rounds = a.num("rounds", 5);
  std::string mutate_body = a.get("body", "{\"title\":\"bench\",\"content\":\"revalidation round trip\"}");
  std::string marker = a.get("marker", "queryKeys");
  auto round_timeout_ms = a.num("round-timeout-ms", 10000);
  std::string sse_req =
      "GET " + sse_t.path + " HTTP/1.1\r\nHost: " + sse_t.host + "\r\nAccept: text/event-stream\r\n\r\n";
  std::string list_req = get_request(list_t);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<RevalClient> clients(n);
  // Tokens: 2*i = SSE of client i, 2*i+1 = its HTTP connection; 2*n = the mutator.
  auto add = [&](int fd, std::uint64_t token, std::uint32_t mask) {
    epoll_event ev{};
    ev.events = mask;
    ev.data.u64 = token;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  };
  std::size_t started = 0;
  auto open_more = [&] {
    std::size_t pending = 0;
    for (std::size_t i = 0; i < started; ++i) pending += clients[i].sse_ready ? 0 : 1;
    while (started < n && pending < 200) {
      auto& c = clients[started];
      c.sse = open_socket(sse_t, 0);
      c.http.fd = open_socket(list_t, 0);
      add(c.sse, 2 * started, EPOLLOUT | EPOLLIN);
      add(c.http.fd, 2 * started + 1, EPOLLIN | EPOLLOUT | EPOLLET);
      ++started;
      ++pending;
    }
  };
  HttpConn mut;
  mut.fd = open_socket(mut_t, 0);
  add(mut.fd, 2 * n, EPOLLIN | EPOLLOUT | EPOLLET);

  std::vector<epoll_event> events(1024);
  char buf[1 << 16];
  std::size_t ready = 0;
  std::uint64_t refetch_answers = 0, errors = 0;
  std::int64_t mut_answered = 0;
  bool round_active = false;  // a mutation was sent: revalidations now trigger refetches
  auto handle = [&](const epoll_event& e) {
    std::uint64_t token = e.data.u64;
    if (token == 2 * n) {
      if (e.events & EPOLLOUT) {
        mut.connected = true;
        while (!mut.pending.empty()) {
          ssize_t w = ::send(mut.fd, mut.pending.data(), mut.pending.size(), MSG_NOSIGNAL);
          if (w <= 0) break;
          mut.pending.erase(0, static_cast<std::size_t>(w));
        }
      }
      if (e.events & EPOLLIN) {
        for (;;) {
          ssize_t got = ::recv(mut.fd, buf, sizeof buf, 0);
          if (got <= 0) break;
          mut.reader.feed(
              buf, static_cast<std::size_t>(got), [] {},
              [&](const char* p, std::size_t) {
                if (!p) {
                  mut_answered = mono_ns();
                  if (mut.reader.status >= 300) ++errors;
                  mut.busy = false;
                }
              });
          if (!mut.busy) mut.reader.reset();
        }
      }
      return;
    }
    auto& c = clients[token / 2];
    if (token % 2 == 0) {
      if ((e.events & EPOLLOUT) && c.sse_reader.status == 0) {
        ::send(c.sse, sse_req.data(), sse_req.size(), MSG_NOSIGNAL);
        c.sse_reader.status = -1;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = token;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.sse, &ev);
      }
      if (e.events & EPOLLIN) {
        ssize_t got = ::recv(c.sse, buf, sizeof buf, 0);
        if (got <= 0) {
          if (got == 0) {
            ++errors;
            epoll_ctl(ep, EPOLL_CTL_DEL, c.sse, nullptr);
          }
          return;
        }
        c.sse_reader.feed(
            buf, static_cast<std::size_t>(got),
            [&] {
              if (c.sse_reader.status == 200 && !c.sse_ready) {
                c.sse_ready = true;
                ++ready;
              }
            },
            [&](const char* p, std::size_t len) {
              if (!p) return;
              c.line.append(p, len);
              // A revalidation arrived: refetch the list (once per event, on the keep-alive connection).
              std::size_t at;
              while ((at = c.line.find('\n')) != std::string::npos) {
                std::string_view l(c.line.data(), at);
                if (l.rfind("data:", 0) == 0 && l.find(marker) != std::string_view::npos && round_active) {
                  c.event_at = mono_ns();
                  c.http.reader.reset();
                  c.http.busy = true;
                  http_send(c.http, list_req);
                }
                c.line.erase(0, at + 1);
              }
            });
      }
    } else {
      if (e.events & EPOLLOUT) {
        c.http.connected = true;
        while (!c.http.pending.empty()) {
          ssize_t w = ::send(c.http.fd, c.http.pending.data(), c.http.pending.size(), MSG_NOSIGNAL);
          if (w <= 0) break;
          c.http.pending.erase(0, static_cast<std::size_t>(w));
        }
      }
      if (e.events & EPOLLIN) {
        for (;;) {
          ssize_t got = ::recv(c.http.fd, buf, sizeof buf, 0);
          if (got <= 0) break;
          c.http.reader.feed(
              buf, static_cast<std::size_t>(got), [] {},
              [&](const char* p, std::size_t) {
                if (!p) {
                  if (c.http.reader.status == 200) {
                    c.answered_at = mono_ns();
                    ++c.refetches;
                    ++refetch_answers;
                  } else {
                    ++errors;
                  }
                  c.http.busy = false;
                }
              });
          if (!c.http.busy) c.http.reader.reset();
        }
      }
    }
  };
  auto pump = [&](int timeout_ms) {
    int got = epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < got; ++i) handle(events[i]);
  };

  std::int64_t t0 = mono_ns();
  while (ready < n && !g_stop.load() && mono_ns() - t0 < 60'000'000'000LL) {
    open_more();
    pump(20);
  }
  double connect_s = static_cast<double>(mono_ns() - t0) / 1e9;
  double cpu0 = cpu_seconds();
  std::vector<double> round_ms, event_ms;
  std::uint64_t incomplete = 0;
  for (long r = 0; r < rounds && !g_stop.load(); ++r) {
    for (int i = 0; i < 10; ++i) pump(10);  // settle
    std::uint64_t before = refetch_answers;
    mut_answered = 0;
    round_active = true;
    for (auto& c : clients) c.answered_at = c.event_at = 0;
    mut.busy = true;
    mut.reader.reset();
    http_send(mut, post_request(mut_t, mutate_body));
    std::int64_t deadline = mono_ns() + round_timeout_ms * 1'000'000;
    while (!g_stop.load() && mono_ns() < deadline && (mut.busy || refetch_answers - before < ready)) pump(5);
    round_active = false;
    if (refetch_answers - before < ready) ++incomplete;
    std::int64_t last = 0, last_event = 0;
    for (auto& c : clients) {
      last = std::max(last, c.answered_at);
      last_event = std::max(last_event, c.event_at);
    }
    if (mut_answered && last) {
      round_ms.push_back(static_cast<double>(last - mut_answered) / 1e6);
      event_ms.push_back(static_cast<double>(last_event - mut_answered) / 1e6);
    }
    std::int64_t pause = mono_ns() + 200'000'000;
    while (mono_ns() < pause) pump(10);
  }
  double cpu = cpu_seconds() - cpu0;
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(v[i]);
    }
    return s + "]";
  };
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::fprintf(out,
               "{\"mode\":\"reval\",\"conns\":%zu,\"ready\":%zu,\"connect_seconds\":%.3f,\"rounds\":%zu,"
               "\"incomplete_rounds\":%llu,\"errors\":%llu,\"refetches\":%llu,\"round_trip_ms\":%s,"
               "\"last_event_ms\":%s,\"round_trip_ms_median\":%.3f,\"last_event_ms_median\":%.3f,"
               "\"cpu_seconds\":%.3f}\n",
               n, ready, connect_s, round_ms.size(), static_cast<unsigned long long>(incomplete),
               static_cast<unsigned long long>(errors), static_cast<unsigned long long>(refetch_answers),
               list(round_ms).c_str(), list(event_ms).c_str(), median(round_ms), median(event_ms), cpu);
  for (auto& c : clients) {
    if (c.sse >= 0) close(c.sse);
    if (c.http.fd >= 0) close(c.http.fd);
  }
  close(mut.fd);
  close(ep);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: loadgen sub|pub|reval --option value ... (see the source's header)\n");
    return 2;
  }
  std::string mode = argv[1];
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      std::fprintf(stderr, "loadgen: unexpected argument %s\n", key.c_str());
      return 2;
    }
    key = key.substr(2);
    if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
      args.values[key] = argv[++i];
    } else {
      args.values[key] = "1";
    }
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  std::FILE* out = stdout;
  std::string out_path = args.get("out");
  std::string tmp_path = out_path + ".tmp";
  if (!out_path.empty()) out = std::fopen(tmp_path.c_str(), "w");
  if (!out) {
    std::perror("loadgen: --out");
    return 2;
  }
  int rc = 2;
  try {
    if (mode == "sub")
      rc = run_sub(args, out);
    else if (mode == "pub")
      rc = run_pub(args, out);
    else if (mode == "reval")
      rc = run_reval(args, out);
    else
      std::fprintf(stderr, "loadgen: unknown mode %s\n", mode.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    rc = 2;
  }
  if (out != stdout) {
    std::fclose(out);
    if (rc == 0) std::rename(tmp_path.c_str(), out_path.c_str());  // the file appears complete or not at all
  }
  return rc;
}
