// loadgen reval: N clients, each an SSE connection plus a keep-alive HTTP connection that refetches
// the list when a revalidation arrives; one more connection posts the mutation. One thread.

#include "common.hpp"

namespace loadgen {
namespace {

// ---- reval: N clients, each an SSE connection plus a keep-alive HTTP connection that refetches the
// list when a revalidation arrives; one more connection posts the mutation. One thread. ----
// Per round (the JSON's lists, with their medians): from_request_ms, from the mutation's request sent to
// the last refetch answered; round_trip_ms, the same end from the mutation's *answer* (the older count,
// kept under its old name); last_event_ms, the last revalidation event's arrival from that answer.

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

}  // namespace

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
      add(c.sse, 2 * started, EPOLLOUT | EPOLLIN);
      ++started;
      ++pending;
    }
  };
  HttpConn mut;

  std::vector<epoll_event> events(1024);
  char buf[1 << 16];
  std::size_t ready = 0;
  std::uint64_t refetch_answers = 0, errors = 0;
  // A keep-alive connection the server closed: counted, and let go (the mutator's opens again).
  auto closed = [&](HttpConn& conn) {
    ++errors;
    epoll_ctl(ep, EPOLL_CTL_DEL, conn.fd, nullptr);
    close(conn.fd);
    conn.fd = -1;
    conn.busy = false;
  };
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
          if (got == 0) closed(mut);
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
          if (got == 0) closed(c.http);
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
  // The keep-alive connections open once every stream is up, and the mutator's before each round if the
  // server closed it: a connection that sends no request within the server's header timeout (igniter-cpp:
  // 10 s) is closed, and 9 000 streams can take longer than that to connect.
  auto open_mutator = [&] {
    mut = HttpConn{};
    mut.fd = open_socket(mut_t, 0);
    add(mut.fd, 2 * n, EPOLLIN | EPOLLOUT | EPOLLET);
  };
  for (std::size_t i = 0; i < started; ++i) {
    clients[i].http.fd = open_socket(list_t, 0);
    add(clients[i].http.fd, 2 * i + 1, EPOLLIN | EPOLLOUT | EPOLLET);
  }
  open_mutator();
  auto all_open = [&] {
    for (std::size_t i = 0; i < started; ++i)
      if (!clients[i].http.connected) return false;
    return mut.connected;
  };
  for (std::int64_t until = mono_ns() + 10'000'000'000LL; !all_open() && mono_ns() < until;) pump(10);
  double cpu0 = cpu_seconds();
  std::vector<double> round_ms, event_ms, sent_ms;
  std::uint64_t incomplete = 0;
  for (long r = 0; r < rounds && !g_stop.load(); ++r) {
    for (int i = 0; i < 10; ++i) pump(10);  // settle
    std::uint64_t before = refetch_answers;
    mut_answered = 0;
    round_active = true;
    for (auto& c : clients) c.answered_at = c.event_at = 0;
    if (mut.fd < 0) open_mutator();
    mut.busy = true;
    mut.reader.reset();
    const auto mutation = post_request(mut_t, mutate_body);
    const std::int64_t mut_sent = mono_ns();
    http_send(mut, mutation);
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
      sent_ms.push_back(static_cast<double>(last - mut_sent) / 1e6);
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
               "\"from_request_ms\":%s,\"from_request_ms_median\":%.3f,\"cpu_seconds\":%.3f}\n",
               n, ready, connect_s, round_ms.size(), static_cast<unsigned long long>(incomplete),
               static_cast<unsigned long long>(errors), static_cast<unsigned long long>(refetch_answers),
               list(round_ms).c_str(), list(event_ms).c_str(), median(round_ms), median(event_ms),
               list(sent_ms).c_str(), median(sent_ms), cpu);
  for (auto& c : clients) {
    if (c.sse >= 0) close(c.sse);
    if (c.http.fd >= 0) close(c.http.fd);
  }
  if (mut.fd >= 0) close(mut.fd);
  close(ep);
  return 0;
}

}  // namespace loadgen
