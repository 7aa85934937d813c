// loadgen: the benchmarks' load generator. Holds many SSE connections on a few threads, parses
// frames, timestamps deliveries from the send time the publisher wrote in each payload ("ts": ns since
// the epoch, CLOCK_REALTIME), and publishes events over keep-alive HTTP connections.
//
//   loadgen sub   --url URL --conns N [--threads T] [--sources K] [--hold S] [--per-event] [--ready FILE]
//                 [--reader uring|epoll]
//   loadgen pub   --url URL [--conns C] [--rate R] [--duration S] [--size B] [--body JSON]
//   loadgen reval --sse-url URL --list-url URL --mutate-url URL --conns N [--rounds R] [--body JSON]
//
// Every mode writes one JSON object (its results) to --out FILE, or to stdout. `sub` writes FILE.ready
// (or --ready) once every connection has its 200 and headers; it then holds the connections for --hold
// seconds (or until SIGTERM/SIGINT) and reports. It reads connected streams through io_uring (multishot
// receives into provided buffers) where the kernel has it, else, or with --reader epoll, with one recv
// per ready stream; the report's "reader" says which. Latency histograms are log-linear (64 sub-buckets per
// power of two of microseconds) and written sparse, so a runner can merge several processes.
// Only IPv4 loopback targets of the form http://127.0.0.1:PORT/path are supported.

#include "common.hpp"

using namespace loadgen;

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
