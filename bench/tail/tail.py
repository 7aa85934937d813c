#!/usr/bin/env python3
"""bench/tail: the latency tail of one or more igniter_bench builds, side by side (bench/notes.md, "Tail latency").

Runs each server binary in turn (A B A B ... for --rounds) at the same load: N SSE subscribers on one
channel (bench/loadgen sub --per-event), an open-rate publisher (loadgen pub), optionally a CPU hog
pinned to core 0 for the whole publishing window. Prints, per run: published/s carried, deliveries/s,
p50/p99/max per delivery, the last subscriber's p50/p99/max per event (the time until every subscriber
had the event), and the load average at the start.

  bench/tail/tail.py --bin base=/tmp/base/igniter_bench --bin new=build/release/bench/igniter_bench \
      --loadgen build/release/bench/loadgen --subs 10000 --rate 20 --seconds 10 --rounds 2 [--hog]

A `--bin name=path` whose path is `bare:PATH` runs bench/bare (it takes its port as argument).
`--env name:KEY=VALUE` sets an environment variable for that build only, so one binary can be A/B-run
with two settings, e.g. `--bin cap=B --env cap:STREAM_SEND_BUFFER=131072 --bin auto=B --env auto:STREAM_SEND_BUFFER=0`.
Apart from bench/runner's scenarios on purpose (it shares only its process plumbing, runner/procs.py): bench/runner
is the full benchmark; this is the quick A/B of a design change.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/
from runner.procs import free_port, spawn, stop, wait_port  # noqa: E402  (processes stopped on exit too)


def percentile(hist, total, p, cap):
    rank = int(p / 100 * (total - 1)) + 1
    seen = 0
    for us in sorted(hist):
        seen += hist[us]
        if seen >= rank:
            return min(us / 1000, cap)
    return 0.0


def one_run(name, path, a, out, tag):
    port = free_port()
    bare = path.startswith("bare:")
    if bare:
        cmd, paths = [path[5:], str(port)], ("/sub", "/pub")
    else:
        cmd, paths = [path], ("/api/v1/sse/events?channels=bench", "/api/v1/bench/publish")
    env = {**a.bin_env.get(name, {}), "PORT": str(port)}
    if a.io_threads:
        env["IO_THREADS"] = str(a.io_threads)
    server = spawn(cmd, env=env, log_path=os.path.join(out, f"{tag}.log"))
    subs, hog = [], None
    try:
        if not wait_port(port, server):
            raise RuntimeError(f"{name} did not start")
        load = os.getloadavg()
        nproc = max(1, math.ceil(a.subs / 15000))
        for i in range(nproc):
            share = a.subs // nproc + (1 if i < a.subs % nproc else 0)
            f = os.path.join(out, f"{tag}-sub{i}.json")
            subs.append((spawn([a.loadgen, "sub", "--url", f"http://127.0.0.1:{port}{paths[0]}", "--conns", str(share),
                                "--hold", str(a.seconds + 120), "--threads", str(a.sub_threads), "--sources",
                                str(4 + 4 * i), "--connect-timeout", "180", "--per-event", "--out", f],
                               log_path=f + ".log"), f))
        deadline = time.time() + 200
        while time.time() < deadline and not all(os.path.exists(f + ".ready") or p.poll() is not None for p, f in subs):
            time.sleep(0.05)
        time.sleep(a.warmup)
        if a.hog:
            hog = spawn(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"])
        cpu0 = server_cpu(server.pid)
        t0 = time.time()
        pubf = os.path.join(out, f"{tag}-pub.json")
        subprocess.run([a.loadgen, "pub", "--url", f"http://127.0.0.1:{port}{paths[1]}", "--rate", str(a.rate),
                        "--duration", str(a.seconds), "--conns", "2", "--size", "100", "--out", pubf],
                       timeout=a.seconds + 60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu = (server_cpu(server.pid) - cpu0) / max(time.time() - t0, 1e-9)
        if hog:
            stop(hog)
            hog = None
        time.sleep(1.0)
        results = []
        for p, f in subs:
            stop(p)
            results.append(json.load(open(f)))
        pub = json.load(open(pubf)) if os.path.exists(pubf) else {}
    finally:
        if hog:
            stop(hog)
        for p, _ in subs:
            stop(p)
        stop(server)
    hist = {}
    for r in results:
        for us, count in r["histogram_us"]:
            hist[us] = hist.get(us, 0) + count
    total = sum(hist.values())
    cap = max(r["latency_ms"]["max"] for r in results)
    ready = sum(r["ready"] for r in results)
    events = {}
    for r in results:
        for seq, count, max_ms in r.get("events", []):
            c, m = events.get(seq, (0, 0.0))
            events[seq] = (c + count, max(m, max_ms))
    complete = sorted(m for c, m in events.values() if c >= ready)
    firsts = [r["first_delivery_mono_ns"] for r in results if r["first_delivery_mono_ns"]]
    lasts = [r["last_delivery_mono_ns"] for r in results if r["last_delivery_mono_ns"]]
    span = (max(lasts) - min(firsts)) / 1e9 if firsts and lasts else 0
    deliveries = sum(r["deliveries"] for r in results)
    row = {"name": name, "load": load[0], "ready": ready, "published_per_s": pub.get("published_per_second", 0),
           "deliveries_per_s": deliveries / span if span else 0, "cpu_percent": 100 * cpu,
           "p50": percentile(hist, total, 50, cap) if total else 0, "p99": percentile(hist, total, 99, cap) if total else 0,
           "max": cap, "events": len(events), "complete": len(complete)}
    if complete:
        row["last_p50"] = complete[len(complete) // 2]
        row["last_p99"] = complete[min(len(complete) - 1, int(0.99 * (len(complete) - 1)) + 1)]
        row["last_max"] = complete[-1]
    return row


def server_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append", required=True, help="name=path (path bare:PATH for bench/bare)")
    ap.add_argument("--env", action="append", default=[], help="name:KEY=VALUE, for build `name` only")
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--subs", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--hog", action="store_true", help="a busy loop pinned to core 0 while publishing")
    ap.add_argument("--io-threads", type=int, default=0)
    ap.add_argument("--sub-threads", type=int, default=2)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="tail-")
    os.makedirs(out, exist_ok=True)
    bins = [b.split("=", 1) for b in a.bin]
    a.bin_env = {}
    for e in a.env:
        name, setting = e.split(":", 1)
        key, value = setting.split("=", 1)
        a.bin_env.setdefault(name, {})[key] = value
    keys = ["name", "load", "ready", "published_per_s", "deliveries_per_s", "cpu_percent", "p50", "p99", "max",
            "last_p50", "last_p99", "last_max", "complete", "events"]
    print("\t".join(keys), flush=True)
    for rnd in range(a.rounds):
        for name, path in bins:
            row = one_run(name, path, a, out, f"{rnd}-{name}")
            print("\t".join(f"{row.get(k, 0):.1f}" if isinstance(row.get(k, 0), float) else str(row.get(k, ""))
                            for k in keys), flush=True)
            with open(os.path.join(out, "rows.jsonl"), "a") as f:
                f.write(json.dumps({**row, "round": rnd, "subs": a.subs, "rate": a.rate, "hog": a.hog,
                                    "env": a.bin_env.get(name, {})}) + "\n")


if __name__ == "__main__":
    main()
