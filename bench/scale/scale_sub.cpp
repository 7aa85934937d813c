// scale_sub: the subscriber process of `make bench-scale` (bench/scale/run.py). Holds up to ~19 000 SSE
// connections to one server from S loopback source addresses (127.0.0.0 + K .. + K+S-1; connection i
// uses K + i % S) on a few epoll threads, and keeps, per
// event (the "seq" of the payload), how many connections got it and a latency histogram (from the
// payload's "ts", ns since the epoch), so that the driver can read a step's broadcasts while every
// connection stays open: SIGUSR1 writes a snapshot to --stats FILE (atomically), SIGTERM ends.
//
//   scale_sub --url http://127.0.0.1:PORT/path --conns N [--source K] [--sources S] [--threads T]
//             --ready FILE --stats FILE
//             [--connect-timeout S] [--totals]
//
// --ready FILE is written once every connection has its 200 and headers (or failed, or the connect
// timeout passed): {"ready":R,"failed":F,"connect_seconds":S}. The snapshot is
// {"ready":R,"failed":F,"closed":C,"per_conn_min":A,"per_conn_max":B,"events":[[seq,count,max_ms,hist]]}:
// per_conn_min/max are the fewest and most events one open connection received (equal when every
// subscriber got every event), hist is the sparse histogram of bench/loadgen (µs bucket, count).
// With --totals (the stream ceiling, bench/scale/ceiling.py: many thousands of events) no per-event
// record is kept: "events" is empty and "deliveries" counts them all.
// It reuses bench/loadgen's plumbing; its per-connection state is ~100 bytes (the SSE line buffer and the
// response reader's strings are empty once idle).

#include "../loadgen/common.hpp"

namespace loadgen {
namespace {

std::atomic<bool> g_dump{false};

struct Conn : SseConn {
  std::uint32_t events = 0;  // events received on this connection
};

struct EventStats {
  Histogram hist;
  std::uint64_t count = 0;
};

struct Worker {
  std::vector<Conn> conns;
  std::mutex mutex;  // guards events and the counters below against the snapshot
  std::map<std::int64_t, EventStats> events;
  std::uint64_t failed = 0;
  std::uint64_t closed = 0;
  std::uint64_t deliveries = 0;
  std::atomic<std::uint64_t> ready{0};
  std::atomic<std::uint64_t> finished{0};
};

struct Config {
  Target target;
  std::string request;
  int source = 0;       // the first source address (0: the kernel's choice)
  int sources = 1;      // how many, from `source` on
  bool totals = false;  // count deliveries only
  std::size_t max_inflight = 256;
};

constexpr std::size_t kMaxEvents = 100'000;  // distinct seqs kept (the driver publishes a few per step)

void on_line(Worker& w, Conn& c, std::string_view line, bool totals) {
  if (line.size() < 5 || line.compare(0, 5, "data:") != 0) return;
  std::int64_t ts = find_number(line, "\"ts\":");
  std::int64_t seq = find_number(line, "\"seq\":");
  if (ts < 0 || seq < 0) return;
  std::int64_t lat = realtime_ns() - ts;
  ++c.events;
  ++w.deliveries;
  if (totals) return;
  if (w.events.size() >= kMaxEvents && !w.events.count(seq)) return;
  auto& e = w.events[seq];
  e.hist.add(lat);
  ++e.count;
}

void run_worker(Worker& w, const Config& cfg) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::size_t next = 0, inflight = 0;
  auto start_more = [&] {
    while (next < w.conns.size() && inflight < cfg.max_inflight) {
      auto& c = w.conns[next];
      // Connect picks a free port per (source, destination) by scanning the ephemeral range; past about
      // half the range (~14 000 here) every connect scans further, so no source carries more than a few
      // thousand connections.
      int source =
          cfg.source > 0 ? cfg.source + static_cast<int>(next % static_cast<std::size_t>(cfg.sources)) : 0;
      c.fd = open_socket(cfg.target, source);
      if (c.fd < 0) {
        std::lock_guard lock(w.mutex);
        ++w.failed;
        w.finished++;
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
  auto drop = [&](Conn& c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    std::lock_guard lock(w.mutex);
    if (!c.connected) {
      ++w.failed;
      w.finished++;
      --inflight;
    } else {
      ++w.closed;
    }
  };
  auto on_ready = [&] {
    --inflight;
    w.ready++;
    w.finished++;
  };
  std::uint64_t bytes = 0;
  start_more();
  std::vector<epoll_event> events(1024);
  while (!g_stop.load(std::memory_order_relaxed)) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    std::unique_lock lock(w.mutex);  // the snapshot reads what on_line counts
    for (int i = 0; i < n; ++i) {
      auto& c = w.conns[events[i].data.u64];
      if (c.fd < 0) continue;
      auto line = [&](std::string_view text) { on_line(w, c, text, cfg.totals); };
      if (on_sse_event(ep, c, events[i], cfg.request, bytes, on_ready, line)) continue;
      lock.unlock();
      drop(c);
      lock.lock();
    }
    lock.unlock();
    start_more();
  }
  for (auto& c : w.conns)
    if (c.fd >= 0) close(c.fd);
  close(ep);
}

void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

std::string snapshot(std::vector<std::unique_ptr<Worker>>& workers) {
  std::map<std::int64_t, EventStats> merged;
  std::uint64_t ready = 0, failed = 0, closed = 0, deliveries = 0;
  std::uint32_t lo = UINT32_MAX, hi = 0;
  for (auto& w : workers) {
    std::lock_guard lock(w->mutex);
    ready += w->ready.load();
    failed += w->failed;
    closed += w->closed;
    deliveries += w->deliveries;
    for (auto& [seq, e] : w->events) {
      auto& m = merged[seq];
      m.hist.merge(e.hist);
      m.count += e.count;
    }
    for (auto& c : w->conns) {
      if (c.fd < 0 || !c.connected) continue;
      lo = std::min(lo, c.events);
      hi = std::max(hi, c.events);
    }
  }
  if (lo == UINT32_MAX) lo = 0;
  std::string out =
      "{\"ready\":" + std::to_string(ready) + ",\"failed\":" + std::to_string(failed) +
      ",\"closed\":" + std::to_string(closed) + ",\"deliveries\":" + std::to_string(deliveries) +
      ",\"per_conn_min\":" + std::to_string(lo) + ",\"per_conn_max\":" + std::to_string(hi) + ",\"events\":[";
  bool first = true;
  for (auto& [seq, e] : merged) {
    if (!first) out += ",";
    first = false;
    char head[96];
    std::snprintf(head, sizeof head, "[%lld,%llu,%.3f,", static_cast<long long>(seq),
                  static_cast<unsigned long long>(e.count), e.hist.max_ms());
    out += head + e.hist.sparse_json() + "]";
  }
  return out + "]}\n";
}

int run(const Args& a) {
  Config cfg;
  cfg.target = parse_url(a.get("url"));
  cfg.source = static_cast<int>(a.num("source", 0));
  cfg.sources = static_cast<int>(std::max<long>(1, a.num("sources", 1)));
  cfg.totals = a.has("totals");
  cfg.request = "GET " + cfg.target.path + " HTTP/1.1\r\nHost: " + cfg.target.host +
                "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
  auto conns = static_cast<std::size_t>(a.num("conns", 100));
  auto nthreads = static_cast<std::size_t>(std::max<long>(1, a.num("threads", 1)));
  auto connect_timeout_s = a.num("connect-timeout", 120);
  std::string ready_file = a.get("ready"), stats_file = a.get("stats");
  if (ready_file.empty() || stats_file.empty()) {
    std::fprintf(stderr, "scale_sub: --ready FILE and --stats FILE are required\n");
    return 2;
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t i = 0; i < nthreads; ++i) {
    workers.push_back(std::make_unique<Worker>());
    workers.back()->conns.resize(conns / nthreads + (i < conns % nthreads ? 1 : 0));
  }
  std::int64_t t0 = mono_ns();
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back(run_worker, std::ref(*w), std::cref(cfg));
  std::uint64_t ready = 0, finished = 0;
  for (;;) {
    ready = finished = 0;
    for (auto& w : workers) {
      ready += w->ready.load();
      finished += w->finished.load();
    }
    if (finished >= conns || g_stop.load() || mono_ns() - t0 > connect_timeout_s * 1'000'000'000LL) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double connect_s = static_cast<double>(mono_ns() - t0) / 1e9;
  char text[160];
  std::snprintf(text, sizeof text, "{\"ready\":%llu,\"failed\":%llu,\"connect_seconds\":%.3f}\n",
                static_cast<unsigned long long>(ready), static_cast<unsigned long long>(finished - ready),
                connect_s);
  write_atomically(ready_file, text);
  while (!g_stop.load()) {
    if (g_dump.exchange(false)) write_atomically(stats_file, snapshot(workers));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : threads) t.join();
  write_atomically(stats_file, snapshot(workers));
  return 0;
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) {
  using namespace loadgen;
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      std::fprintf(stderr, "scale_sub: unexpected argument %s\n", key.c_str());
      return 2;
    }
    key = key.substr(2);
    if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0)
      args.values[key] = argv[++i];
    else
      args.values[key] = "1";
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction dump {};
  dump.sa_handler = [](int) { g_dump = true; };
  sigaction(SIGUSR1, &dump, nullptr);
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scale_sub: %s\n", e.what());
    return 2;
  }
}
