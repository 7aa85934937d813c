// loadgen pub: publishes events over keep-alive HTTP connections, at a rate or closed-loop.

#include "common.hpp"

namespace loadgen {

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

}  // namespace loadgen
