#!/usr/bin/env python3
"""The single Redis stream's ceiling (docs/scale.md): the cluster's maximum publish rate through the one
stream every process writes (EVAL: EXISTS fence + XADD MAXLEN ~) and reads (XREAD BLOCK COUNT 1000).

--processes igniter_bench processes (IGNITER_STORE=redis://..., --io-threads each: a publish holds its
I/O thread for one Redis round trip, so the threads are the publishes in flight per process), each with
--subs SSE subscribers (scale_sub --totals) and one bench/loadgen publisher of --pub-conns connections
publishing small events as fast as they are answered, for --duration seconds. Reported: events/s
accepted, deliveries/s, Redis CPU (of one core: Redis runs commands on one thread), the servers' and the
load's CPU, whether the readers kept up (every subscriber got every event), and, as the reference, what
redis-benchmark gets from the same Redis with the same script (its ceiling without HTTP or igniter).
Then the stream alone (--readers): redis-benchmark publishes valid events with the same script, pipelined,
while 1, 4, 16 processes read the stream: the write rate Redis takes with that many readers, its CPU, and
whether every reader kept up (an entry trimmed by MAXLEN before a reader got it would be a loss).

  bench/scale/ceiling.py --bin-dir build/release/bench [--processes 2,4] [--io-threads 4] [--subs 100]
                         [--pub-conns 16] [--duration 10] [--out FILE]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from runner.procs import cpu_seconds, free_port, log, spawn, stop, stop_all, wait_port  # noqa: E402

SSE_PATH = "/api/v1/sse/events?channels=bench"
PUB_PATH = "/api/v1/bench/publish"

# The publish script of src/server/cluster.cpp (kPublishScript), for redis-benchmark's reference row.
PUBLISH_SCRIPT = ("if redis.call('EXISTS', KEYS[2]) == 1 then return false end "
                  "return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 'u', ARGV[3])")


def loadavg():
    return float(open("/proc/loadavg").read().split()[0])


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True).stdout.strip()


def benchmark_rps(csv_text):
    """requests/s from redis-benchmark --csv; the test name (the command) is not escaped, so the numbers
    are taken from the end of the line: rps, then six latency columns."""
    rps = 0.0
    for line in csv_text.splitlines():
        f = line.rsplit(",", 7)
        if len(f) == 8 and f[1].strip('"') != "rps":
            rps = float(f[1].strip('"'))
    return rps


def deliveries(subs, work_dir):
    """Deliveries so far over every subscriber, and the fewest and most events one connection got."""
    total, lo, hi = 0, None, 0
    for i, p in enumerate(subs):
        path = os.path.join(work_dir, f"ceiling-sub-{i}.json")
        if os.path.exists(path):
            os.remove(path)
        os.kill(p.pid, signal.SIGUSR1)
    for i, p in enumerate(subs):
        path = os.path.join(work_dir, f"ceiling-sub-{i}.json")
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                snap = json.load(open(path))
                total += snap["deliveries"]
                lo = snap["per_conn_min"] if lo is None else min(lo, snap["per_conn_min"])
                hi = max(hi, snap["per_conn_max"])
                break
            except (OSError, ValueError):
                time.sleep(0.02)
    return total, lo or 0, hi


def one_run(args, nproc):
    port = free_port()
    redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                  log_path=os.path.join(args.work_dir, "ceiling-redis.log"))
    servers, subs, pubs = [], [], []
    try:
        if not wait_port(port, redis):
            return {"error": "redis-server did not start"}
        for i in range(nproc):
            sport = free_port()
            env = {"PORT": str(sport), "IO_THREADS": str(args.io_threads), "LOG_LEVEL": "off",
                   "IGNITER_STORE": f"redis://127.0.0.1:{port}"}
            p = spawn([os.path.join(args.bin_dir, "igniter_bench")], env=env,
                      log_path=os.path.join(args.work_dir, f"ceiling-server-{i}.log"))
            if not wait_port(sport, p):
                return {"error": "a server did not start"}
            servers.append((p, sport))
        for i, (_, sport) in enumerate(servers):
            base = os.path.join(args.work_dir, f"ceiling-sub-{i}")
            subs.append(spawn([os.path.join(args.bin_dir, "scale_sub"), "--url", f"http://127.0.0.1:{sport}{SSE_PATH}",
                               "--conns", str(args.subs), "--totals", "--ready", base + ".ready",
                               "--stats", base + ".json"], log_path=base + ".log"))
        deadline = time.time() + 30
        while time.time() < deadline and not all(
                os.path.exists(os.path.join(args.work_dir, f"ceiling-sub-{i}.ready")) for i in range(nproc)):
            time.sleep(0.1)
        time.sleep(0.5)
        d0, _, _ = deliveries(subs, args.work_dir)
        r0, s0 = cpu_seconds(redis.pid), sum(cpu_seconds(p.pid) for p, _ in servers)
        l0 = sum(cpu_seconds(p.pid) for p in subs)
        t0 = time.time()
        for i, (_, sport) in enumerate(servers):
            out = os.path.join(args.work_dir, f"ceiling-pub-{i}.json")
            if os.path.exists(out):
                os.remove(out)
            pubs.append((spawn([os.path.join(args.bin_dir, "loadgen"), "pub", "--url",
                                f"http://127.0.0.1:{sport}{PUB_PATH}", "--conns", str(args.pub_conns), "--rate", "0",
                                "--duration", str(args.duration), "--size", str(args.size), "--out", out]), out))
        for p, _ in pubs:
            p.wait(timeout=args.duration + 60)
        window = time.time() - t0
        redis_cpu = 100 * (cpu_seconds(redis.pid) - r0) / window
        server_cpu = 100 * (sum(cpu_seconds(p.pid) for p, _ in servers) - s0) / window
        load = loadavg()
        results = [json.load(open(out)) for _, out in pubs if os.path.exists(out)]
        ok = sum(r["ok"] for r in results)
        sent = sum(r["sent"] for r in results)  # with those still unanswered when the publisher stopped
        errors = sum(r["errors"] for r in results)
        pub_seconds = max(r["seconds"] for r in results) if results else window
        # Readers catch up (bounded wait), then every subscriber must have every event.
        # Every connection must end with the same number of events, all those accepted at least (those sent
        # but unanswered when the publishers stopped may be in the stream too).
        d1, lo, hi, t_end = d0, 0, 0, time.time() + 30
        while time.time() < t_end:
            d1, lo, hi = deliveries(subs, args.work_dir)
            if lo == hi and lo >= ok:
                break
            time.sleep(0.5)
        caught_up = time.time() - t0 - window
        sub_cpu = 100 * (sum(cpu_seconds(p.pid) for p in subs) - l0) / (time.time() - t0)
        row = {"processes": nproc, "io_threads": args.io_threads, "subscribers_per_process": args.subs,
               "publisher_conns_per_process": args.pub_conns, "event_bytes": args.size,
               "published": ok, "sent": sent, "errors": errors, "seconds": round(pub_seconds, 2),
               "events_per_second": round(ok / pub_seconds), "deliveries": d1 - d0,
               "events_per_connection": [lo, hi],
               "every_event_delivered": lo == hi and ok <= lo <= sent and d1 - d0 == lo * nproc * args.subs,
               "deliveries_per_second": round((d1 - d0) / (window + caught_up)),
               "readers_behind_seconds": round(max(0.0, caught_up), 2),
               "redis_cpu_percent": round(redis_cpu, 1), "servers_cpu_percent": round(server_cpu, 1),
               "subscribers_cpu_percent": round(sub_cpu, 1), "loadavg": load,
               "publish_p50_ms": round(sorted(r["response_ms"]["p50"] for r in results)[len(results) // 2], 2),
               "publish_p99_ms": round(max(r["response_ms"]["p99"] for r in results), 2),
               "stream_length": redis_cli(port, "XLEN", "igniter:realtime:events")}
        log(f"ceiling: {nproc} processes: {row['events_per_second']} events/s, Redis CPU {row['redis_cpu_percent']}%, "
            f"servers {row['servers_cpu_percent']}%, {'every event delivered' if row['every_event_delivered'] else 'MISSING'}")
        return row
    finally:
        for p, _ in pubs:
            stop(p)
        for p in subs:
            stop(p)
        for p, _ in servers:
            stop(p)
        stop(redis)


def redis_reference(args):
    """redis-benchmark against the same script on a fresh Redis: the stream's ceiling without igniter."""
    if not shutil.which("redis-benchmark"):
        return None
    port = free_port()
    redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    try:
        if not wait_port(port, redis):
            return None
        payload = "x" * args.size
        rows = {}
        for name, cmd in (("EVAL publish script", ["EVAL", PUBLISH_SCRIPT, "2", "s", "f:__rand_int__", "10000", payload, "u"]),
                          ("XADD MAXLEN ~", ["XADD", "s2", "MAXLEN", "~", "10000", "*", "e", payload])):
            for pipeline in (1, 16):
                c0 = cpu_seconds(redis.pid)
                t0 = time.time()
                out = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(args.reference_requests), "-c", "16",
                                      "-P", str(pipeline), "-r", "1000000", "--csv", *cmd],
                                     capture_output=True, text=True).stdout
                window = time.time() - t0
                rps = benchmark_rps(out)
                rows[f"{name}, pipeline {pipeline}"] = {
                    "requests_per_second": round(rps),
                    "redis_cpu_percent": round(100 * (cpu_seconds(redis.pid) - c0) / window, 1)}
        return rows
    finally:
        stop(redis)


def stream_only(args, nproc):
    """The stream without HTTP: redis-benchmark runs the cluster's publish script (pipelined) with valid
    events while nproc processes read the stream, each with one subscriber."""
    port = free_port()
    redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                  log_path=os.path.join(args.work_dir, "ceiling-redis.log"))
    servers, subs = [], []
    try:
        if not wait_port(port, redis):
            return {"error": "redis-server did not start"}
        for i in range(nproc):
            sport = free_port()
            env = {"PORT": str(sport), "IO_THREADS": "1", "LOG_LEVEL": "off",
                   "IGNITER_STORE": f"redis://127.0.0.1:{port}"}
            p = spawn([os.path.join(args.bin_dir, "igniter_bench")], env=env,
                      log_path=os.path.join(args.work_dir, f"ceiling-server-{i}.log"))
            if not wait_port(sport, p):
                return {"error": "a server did not start"}
            servers.append((p, sport))
        for i, (_, sport) in enumerate(servers):
            base = os.path.join(args.work_dir, f"ceiling-sub-{i}")
            for f in (base + ".ready", base + ".json"):
                if os.path.exists(f):
                    os.remove(f)
            # One subscriber each: the readers' cost, not the fan-out's.
            subs.append(spawn([os.path.join(args.bin_dir, "scale_sub"), "--url", f"http://127.0.0.1:{sport}{SSE_PATH}",
                               "--conns", "1", "--totals", "--ready", base + ".ready",
                               "--stats", base + ".json"], log_path=base + ".log"))
        deadline = time.time() + 30
        while time.time() < deadline and not all(
                os.path.exists(os.path.join(args.work_dir, f"ceiling-sub-{i}.ready")) for i in range(nproc)):
            time.sleep(0.1)
        time.sleep(0.5)
        # What encode_event (src/server/cluster_stream.cpp) writes: channel, type, scopes, data, time (ms).
        event = json.dumps({"c": "bench", "t": "message", "s": [],
                            "d": {"ts": 0, "seq": 0, "pad": "x" * max(0, args.size - 60)},
                            "ts": int(time.time() * 1000)}, separators=(",", ":"))
        n = args.stream_events
        r0, s0 = cpu_seconds(redis.pid), sum(cpu_seconds(p.pid) for p, _ in servers)
        t0 = time.time()
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-c", "8", "-P", str(args.pipeline),
                              "-r", "1000000000", "--csv", "EVAL", PUBLISH_SCRIPT, "2", "igniter:realtime:events",
                              "f:__rand_int__", "10000", event, "u"], capture_output=True, text=True).stdout
        window = time.time() - t0
        rps = benchmark_rps(out)
        redis_cpu = 100 * (cpu_seconds(redis.pid) - r0) / window
        # Readers catch up (bounded), then every subscriber must have all n events.
        lo = hi = d = 0
        t_end = time.time() + 30
        while time.time() < t_end:
            d, lo, hi = deliveries(subs, args.work_dir)
            if lo >= n:
                break
            time.sleep(0.3)
        behind = time.time() - t0 - window
        servers_cpu = 100 * (sum(cpu_seconds(p.pid) for p, _ in servers) - s0) / (time.time() - t0)
        row = {"processes": nproc, "subscribers_per_process": 1, "pipeline": args.pipeline, "events": n,
               "events_per_second": round(rps), "redis_cpu_percent": round(redis_cpu, 1),
               "servers_cpu_percent": round(servers_cpu, 1), "readers_behind_seconds": round(max(0.0, behind), 2),
               "events_per_connection": [lo, hi], "every_event_delivered": lo == hi == n, "loadavg": loadavg()}
        log(f"ceiling (stream only): {nproc} readers: {row['events_per_second']} events/s, Redis CPU "
            f"{row['redis_cpu_percent']}%, {'every event delivered' if row['every_event_delivered'] else 'MISSING'}")
        return row
    finally:
        for p in subs:
            stop(p)
        for p, _ in servers:
            stop(p)
        stop(redis)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "..", "results", "scale"))
    ap.add_argument("--processes", default="2,4")
    ap.add_argument("--io-threads", type=int, default=4)
    ap.add_argument("--subs", type=int, default=10, help="subscribers per process (few: the stream, not the fan-out)")
    ap.add_argument("--pub-conns", type=int, default=16)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--reference-requests", type=int, default=200000)
    ap.add_argument("--readers", default="1,4,16", help="processes reading the stream in the stream-only runs")
    ap.add_argument("--stream-events", type=int, default=200000, help="events per stream-only run")
    ap.add_argument("--pipeline", type=int, default=16, help="publishes in flight per redis-benchmark client")
    args = ap.parse_args()
    args.work_dir = os.path.join(args.out_dir, "work")  # per-process files and logs (not the record)
    os.makedirs(args.work_dir, exist_ok=True)
    try:
        res = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count(), "loadavg_before": loadavg(),
               "runs": [one_run(args, int(n)) for n in args.processes.split(",")],
               "redis_benchmark": redis_reference(args) if shutil.which("redis-benchmark") else None,
               "stream_only": [stream_only(args, int(n)) for n in args.readers.split(",")]
               if shutil.which("redis-benchmark") else None}
    finally:
        stop_all()
    with open(os.path.join(args.out_dir, "ceiling.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
