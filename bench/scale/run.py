#!/usr/bin/env python3
"""`make bench-scale`: how many concurrent SSE subscribers one machine holds across processes sharing one
Redis stream, and what a broadcast costs at each size.

N igniter_bench processes (IGNITER_STORE=redis://..., one I/O thread each) and as many scale_sub processes
(one per server, each from its own 127.1.x.y source addresses, at most --per-process connections: the limit
is 20 000 open files per process) grow step by step (--steps, default 100k,250k,500k,1M). At each step:
connect rate, user-space memory per connection (server RSS delta / connections), kernel memory per
connection (slab delta and /proc/net/sockstat), server CPU while idle, --events broadcasts at 1 publish/s
(published on the servers in turn) with the time for each to reach every subscriber (p50, p99, last),
deliveries/s, and the count proving every subscriber got every event. The run stops at the first step
that does not hold (the wall), with its cause and the machine's numbers.

Kernel settings: tcp_mem and fs.file-max are raised for the run when they are too small for the largest
step, and restored at exit (also on SIGINT/SIGTERM; a SIGKILL of this script leaves them changed: the
values are printed first). The run also stops before a step whose estimated memory would leave less than
--reserve-gib available, so that it never pushes the machine into the OOM killer.

  bench/scale/run.py --bin-dir build/release/bench [--out-dir DIR] [--steps 100000,250000,...]
                     [--per-process 18000] [--events 3] [--quick] [--check]
"""
import argparse
import http.client
import json
import math
import os
import signal
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from runner.procs import cpu_seconds, free_port, log, rss_kib, spawn, stop, stop_all, wait_port  # noqa: E402

SSE_PATH = "/api/v1/sse/events?channels=bench"
PUB_PATH = "/api/v1/bench/publish"
SKIP = 77  # ctest's "skipped"
# Subscriber process i connects from 127.1.0.0 + SOURCES·i onwards, SOURCES addresses (~2 250 connections
# each at 18 000): a connect's search for a free port slows down sharply past half the ephemeral range
# per source and destination (a first run with one address per process: 1 000 connects/s instead of ~10 000).
SOURCE_BASE = 1 << 16
SOURCES = 8


# ---- The machine ----

def meminfo():
    out = {}
    for line in open("/proc/meminfo"):
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0])
    return out  # KiB


def sockstat():
    out = {}
    for line in open("/proc/net/sockstat"):
        head, rest = line.split(":", 1)
        vals = rest.split()
        out[head] = {vals[i]: int(vals[i + 1]) for i in range(0, len(vals) - 1, 2)}
    return out


def slab_kib():
    m = meminfo()
    return m["Slab"]


def slab_top(n=6):
    """The largest slab caches (name, KiB) when /proc/slabinfo is readable."""
    try:
        rows = []
        for line in open("/proc/slabinfo").readlines()[2:]:
            f = line.split()
            rows.append((f[0], int(f[2]) * int(f[3]) // 1024))  # num_objs * objsize
        return sorted(rows, key=lambda r: -r[1])[:n]
    except OSError:
        return []


SOCKET_CACHES = ("TCP", "sock_inode_cache", "dentry", "filp", "eventpoll_epi", "eventpoll_pwq", "skbuff_head_cache")


def slab_caches():
    """KiB per slab cache (num_objs * objsize), {} when /proc/slabinfo is not readable."""
    try:
        out = {}
        for line in open("/proc/slabinfo").readlines()[2:]:
            f = line.split()
            out[f[0]] = out.get(f[0], 0) + int(f[2]) * int(f[3]) // 1024
        return out
    except OSError:
        return {}


def sysctl_path(name):
    return "/proc/sys/" + name.replace(".", "/")


def sysctl_get(name):
    return open(sysctl_path(name)).read().strip()


def loadavg():
    return float(open("/proc/loadavg").read().split()[0])


class Sysctls:
    """Kernel settings changed for the run, restored at exit."""

    def __init__(self):
        self.saved = {}

    def set(self, name, value):
        old = sysctl_get(name)
        if " ".join(old.split()) == value:
            return
        try:
            with open(sysctl_path(name), "w") as f:
                f.write(value)
        except OSError as e:
            log(f"scale: cannot set {name} = {value} ({e}); the run keeps {old}")
            return
        self.saved.setdefault(name, old)
        log(f"scale: {name} = {value} for this run (was {' '.join(old.split())}; restored at exit)")

    def restore(self):
        for name, old in self.saved.items():
            try:
                with open(sysctl_path(name), "w") as f:
                    f.write(old)
                log(f"scale: {name} restored to {' '.join(old.split())}")
            except OSError as e:
                log(f"scale: could not restore {name} to {old}: {e}")
        self.saved.clear()


def machine_state():
    m = meminfo()
    s = sockstat()
    fnr = open("/proc/sys/fs/file-nr").read().split()
    return {"mem_available_mib": m["MemAvailable"] // 1024, "slab_mib": m["Slab"] // 1024,
            "tcp_inuse": s["TCP"].get("inuse", 0), "tcp_mem_pages": s["TCP"].get("mem", 0),
            "tcp_orphan": s["TCP"].get("orphan", 0), "tcp_mem_limits": sysctl_get("net.ipv4.tcp_mem"),
            "files_open": int(fnr[0]), "file_max": int(fnr[2]), "loadavg": loadavg(),
            "slab_top_kib": slab_top()}


def dmesg_tail():
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=5).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []
    keys = ("TCP:", "oom", "Out of memory", "too many", "socket", "file-max", "nf_conntrack")
    return [line for line in out[-400:] if any(k in line for k in keys)][-10:]


# ---- Histograms (bench/loadgen's sparse form: [[upper µs, count], ...]) ----

def merge_hist(hists):
    acc = {}
    for h in hists:
        for us, n in h:
            acc[us] = acc.get(us, 0) + n
    return sorted(acc.items())


def percentile_ms(hist, p, cap_ms):
    total = sum(n for _, n in hist)
    if not total:
        return 0.0
    rank = int(p / 100.0 * (total - 1)) + 1
    seen = 0
    for us, n in hist:
        seen += n
        if seen >= rank:
            return min(us / 1000.0, cap_ms)
    return cap_ms


# ---- Processes ----

class Fleet:
    def __init__(self, args, redis_port):
        self.args = args
        self.redis_port = redis_port
        self.servers = []  # {proc, port, base_rss}
        self.subs = []  # {proc, ready, stats, conns, server, ready_count, events_expected}
        self.seq = 0

    def add_server(self):
        port = free_port()
        env = {"PORT": str(port), "IO_THREADS": "1", "LOG_LEVEL": "off",
               "IGNITER_STORE": f"redis://127.0.0.1:{self.redis_port}"}
        p = spawn([os.path.join(self.args.bin_dir, "igniter_bench")], env=env,
                  log_path=os.path.join(self.args.work_dir, f"server-{len(self.servers)}.log"))
        self.servers.append({"proc": p, "port": port, "base_rss": 0})
        return self.servers[-1]

    def add_sub(self, server, conns):
        i = len(self.subs)
        ready = os.path.join(self.args.work_dir, f"sub-{i}.ready")
        stats = os.path.join(self.args.work_dir, f"sub-{i}.json")
        for f in (ready, stats):
            if os.path.exists(f):
                os.remove(f)
        cmd = [os.path.join(self.args.bin_dir, "scale_sub"), "--url", f"http://127.0.0.1:{server['port']}{SSE_PATH}",
               "--conns", str(conns), "--source", str(SOURCE_BASE + SOURCES * i), "--sources", str(SOURCES), "--threads", "1", "--ready", ready, "--stats", stats,
               "--connect-timeout", str(self.args.connect_timeout)]
        p = spawn(cmd, log_path=os.path.join(self.args.work_dir, f"sub-{i}.log"))
        self.subs.append({"proc": p, "ready": ready, "stats": stats, "conns": conns, "ready_count": 0,
                          "events_expected": 0, "dead": False})
        return self.subs[-1]

    def server_rss_kib(self):
        return sum(rss_kib(s["proc"].pid) for s in self.servers)

    def server_cpu(self):
        return sum(cpu_seconds(s["proc"].pid) for s in self.servers)

    def sub_cpu(self):
        return sum(cpu_seconds(s["proc"].pid) for s in self.subs)

    def subscribers(self):
        return sum(s["ready_count"] for s in self.subs)

    def publish(self, server_index):
        s = self.servers[server_index % len(self.servers)]
        body = json.dumps({"ts": time.time_ns(), "seq": self.seq, "pad": "x" * 64})
        conn = http.client.HTTPConnection("127.0.0.1", s["port"], timeout=10)
        try:
            conn.request("POST", PUB_PATH, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            ok = r.status == 200
        except OSError:
            ok = False
        finally:
            conn.close()
        seq = self.seq
        self.seq += 1
        return seq, ok

    def snapshot(self, timeout=30):
        """Every subscriber process's counts (SIGUSR1, then its --stats file)."""
        t = time.time()
        for s in self.subs:
            if s["proc"].poll() is None:
                if os.path.exists(s["stats"]):
                    os.remove(s["stats"])  # the new one appears whole (renamed into place)
                os.kill(s["proc"].pid, signal.SIGUSR1)
        out = []
        for s in self.subs:
            while True:
                try:
                    out.append(json.load(open(s["stats"])))
                    break
                except (OSError, ValueError):
                    pass
                if s["proc"].poll() is not None or time.time() - t > timeout:
                    s["dead"] = s["proc"].poll() is not None
                    out.append(None)
                    break
                time.sleep(0.02)
        return out


# ---- One step ----

def wait_ready(fleet, new_subs, deadline, reserve_kib):
    """Waits for the new subscriber processes' ready files; stops early when memory runs low."""
    low = None
    while time.time() < deadline:
        pending = [s for s in new_subs if not os.path.exists(s["ready"]) and s["proc"].poll() is None]
        if not pending:
            break
        avail = meminfo()["MemAvailable"]
        if avail < reserve_kib // 2:
            low = avail
            break
        time.sleep(0.1)
    for s in new_subs:
        try:
            r = json.load(open(s["ready"]))
            s["ready_count"] = r["ready"]
            s["connect_seconds"] = r["connect_seconds"]
            s["failed"] = r["failed"]
        except (OSError, ValueError):
            s["ready_count"] = 0
            s["failed"] = s["conns"]
    return low


def run_step(fleet, target, args, baseline, history):
    step = {"target": target}
    have = fleet.subscribers()
    need = target - have
    nproc = math.ceil(need / args.per_process)
    # Memory guard: the last step's cost per connection (all of it: servers, subscribers, kernel), or a guess.
    per_conn_kib = history[-1]["total_kib_per_conn"] if history else 12.0
    avail = meminfo()["MemAvailable"]
    reserve = int(args.reserve_gib * 1024 * 1024)
    if avail - need * per_conn_kib < reserve:
        step["wall"] = (f"memory: {need} more connections at {per_conn_kib:.1f} KiB each would leave "
                        f"{(avail - need * per_conn_kib) / 1048576:.1f} GiB of {avail / 1048576:.1f} GiB available "
                        f"(reserve {args.reserve_gib} GiB for the rest of the machine)")
        step["machine"] = machine_state()
        return step
    # Servers first (their idle RSS is the base of the per-connection figure), then one subscriber process each.
    new_servers = [fleet.add_server() for _ in range(nproc)]
    for s in new_servers:
        if not wait_port(s["port"], s["proc"], timeout=30):
            step["wall"] = f"a server process did not start (see {args.work_dir}/server-*.log)"
            return step
    time.sleep(0.5)
    for s in new_servers:
        s["base_rss"] = rss_kib(s["proc"].pid)
    rss0 = fleet.server_rss_kib()
    sub_rss0 = 0
    t0 = time.time()
    new_subs = []
    left = need
    for s in new_servers:
        n = min(args.per_process, left)
        new_subs.append(fleet.add_sub(s, n))
        left -= n
    low = wait_ready(fleet, new_subs, t0 + args.connect_timeout + 10, reserve)
    connect_s = time.time() - t0
    got = sum(s["ready_count"] for s in new_subs)
    failed = sum(s.get("failed", 0) for s in new_subs)
    step.update(connections=fleet.subscribers(), new_connections=got, failed=failed,
                connect_seconds=round(connect_s, 2), connect_rate=round(got / connect_s) if connect_s else 0)
    log(f"scale: step {target}: {got}/{need} new connections in {connect_s:.1f} s ({failed} failed)")
    if low is not None or got < need:
        cause = (f"memory: {low // 1024} MiB available while connecting" if low is not None
                 else f"{need - got} of {need} connections failed or timed out")
        step["wall"] = cause
        step["machine"] = machine_state()
        step["dmesg"] = dmesg_tail()
        return step
    for s in new_subs:
        s["events_expected"] = 0  # counts events published from now on
    time.sleep(args.settle)
    # Memory.
    conns = fleet.subscribers()
    m = meminfo()
    server_rss = fleet.server_rss_kib()
    base_rss = sum(s["base_rss"] for s in fleet.servers)
    sub_rss = sum(rss_kib(s["proc"].pid) for s in fleet.subs)
    slab = m["Slab"] - baseline["slab"]
    ss = sockstat()
    step.update(
        server_rss_mib=round(server_rss / 1024, 1),
        user_bytes_per_conn=round((server_rss - base_rss) * 1024 / conns),
        server_base_rss_mib=round(base_rss / 1024, 1),
        sub_bytes_per_conn=round(sub_rss * 1024 / conns),
        kernel_slab_bytes_per_conn=round(slab * 1024 / conns),  # both ends of each loopback connection
        tcp_mem_pages=ss["TCP"].get("mem", 0), tcp_inuse=ss["TCP"].get("inuse", 0),
        mem_available_mib=m["MemAvailable"] // 1024,
        used_mib=(baseline["available"] - m["MemAvailable"]) // 1024,
        loadavg_connected=loadavg(), slab_top_kib=slab_top())
    # What the next step's connections will cost (the memory guard); MemAvailable moves with the rest of
    # the machine (other builds), so the sum of what is measured here, with a margin.
    # The caches a socket lives in (the machine's other work moves the Slab total, not these much).
    caches = slab_caches()
    step["socket_slab_bytes_per_conn"] = round(sum(
        caches.get(c, 0) - baseline["caches"].get(c, 0) for c in SOCKET_CACHES) * 1024 / conns)
    step["socket_slab_by_cache"] = {c: round((caches.get(c, 0) - baseline["caches"].get(c, 0)) * 1024 / conns)
                                    for c in SOCKET_CACHES}
    step["total_kib_per_conn"] = 1.25 * (step["user_bytes_per_conn"] + step["sub_bytes_per_conn"] +
                                         max(step["kernel_slab_bytes_per_conn"], 8192)) / 1024
    # Idle CPU.
    c0, w0 = fleet.server_cpu(), time.time()
    time.sleep(args.idle_seconds)
    step["server_idle_cpu_percent"] = round(100 * (fleet.server_cpu() - c0) / (time.time() - w0), 2)
    # Broadcasts at 1 publish/s.
    c0, sc0, w0 = fleet.server_cpu(), fleet.sub_cpu(), time.time()
    seqs, failed_pubs, tcp_mem_peak = [], 0, 0
    for k in range(args.events):
        t_next = w0 + k * args.interval
        while time.time() < t_next:
            tcp_mem_peak = max(tcp_mem_peak, sockstat()["TCP"].get("mem", 0))
            time.sleep(0.05)
        seq, ok = fleet.publish(k)
        seqs.append(seq)
        failed_pubs += 0 if ok else 1
        for s in fleet.subs:
            s["events_expected"] += 1
    # Waits until every subscriber has every event (or the deadline), sampling kernel socket memory.
    deadline = time.time() + args.delivery_timeout
    expected = fleet.subscribers()
    while True:
        tcp_mem_peak = max(tcp_mem_peak, sockstat()["TCP"].get("mem", 0))
        snaps = fleet.snapshot()
        counts = {seq: 0 for seq in seqs}
        for snap in snaps:
            for e in (snap or {}).get("events", []):
                if e[0] in counts:
                    counts[e[0]] += e[1]
        if all(c >= expected for c in counts.values()) or time.time() > deadline:
            break
        time.sleep(0.5)
    window = time.time() - w0
    step["server_cpu_broadcast_percent"] = round(100 * (fleet.server_cpu() - c0) / window, 1)
    step["sub_cpu_broadcast_percent"] = round(100 * (fleet.sub_cpu() - sc0) / window, 1)
    step["tcp_mem_peak_pages"] = tcp_mem_peak
    step["loadavg_broadcast"] = loadavg()
    per_event = []
    first_ts, last_arrival, delivered = None, 0.0, 0
    for seq in seqs:
        hists, top = [], 0.0
        for snap in snaps:
            for e in (snap or {}).get("events", []):
                if e[0] == seq:
                    hists.append(e[3])
                    top = max(top, e[2])
        h = merge_hist(hists)
        n = sum(c for _, c in h)
        delivered += n
        per_event.append({"seq": seq, "count": n, "expected": expected, "p50_ms": percentile_ms(h, 50, top),
                          "p99_ms": percentile_ms(h, 99, top), "last_ms": top})
    step["events"] = per_event
    step["failed_publishes"] = failed_pubs
    step["every_event_delivered"] = all(e["count"] == expected for e in per_event) and failed_pubs == 0
    mins = [snap["per_conn_min"] for snap in snaps if snap]
    maxs = [snap["per_conn_max"] for snap in snaps if snap]
    # Every open connection's own tally: each subscriber process joined at some step and has seen every
    # event since (events_expected); per_conn_min == expected proves no single subscriber missed one.
    step["per_conn_check"] = all(snap and snap["per_conn_min"] == s["events_expected"] and snap["closed"] == 0
                                 for snap, s in zip(snaps, fleet.subs))
    step["per_conn_min"], step["per_conn_max"] = (min(mins), max(maxs)) if mins else (0, 0)
    step["closed_by_server"] = sum(snap["closed"] for snap in snaps if snap)
    ev = per_event
    step["broadcast_p50_ms"] = round(sorted(e["p50_ms"] for e in ev)[len(ev) // 2], 1)
    step["broadcast_p99_ms"] = round(sorted(e["p99_ms"] for e in ev)[len(ev) // 2], 1)
    step["broadcast_last_ms"] = round(sorted(e["last_ms"] for e in ev)[len(ev) // 2], 1)
    step["broadcast_last_max_ms"] = round(max(e["last_ms"] for e in ev), 1)
    # Deliveries per second over the window from the first publish to the last delivery.
    span = (args.events - 1) * args.interval + max(e["last_ms"] for e in ev) / 1000.0
    step["deliveries"] = delivered
    step["deliveries_per_second"] = round(delivered / span) if span > 0 else 0
    log(f"scale: step {target}: {conns} subscribers, {step['user_bytes_per_conn']} B user + "
        f"{step['kernel_slab_bytes_per_conn']} B slab per connection, broadcast p50 {step['broadcast_p50_ms']} ms "
        f"p99 {step['broadcast_p99_ms']} ms last {step['broadcast_last_ms']} ms, "
        f"{'every event delivered' if step['every_event_delivered'] and step['per_conn_check'] else 'EVENTS MISSING'}")
    if not (step["every_event_delivered"] and step["per_conn_check"]):
        step["wall"] = (f"delivery: {sum(e['expected'] - e['count'] for e in ev)} deliveries missing "
                        f"after {args.delivery_timeout} s ({step['closed_by_server']} connections closed)")
        step["machine"] = machine_state()
        step["dmesg"] = dmesg_tail()
    return step


# ---- Output ----

def svg_plot(path, steps):
    """Two panels against connections: memory per connection (user, kernel) and broadcast time (p50, p99, last)."""
    pts = [s for s in steps if "broadcast_last_ms" in s]
    if not pts:
        return
    W, H, pad = 900, 360, 60
    pw = (W - 3 * pad) / 2
    xs = [s["connections"] for s in pts]
    xmax = max(xs) * 1.05

    def panel(x0, title, series, ylabel, legend_y=0.0):
        ymax = max(max(v for v in vals) for _, _, vals in series) * 1.15 or 1
        out = [f'<text x="{x0 + pw / 2}" y="20" text-anchor="middle" font-weight="bold">{title}</text>',
               f'<rect x="{x0}" y="{pad}" width="{pw}" height="{H - 2 * pad}" fill="none" stroke="#888"/>',
               f'<text x="{x0 - 45}" y="{H / 2}" transform="rotate(-90 {x0 - 45} {H / 2})" '
               f'text-anchor="middle">{ylabel}</text>',
               f'<text x="{x0 + pw / 2}" y="{H - 15}" text-anchor="middle">concurrent SSE subscribers</text>']
        for i in range(5):
            y = pad + (H - 2 * pad) * (1 - i / 4)
            out.append(f'<text x="{x0 - 5}" y="{y + 4}" text-anchor="end" font-size="11">{ymax * i / 4:.0f}</text>')
            out.append(f'<line x1="{x0}" x2="{x0 + pw}" y1="{y}" y2="{y}" stroke="#eee"/>')
        for x in xs:
            px = x0 + pw * x / xmax
            out.append(f'<text x="{px}" y="{H - pad + 15}" text-anchor="middle" font-size="11">{x / 1000:.0f}k</text>')
        for j, (name, color, vals) in enumerate(series):
            coords = " ".join(f"{x0 + pw * x / xmax:.1f},{pad + (H - 2 * pad) * (1 - v / ymax):.1f}"
                              for x, v in zip(xs, vals))
            out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
            for c in coords.split():
                cx, cy = c.split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
            ly = pad + (H - 2 * pad) * legend_y + 16 + 15 * j
            out.append(f'<text x="{x0 + 10}" y="{ly}" fill="{color}" font-size="12">{name}</text>')
        return out

    body = panel(pad, "Memory per connection", [
        ("server user space (RSS)", "#1f77b4", [s["user_bytes_per_conn"] for s in pts]),
        ("kernel socket slabs (both ends)", "#d62728", [s["socket_slab_bytes_per_conn"] for s in pts]),
        ("subscriber process", "#7f7f7f", [s["sub_bytes_per_conn"] for s in pts])], "bytes", legend_y=0.4)
    body += panel(2 * pad + pw, "One broadcast to every subscriber", [
        ("p50", "#2ca02c", [s["broadcast_p50_ms"] for s in pts]),
        ("p99", "#ff7f0e", [s["broadcast_p99_ms"] for s in pts]),
        ("last", "#9467bd", [s["broadcast_last_ms"] for s in pts])], "ms")
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" '
                f'font-size="13"><rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")


def markdown(res):
    rows = ["| subscribers | processes | connect /s | user B/conn | kernel B/conn (socket caches / all slab) | sub B/conn | idle CPU % "
            "| broadcast p50 / p99 / last ms | deliveries/s | server CPU % (broadcasting) | every event | load avg |",
            "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|"]
    for s in res["steps"]:
        if "broadcast_last_ms" not in s:
            continue
        ok = "yes" if s["every_event_delivered"] and s["per_conn_check"] else "**no**"
        rows.append(
            f"| {s['connections']:,} | {s['processes']} | {s['connect_rate']:,} | {s['user_bytes_per_conn']:,} "
            f"| {s['socket_slab_bytes_per_conn']:,} / {s['kernel_slab_bytes_per_conn']:,} | {s['sub_bytes_per_conn']:,} | {s['server_idle_cpu_percent']} "
            f"| {s['broadcast_p50_ms']} / {s['broadcast_p99_ms']} / {s['broadcast_last_ms']} "
            f"| {s['deliveries_per_second']:,} | {s['server_cpu_broadcast_percent']} "
            f"| {ok} ({sum(e['count'] for e in s['events']):,} = {len(s['events'])} × {s['connections']:,}) "
            f"| {s['loadavg_broadcast']} |")
    if res.get("wall"):
        rows.append("")
        rows.append(f"Wall at the {res['wall']['target']:,} step: {res['wall']['cause']}")
    return "\n".join(rows) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True, help="where igniter_bench and scale_sub are")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "..", "results", "scale"))
    ap.add_argument("--steps", default="100000,250000,500000,1000000")
    ap.add_argument("--per-process", type=int, default=18000, help="subscribers per process (limit: 20000 files)")
    ap.add_argument("--events", type=int, default=3, help="broadcasts per step, 1 per --interval seconds")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--idle-seconds", type=float, default=5.0)
    ap.add_argument("--connect-timeout", type=int, default=240)
    ap.add_argument("--delivery-timeout", type=float, default=240.0, help="seconds after the last publish")
    ap.add_argument("--reserve-gib", type=float, default=3.0, help="memory left to the rest of the machine")
    ap.add_argument("--tcp-mem-gib", type=float, default=8.0, help="tcp_mem max for the run (pages: / 4 KiB)")
    ap.add_argument("--quick", action="store_true", help="the smoke: 2 processes × 500 subscribers, 2 events")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every step delivered every event")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.per_process, args.events, args.settle, args.idle_seconds = "1000", 500, 2, 0.5, 1.0
        args.reserve_gib, args.connect_timeout, args.delivery_timeout = 1.0, 20, 10
    steps = [int(s) for s in args.steps.split(",")]
    for tool in ("igniter_bench", "scale_sub"):
        if not os.access(os.path.join(args.bin_dir, tool), os.X_OK):
            log(f"scale: {tool} is not built in {args.bin_dir}")
            return 2
    if not shutil.which("redis-server"):
        log("scale: redis-server is not installed; skipped")
        return SKIP
    args.work_dir = os.path.join(args.out_dir, "work")  # per-process files and logs (not the record)
    os.makedirs(args.work_dir, exist_ok=True)
    hard = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[1]
    if args.per_process + 200 > hard:
        log(f"scale: --per-process {args.per_process} needs more than the open-file limit {hard}")
        return 2

    sysctls = Sysctls()
    try:
        # Room for the largest step: two descriptors per connection, plus the rest of the machine.
        fmax = int(sysctl_get("fs.file-max"))
        want_files = 2 * max(steps) + 500_000
        if fmax < want_files:
            sysctls.set("fs.file-max", str(want_files))
        pages = int(args.tcp_mem_gib * 1024 * 1024 / 4)
        cur = [int(x) for x in sysctl_get("net.ipv4.tcp_mem").split()]
        if not args.quick and cur[2] < pages:
            sysctls.set("net.ipv4.tcp_mem", f"{pages // 2} {pages * 3 // 4} {pages}")
        return run(args, steps)
    finally:
        stop_all()
        sysctls.restore()


def run(args, steps):
    baseline = {"slab": slab_kib(), "available": meminfo()["MemAvailable"], "caches": slab_caches()}
    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "per_process": args.per_process,
           "events_per_step": args.events, "machine_before": machine_state(),
           "cpus": os.cpu_count(), "mem_total_gib": round(meminfo()["MemTotal"] / 1048576, 1), "steps": []}
    rport = free_port()
    redis = spawn(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--maxclients", "10000"], log_path=os.path.join(args.work_dir, "redis.log"))
    if not wait_port(rport, redis):
        log("scale: redis-server did not start")
        return 2
    fleet = Fleet(args, rport)
    history = []
    try:
        for target in steps:
            step = run_step(fleet, target, args, baseline, history)
            step["processes"] = len(fleet.servers)
            step["redis_cpu_seconds"] = round(cpu_seconds(redis.pid), 2)
            res["steps"].append(step)
            if "wall" in step:
                res["wall"] = {"target": target, "cause": step["wall"]}
                log(f"scale: the wall at {target}: {step['wall']}")
                break
            history.append(step)
    finally:
        res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(os.path.join(args.out_dir, "scale.json"), "w") as f:
            json.dump(res, f, indent=1)
        with open(os.path.join(args.out_dir, "scale.md"), "w") as f:
            f.write(markdown(res))
        svg_plot(os.path.join(args.out_dir, "scale.svg"), res["steps"])
        for s in fleet.subs + fleet.servers:
            stop(s["proc"])
        stop(redis)
    sys.stdout.write(markdown(res))
    held = [s for s in res["steps"] if "wall" not in s]
    if args.check and (not held or len(held) < len(res["steps"])):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
