/* bare: the latency floor of the benchmarks. One thread, one epoll, no framework: accepts SSE clients
 * (GET /sub), and for every POST /pub writes "data: <body>\n\n" to each client with one write() per
 * socket, before answering the publisher. GET /list answers a fixed small JSON (the revalidation
 * scenario's refetch). Keep-alive HTTP/1.1, Content-Length bodies only; no pings, no history.
 *
 *   bare PORT      (listens on 127.0.0.1; SIGINT/SIGTERM stop it)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kIn = 8192 };

struct conn {
  int fd;
  int is_sub;          /* an SSE subscriber */
  int sub_index;       /* its place in subs[] */
  size_t in_len;       /* bytes of a request read so far */
  char *out;           /* unsent output (a subscriber that fell behind), malloc'd */
  size_t out_len;
  char in[kIn];
};

static volatile sig_atomic_t stop;
static struct conn **subs;
static size_t nsubs, cap_subs;
static int ep;
static struct conn **dead; /* dropped during this epoll batch, freed after it (events may name them) */
static size_t ndead, cap_dead;

static void on_signal(int sig) { (void)sig; stop = 1; }

static void drop(struct conn *c) {
  if (c->is_sub) {
    subs[c->sub_index] = subs[--nsubs];
    subs[c->sub_index]->sub_index = c->sub_index;
  }
  c->is_sub = 0;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  if (ndead == cap_dead) {
    cap_dead = cap_dead ? cap_dead * 2 : 256;
    dead = realloc(dead, cap_dead * sizeof *dead);
  }
  dead[ndead++] = c;
}

/* Writes or queues; returns -1 when the connection must be dropped. */
static int send_all(struct conn *c, const char *p, size_t n) {
  if (c->out_len == 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) return -1;
    if (w < 0) w = 0;
    p += w;
    n -= (size_t)w;
    if (n == 0) return 0;
  }
  if (c->out_len + n > (1u << 20)) return -1; /* same bound as igniter-cpp's default */
  c->out = realloc(c->out, c->out_len + n);
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

static void flush_out(struct conn *c) {
  ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno != EAGAIN) drop(c);
    return;
  }
  memmove(c->out, c->out + w, c->out_len - (size_t)w);
  c->out_len -= (size_t)w;
  if (c->out_len == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
}

static void publish(const char *body, size_t len) {
  size_t n = len + 8;
  char *frame = malloc(n);
  memcpy(frame, "data: ", 6);
  memcpy(frame + 6, body, len);
  frame[len + 6] = '\n';
  frame[len + 7] = '\n';
  for (size_t i = 0; i < nsubs;) {
    struct conn *s = subs[i];
    if (send_all(s, frame, n) < 0) {
      drop(s); /* moves the last subscriber to i */
      continue;
    }
    ++i;
  }
  free(frame);
}

/* Handles every complete request in c->in; returns -1 to drop the connection. */
static int on_requests(struct conn *c) {
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
  static const char list[] =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 58\r\n\r\n"
      "{\"posts\":[{\"id\":1,\"title\":\"bench\",\"content\":\"round trip\"}]}";
  static const char sse[] =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: keep-alive\r\n\r\n";
  for (;;) {
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return c->in_len < kIn ? 0 : -1;
    size_t head = (size_t)(end - c->in) + 4;
    size_t body = 0;
    char *cl = memmem(c->in, head, "Content-Length:", 15);
    if (!cl) cl = memmem(c->in, head, "content-length:", 15);
    if (cl) body = strtoul(cl + 15, NULL, 10);
    if (head + body > kIn) return -1;
    if (c->in_len < head + body) return 0;
    if (strncmp(c->in, "GET /sub", 8) == 0) {
      if (send_all(c, sse, sizeof sse - 1) < 0) return -1;
      if (nsubs == cap_subs) {
        cap_subs = cap_subs ? cap_subs * 2 : 1024;
        subs = realloc(subs, cap_subs * sizeof *subs);
      }
      c->is_sub = 1;
      c->sub_index = (int)nsubs;
      subs[nsubs++] = c;
      c->in_len = 0;
      return 0;
    } else if (strncmp(c->in, "POST /pub", 9) == 0) {
      publish(c->in + head, body);
      if (send_all(c, ok, sizeof ok - 1) < 0) return -1;
    } else if (strncmp(c->in, "GET /list", 9) == 0) {
      if (send_all(c, list, sizeof list - 1) < 0) return -1;
    } else {
      static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      if (send_all(c, nf, sizeof nf - 1) < 0) return -1;
    }
    memmove(c->in, c->in + head + body, c->in_len - head - body);
    c->in_len -= head + body;
  }
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 3000;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) {
    perror("bare: listen");
    return 1;
  }
  ep = epoll_create1(0);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  fprintf(stderr, "bare on 127.0.0.1:%d\n", port);
  struct epoll_event events[512];
  while (!stop) {
    int n = epoll_wait(ep, events, 512, 200);
    for (int i = 0; i < n; ++i) {
      struct conn *c = events[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if (c->fd < 0) continue;
      if (events[i].events & EPOLLOUT) flush_out(c);
      /* flush_out may have dropped c: only read when the event says so and c is still registered. */
      else if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t got = recv(c->fd, c->in + c->in_len, kIn - c->in_len, 0);
        if (got <= 0) {
          if (got == 0 || errno != EAGAIN) drop(c);
          continue;
        }
        c->in_len += (size_t)got;
        if (on_requests(c) < 0) drop(c);
      }
    }
    for (size_t i = 0; i < ndead; ++i) {
      free(dead[i]->out);
      free(dead[i]);
    }
    ndead = 0;
  }
  return 0;
}
