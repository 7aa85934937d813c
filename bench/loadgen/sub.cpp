// loadgen sub: many SSE connections on a few threads (connecting on epoll, reading through io_uring),
// timestamping deliveries.

#include <liburing.h>
#include <sys/mman.h>

#include "common.hpp"

namespace loadgen {
namespace {

// ---- sub: SSE subscribers ----

struct PerEvent {
  std::int64_t max_ns = 0;
  std::uint32_t count = 0;
};

struct SubThread {
  std::vector<SseConn> conns;
  std::vector<char> in_ring;  // with the io_uring reader: read there (connected), no longer on epoll
  bool ring = false;          // the io_uring reader was opened
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
  bool uring = true;               // read connected streams through io_uring (RecvRing), else epoll
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

// The reader of connected streams (--reader uring, the default): one multishot receive per stream into
// a ring of provided buffers, completions reaped in batches. The load generator shares the machine with
// the server it measures, and on these hosts a system call is dear: one recv (and its share of an
// epoll_wait) per stream per event cost the reader more CPU than the server spent writing (bench/notes.md,
// "The load generator's share"). The kernel's receive work is the same either way.
class RecvRing {
 public:
  static constexpr unsigned kBufferSize = 2048, kMaxBuffers = 32768;  // the kernel's most per ring

  // Two buffers per stream (one event for every stream between two reaps takes one each), within the
  // kernel's bound; a receive that finds none ends with -ENOBUFS and is made again. Null where io_uring,
  // multishot receives or provided buffer rings are missing (then: epoll).
  static std::unique_ptr<RecvRing> open(std::size_t streams) {
    auto ring = std::unique_ptr<RecvRing>(new RecvRing);
    unsigned count = 1024;
    while (count < 2 * streams && count < kMaxBuffers) count *= 2;
    ring->count_ = count;
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    params.cq_entries = 2 * count;
    if (io_uring_queue_init_params(256, &ring->ring_, &params) < 0) return nullptr;
    ring->initialised_ = true;
    auto ring_bytes = count * sizeof(io_uring_buf);
    void* mem = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    ring->mapped_ = mem;
    ring->buffers_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(ring->buffers_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = count;
    reg.bgid = 0;
    if (io_uring_register_buf_ring(&ring->ring_, &reg, 0) < 0) return nullptr;
    ring->memory_.resize(std::size_t{count} * kBufferSize);
    for (unsigned i = 0; i < count; ++i)
      io_uring_buf_ring_add(ring->buffers_, ring->buffer(i), kBufferSize, static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(count), static_cast<int>(i));
    io_uring_buf_ring_advance(ring->buffers_, static_cast<int>(count));
    return ring;
  }
  ~RecvRing() {
    if (initialised_) io_uring_queue_exit(&ring_);
    if (mapped_) munmap(mapped_, count_ * sizeof(io_uring_buf));
  }

  // Starts receiving on `fd`; its completions carry `tag`.
  void receive(int fd, std::uint64_t tag) {
    auto* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    io_uring_sqe_set_data64(sqe, tag);
  }

  // Submits, waits up to `wait_ms` for a completion (0: none), and calls
  // on_data(tag, bytes, size, more) for each: size > 0 bytes received, 0 the peer closed, < 0 -errno
  // (-ENOBUFS: receive again); `more` false when the receive ended.
  template <class OnData>
  void reap(int wait_ms, OnData&& on_data) {
    io_uring_cqe* cqe = nullptr;
    if (wait_ms > 0) {
      __kernel_timespec ts{.tv_sec = 0, .tv_nsec = wait_ms * 1'000'000LL};
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    } else {
      io_uring_submit_and_get_events(&ring_);
    }
    unsigned head = 0, seen = 0, returned = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
        auto id = static_cast<unsigned short>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        on_data(cqe->user_data, buffer(id), cqe->res, more);
        io_uring_buf_ring_add(buffers_, buffer(id), kBufferSize, id, io_uring_buf_ring_mask(count_),
                              static_cast<int>(returned++));
      } else {
        on_data(cqe->user_data, nullptr, cqe->res, more);
      }
    }
    io_uring_cq_advance(&ring_, seen);
    if (returned) io_uring_buf_ring_advance(buffers_, static_cast<int>(returned));
  }

 private:
  RecvRing() = default;
  char* buffer(unsigned id) { return memory_.data() + std::size_t{id} * kBufferSize; }

  io_uring ring_{};
  unsigned count_ = 0;  // buffers
  bool initialised_ = false;
  void* mapped_ = nullptr;
  io_uring_buf_ring* buffers_ = nullptr;
  std::vector<char> memory_;
};

void sub_thread(SubThread& t, const SubConfig& cfg, std::size_t first_index) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::size_t next = 0, inflight = 0;
  auto start_more = [&] {
    while (next < t.conns.size() && inflight < cfg.max_inflight) {
      auto& c = t.conns[next];
      int source = cfg.sources > 1
                       ? 1 + static_cast<int>((first_index + next) % static_cast<std::size_t>(cfg.sources))
                       : 0;
      c.fd = open_socket(cfg.target, source);
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
  auto drop = [&](SseConn& c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    if (!c.connected) {
      ++t.failed;
      t.finished++;
      --inflight;
    } else {
      ++t.closed_by_peer;
    }
  };
  auto on_ready = [&] {
    --inflight;
    t.ready++;
    t.finished++;
  };
  auto line = [&](std::string_view text) { on_line(t, text, cfg.per_event); };
  auto ring = cfg.uring ? RecvRing::open(t.conns.size()) : nullptr;
  t.ring = ring != nullptr;
  t.in_ring.assign(t.conns.size(), 0);
  // A connected stream moves from epoll to the ring; the ring's completions for a stream that ended
  // (feed failed: shut down, then its receive ends) close it there.
  auto on_data = [&](std::uint64_t tag, const char* data, int size, bool more) {
    auto& c = t.conns[tag];
    if (c.fd < 0) return;
    if (size > 0) {
      t.bytes += static_cast<std::uint64_t>(size);
      if (!feed_sse(c, data, static_cast<std::size_t>(size), on_ready, line)) shutdown(c.fd, SHUT_RDWR);
      if (!more) ring->receive(c.fd, tag);
    } else if (size == -ENOBUFS) {
      ring->receive(c.fd, tag);  // every buffer was in use: receive again (they are back by now)
    } else if (!more) {
      close(c.fd);
      c.fd = -1;
      ++t.closed_by_peer;
    }
  };
  start_more();
  std::vector<epoll_event> events(1024);
  while (!g_stop.load(std::memory_order_relaxed) && mono_ns() < cfg.deadline_ns) {
    bool connecting = t.finished.load(std::memory_order_relaxed) < t.conns.size();
    if (ring && !connecting) {
      ring->reap(50, on_data);
      continue;
    }
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), ring ? 5 : 50);
    for (int i = 0; i < n; ++i) {
      auto index = events[i].data.u64;
      auto& c = t.conns[index];
      if (c.fd >= 0 && !on_sse_event(ep, c, events[i], cfg.request, t.bytes, on_ready, line)) drop(c);
      if (ring && c.fd >= 0 && c.connected && !t.in_ring[index]) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        t.in_ring[index] = 1;
        ring->receive(c.fd, index);
      }
    }
    if (ring) ring->reap(0, on_data);
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

}  // namespace

int run_sub(const Args& a, std::FILE* out) {
  SubConfig cfg;
  cfg.target = parse_url(a.get("url"));
  cfg.conns = static_cast<std::size_t>(a.num("conns", 100));
  cfg.sources = static_cast<int>(a.num("sources", 1 + static_cast<long>(cfg.conns / 20000)));
  cfg.per_event = a.has("per-event");
  cfg.uring = a.get("reader", "uring") != "epoll";
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
  const char* reader =
      std::all_of(threads.begin(), threads.end(), [](auto& t) { return t->ring; }) ? "uring" : "epoll";
  double span = last > first ? static_cast<double>(last - first) / 1e9 : 0;
  std::fprintf(
      out,
      "{\"mode\":\"sub\",\"conns\":%zu,\"ready\":%llu,\"failed\":%llu,\"closed_by_server\":%llu,"
      "\"connect_seconds\":%.3f,\"connect_rate\":%.1f,\"deliveries\":%llu,\"bytes\":%llu,"
      "\"delivery_span_seconds\":%.3f,\"deliveries_per_second\":%.1f,\"first_delivery_mono_ns\":%lld,"
      "\"last_delivery_mono_ns\":%lld,"
      "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"cpu_seconds_connect\":%.3f,"
      "\"cpu_seconds_hold\":%.3f,\"threads\":%zu,\"reader\":\"%s\",\"histogram_us\":%s",
      cfg.conns, static_cast<unsigned long long>(ready), static_cast<unsigned long long>(failed),
      static_cast<unsigned long long>(closed), connect_s,
      connect_s > 0 ? static_cast<double>(ready) / connect_s : 0.0,
      static_cast<unsigned long long>(deliveries), static_cast<unsigned long long>(bytes), span,
      span > 0 ? static_cast<double>(deliveries) / span : 0.0, static_cast<long long>(first),
      static_cast<long long>(last), hist.percentile_ms(50), hist.percentile_ms(99), hist.max_ms(),
      cpu_ready - cpu0, cpu_end - cpu_ready, nthreads, reader, hist.sparse_json().c_str());
  if (cfg.per_event) std::fprintf(out, ",\"events\":%s", write_events_json(threads).c_str());
  std::fprintf(out, "}\n");
  return 0;
}

}  // namespace loadgen
