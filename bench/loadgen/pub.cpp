// loadgen pub: publishes events over keep-alive HTTP connections, closed-loop (--rate 0: each connection
// sends its next event when its previous one is answered) or open-loop (--rate R: events on a fixed
// schedule, R per second, whatever the answers).
//
// Open loop: event k is due at start + k/R. It goes out on an idle connection; when every connection
// is waiting for an answer a new one is opened (up to --max-conns), so a slow answer never delays the
// next send. Past --max-conns outstanding requests a due event is counted `unsent` (the system is not
// carrying the rate; the publisher does not queue behind it). The event's "ts" is its *scheduled*
// time (CLOCK_REALTIME), so a late send counts against the latency, not for it. After --duration the
// publisher stops sending and waits up to --drain seconds for the answers still owed.
// The report says what was offered (due events) and carried (accepted: a 2xx answer), carried/s over
// the time from the first accepted answer to the last, and one [seq, scheduled ms, send lag
// ms, answer ms or -1, status] per event.

#include "common.hpp"

namespace loadgen {
namespace {

struct EventRecord {
  std::int64_t due = 0;       // mono ns, scheduled
  std::int64_t sent = 0;      // mono ns, written (0: never)
  std::int64_t answered = 0;  // mono ns (0: no answer)
  int status = 0;
};

}  // namespace

int run_pub(const Args& a, std::FILE* out) {
  Target t = parse_url(a.get("url"));
  std::size_t nconns = static_cast<std::size_t>(a.num("conns", 4));
  std::size_t max_conns = static_cast<std::size_t>(a.num("max-conns", 64));
  double rate = std::stod(a.get("rate", "0"));  // events/s over all connections; 0 = closed loop
  double duration_s = std::stod(a.get("duration", "10"));
  double drain_s = std::stod(a.get("drain", "5"));
  std::size_t size = static_cast<std::size_t>(a.num("size", 100));
  std::string tmpl = a.get("body");
  std::int64_t max_events = a.num("count", -1);
  const bool open_loop = rate > 0;
  max_conns = std::max(max_conns, nconns);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<HttpConn> conns;
  std::vector<std::int64_t> conn_seq;  // the event a busy connection waits for
  conns.reserve(max_conns);
  auto open_conn = [&](std::size_t index) {
    conns[index].fd = open_socket(t, 0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = index;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[index].fd, &ev);
  };
  auto add_conn = [&] {
    conns.emplace_back();
    conn_seq.push_back(-1);
    open_conn(conns.size() - 1);
    return conns.size() - 1;
  };
  for (std::size_t i = 0; i < nconns; ++i) add_conn();

  Histogram hist;
  std::vector<EventRecord> records;  // open loop only
  std::uint64_t seq = 0, ok = 0, errors = 0, unsent = 0;
  std::map<int, std::uint64_t> statuses;
  double cpu0 = cpu_seconds();
  // Waits (up to 5 s) for the first connections, so the schedule does not start with a connect storm.
  std::int64_t wait_until = mono_ns() + 5'000'000'000LL;
  std::vector<epoll_event> events(256);
  while (mono_ns() < wait_until &&
         std::none_of(conns.begin(), conns.end(), [](auto& c) { return c.connected; })) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n; ++i)
      if (events[i].events & EPOLLOUT) conns[events[i].data.u64].connected = true;
  }
  const std::int64_t start = mono_ns();
  const std::int64_t rt_offset = realtime_ns() - start;  // mono -> realtime
  const std::int64_t end = start + static_cast<std::int64_t>(duration_s * 1e9);
  const std::int64_t drain_end = end + static_cast<std::int64_t>(drain_s * 1e9);
  const std::int64_t interval = open_loop ? static_cast<std::int64_t>(1e9 / rate) : 0;
  std::int64_t next_at = start;
  std::int64_t first_ok_at = 0, last_ok_at = 0;
  auto can_send = [&] { return max_events < 0 || static_cast<std::int64_t>(seq) < max_events; };
  // Sends event `seq` (due at `due`) on connection `index`; a connection still connecting sends it on
  // EPOLLOUT.
  auto fire = [&](std::size_t index, std::int64_t due) {
    auto& c = conns[index];
    auto now = mono_ns();
    c.busy = true;
    c.sent_at = open_loop ? due : now;  // open loop: answer time from the schedule
    c.reader.reset();
    conn_seq[index] = static_cast<std::int64_t>(seq);
    if (open_loop) records.push_back(EventRecord{due, c.connected ? now : 0, 0, 0});
    auto req = post_request(t, make_body(tmpl, rt_offset + (open_loop ? due : now), seq++, size));
    if (!c.connected) {
      c.pending = std::move(req);
    } else if (!http_send(c, req)) {
      ++errors;
      c.busy = false;
    }
  };
  char buf[1 << 16];
  while (!g_stop.load()) {
    std::int64_t now = mono_ns();
    bool outstanding = std::any_of(conns.begin(), conns.end(), [](auto& c) { return c.busy; });
    if (now >= drain_end || (now >= end && !outstanding) || (!can_send() && !outstanding)) break;
    // Sends what is due.
    if (can_send() && now < end) {
      if (!open_loop) {
        for (std::size_t i = 0; i < conns.size(); ++i)
          if (conns[i].connected && !conns[i].busy && can_send()) fire(i, now);
      } else {
        while (next_at <= now && next_at < end && can_send()) {
          auto idle =
              std::find_if(conns.begin(), conns.end(), [](auto& c) { return c.connected && !c.busy; });
          if (idle != conns.end()) {
            fire(static_cast<std::size_t>(idle - conns.begin()), next_at);
          } else if (conns.size() < max_conns) {
            fire(add_conn(), next_at);
          } else {
            ++unsent;  // max_conns requests outstanding: the system is not carrying the rate
            records.push_back(EventRecord{next_at, 0, 0, 0});
            ++seq;
          }
          next_at += interval;
        }
      }
    }
    std::int64_t wake = open_loop && now < end ? next_at : now + 50'000'000;
    int timeout_ms = static_cast<int>(std::clamp<std::int64_t>((wake - mono_ns()) / 1'000'000, 0, 50));
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      std::size_t index = events[i].data.u64;
      auto& c = conns[index];
      if (events[i].events & EPOLLOUT) {
        if (!c.connected && c.busy && open_loop && conn_seq[index] >= 0)
          records[static_cast<std::size_t>(conn_seq[index])].sent = mono_ns();
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
              conn_seq[index] = -1;
              open_conn(index);
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
            auto at = mono_ns();
            statuses[c.reader.status]++;
            if (open_loop && conn_seq[index] >= 0) {
              auto& r = records[static_cast<std::size_t>(conn_seq[index])];
              r.answered = at;
              r.status = c.reader.status;
            }
            if (c.reader.status >= 200 && c.reader.status < 300) {
              ++ok;
              if (!first_ok_at) first_ok_at = at;
              last_ok_at = at;
              hist.add(at - c.sent_at);
            } else {
              ++errors;
            }
            c.busy = false;
            conn_seq[index] = -1;
            c.reader.reset();
            if (!open_loop && can_send() && at < end) fire(index, at);
          }
        }
      }
    }
  }
  double elapsed = static_cast<double>(mono_ns() - start) / 1e9;
  double cpu = cpu_seconds() - cpu0;
  std::uint64_t unanswered = 0;
  for (auto& c : conns) {
    if (c.busy) ++unanswered;
    if (c.fd >= 0) close(c.fd);
  }
  close(ep);
  std::string status_json = "{";
  for (auto& [code, count] : statuses) {
    if (status_json.size() > 1) status_json += ",";
    status_json += "\"" + std::to_string(code) + "\":" + std::to_string(count);
  }
  status_json += "}";
  // Carried: accepted answers over the time from the first to the last of them (a constant answer
  // delay does not count; a system that queues shows as answers spaced at what it carries). Closed
  // loop: over the whole run, as before.
  double window = open_loop ? static_cast<double>(last_ok_at - first_ok_at) / 1e9 : elapsed;
  double carried = open_loop ? (ok >= 2 && window > 0 ? static_cast<double>(ok - 1) / window : 0.0)
                             : (elapsed > 0 ? static_cast<double>(ok) / elapsed : 0.0);
  std::uint64_t offered = open_loop ? records.size() : seq;
  double lag_max_ms = 0;
  for (auto& r : records)
    if (r.sent) lag_max_ms = std::max(lag_max_ms, static_cast<double>(r.sent - r.due) / 1e6);
  std::fprintf(out,
               "{\"mode\":\"pub\",\"open_loop\":%s,\"rate\":%.3f,\"offered\":%llu,\"sent\":%llu,\"ok\":%llu,"
               "\"errors\":%llu,\"unsent\":%llu,\"unanswered\":%llu,\"late\":%llu,\"seconds\":%.3f,"
               "\"connections\":%zu,\"published_per_second\":%.2f,\"carried_per_second\":%.2f,"
               "\"send_lag_ms_max\":%.3f,\"response_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
               "\"statuses\":%s,\"cpu_seconds\":%.3f",
               open_loop ? "true" : "false", rate, static_cast<unsigned long long>(offered),
               static_cast<unsigned long long>(seq - unsent), static_cast<unsigned long long>(ok),
               static_cast<unsigned long long>(errors), static_cast<unsigned long long>(unsent),
               static_cast<unsigned long long>(unanswered), static_cast<unsigned long long>(unsent), elapsed,
               conns.size(), elapsed > 0 ? static_cast<double>(ok) / elapsed : 0.0, carried, lag_max_ms,
               hist.percentile_ms(50), hist.percentile_ms(99), hist.max_ms(), status_json.c_str(), cpu);
  if (open_loop) {
    std::string ev = ",\"events\":[";
    for (std::size_t i = 0; i < records.size(); ++i) {
      auto& r = records[i];
      char item[128];
      std::snprintf(item, sizeof item, "%s[%zu,%.3f,%.3f,%.3f,%d]", i ? "," : "", i,
                    static_cast<double>(r.due - start) / 1e6,
                    r.sent ? static_cast<double>(r.sent - r.due) / 1e6 : -1.0,
                    r.answered ? static_cast<double>(r.answered - r.due) / 1e6 : -1.0, r.status);
      ev += item;
    }
    std::fprintf(out, "%s]", ev.c_str());
  }
  std::fprintf(out, "}\n");
  return 0;
}

}  // namespace loadgen
