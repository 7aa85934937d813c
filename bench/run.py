#!/usr/bin/env python3
"""The benchmark runner: every scenario of bench/RESULTS.md against every system, one after the other.

Started by bench/run.sh (make bench / make bench-quick / the ctest smoke). Starts each server itself on
127.0.0.1, drives it with bench/loadgen (and wrk), stops it, and writes RESULTS.md, results.json, one
CSV per scenario and PNG plots (gnuplot) into --out-dir. Every process it starts is stopped on exit,
whatever happens.
"""
import argparse
import atexit
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PER_PROCESS = 15000  # subscribers per loadgen process (the limit is 20000 open files per process)
children = []


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def stop_all():
    for p in children:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + 5
    for p in children:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    children.clear()


atexit.register(stop_all)
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: sys.exit(130))


def spawn(cmd, env=None, cwd=None, log_path=None):
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd, stdout=out, stderr=out,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    children.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in children:
        children.remove(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def tree(pid):
    """pid and all its descendants."""
    out = [pid]
    for t in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            for c in open(t).read().split():
                out += tree(int(c))
        except OSError:
            pass
    return out


def cpu_seconds(pid):
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in tree(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


# ---- Systems under test ----

class System:
    def __init__(self, name, cmd, paths, env=None, cwd=None, setup=None, note=""):
        self.name, self.cmd, self.paths, self.env, self.cwd, self.setup, self.note = name, cmd, paths, env, cwd, setup, note
        self.proc = None
        self.port = None

    def start(self, out_dir, extra_env=None, port=None):
        self.port = port or free_port()
        cmd = [c.replace("@PORT@", str(self.port)) for c in self.cmd]
        if self.setup:
            cmd = self.setup(self, out_dir) or cmd
        env = {k: v.replace("@PORT@", str(self.port)) for k, v in (self.env or {}).items()}
        env.update(extra_env or {})
        self.proc = spawn(cmd, env=env, cwd=self.cwd, log_path=os.path.join(out_dir, f"{self.name}.log"))
        if not wait_port(self.port, self.proc):
            self.stop()
            raise RuntimeError(f"{self.name} did not start (see {self.name}.log)")
        time.sleep(0.1)
        return self

    def url(self, key):
        return f"http://127.0.0.1:{self.port}{self.paths[key]}"

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None
        if getattr(self, "scratch", None):  # nginx's directory of this start
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def nchan_setup(system, out_dir):
    d = tempfile.mkdtemp(prefix="nchan-", dir=os.path.join(out_dir, "raw"))
    conf = open(os.path.join(HERE, "peers/nchan/nginx.conf.in")).read()
    conf = conf.replace("@PORT@", str(system.port)).replace("@DIR@", d)
    open(os.path.join(d, "nginx.conf"), "w").write(conf)
    system.scratch = d
    return ["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d]


def make_systems(bin_dir):
    sse_paths = {"sse": "/api/v1/sse/events?channels=bench", "pub": "/api/v1/bench/publish",
                 "reval_sse": "/api/v1/sse/events?channels=revalidation", "list": "/api/v1/posts/",
                 "mutate": "/api/v1/posts/", "query": "/api/v1/bench/query"}
    mutate_body = '{"title":"bench","content":"revalidation round trip"}'
    systems = [
        System("igniter-cpp", [os.path.join(bin_dir, "igniter_bench")], sse_paths, env={"PORT": "@PORT@"}),
        System("igniter-js", ["node", "server.mjs"], sse_paths, env={"PORT": "@PORT@"},
               cwd=os.path.join(HERE, "peers/igniter-js"), note="Igniter.js 0.3.40, Node " + node_version()),
        System("nchan", ["nginx"], {"sse": "/sub", "pub": "/pub", "reval_sse": "/reval/sub", "list": "/list",
                                    "mutate": "/reval/pub", "query": "/query"}, setup=nchan_setup,
               note="nginx " + nginx_version() + " + Nchan, 2 workers"),
        System("bare", [os.path.join(bin_dir, "bare"), "@PORT@"], {"sse": "/sub", "pub": "/pub", "reval_sse": "/sub",
                                                                   "list": "/list", "mutate": "/pub"},
               note="bench/bare/bare.c: one thread, one write per socket"),
    ]
    for s in systems:
        s.mutate_body = mutate_body if s.name.startswith("igniter") else '{"queryKeys":["posts.list"]}'
    return systems


def node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def nginx_version():
    try:
        return subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
    except OSError:
        return "?"


def available(system):
    if system.name == "igniter-js":
        return shutil.which("node") and os.path.isdir(os.path.join(HERE, "peers/igniter-js/node_modules/@igniter-js/core"))
    if system.name == "nchan":
        return shutil.which("nginx") and os.path.exists("/usr/lib/nginx/modules/ngx_nchan_module.so")
    return os.path.exists(system.cmd[0])


# ---- Load generator helpers ----

class Run:
    def __init__(self, args):
        self.args = args
        self.loadgen = os.path.join(args.bin_dir, "loadgen")
        self.out = args.out_dir
        self.n = 0
        self.settle = 0.2 if args.quick else 1.0  # seconds for in-flight frames to land

    def path(self, stem):
        self.n += 1
        return os.path.join(self.out, "raw", f"{self.n:03d}-{stem}.json")

    def subscribers(self, url, conns, hold, per_event=False, stem="sub"):
        """Starts ceil(conns/PER_PROCESS) loadgen sub processes; returns them once all are connected."""
        procs = []
        nproc = max(1, math.ceil(conns / PER_PROCESS))
        for i in range(nproc):
            share = conns // nproc + (1 if i < conns % nproc else 0)
            out = self.path(f"{stem}{i}")
            cmd = [self.loadgen, "sub", "--url", url, "--conns", str(share), "--hold", str(hold),
                   "--threads", str(self.args.threads), "--sources", str(4 + i * 4), "--connect-timeout", "180",
                   "--out", out]
            if per_event:
                cmd.append("--per-event")
            procs.append((spawn(cmd, log_path=out + ".log"), out))
        deadline = time.time() + 200
        while time.time() < deadline:
            if all(os.path.exists(o + ".ready") or p.poll() is not None for p, o in procs):
                break
            time.sleep(0.05)
        return procs

    def finish(self, procs):
        results = []
        for p, out in procs:
            stop(p, signal.SIGTERM, timeout=30)
            if os.path.exists(out):
                results.append(json.load(open(out)))
        return results

    def publish(self, url, rate, duration, conns=4, body=None, count=None):
        out = self.path("pub")
        cmd = [self.loadgen, "pub", "--url", url, "--rate", str(rate), "--duration", str(duration),
               "--conns", str(conns), "--size", "100", "--out", out]
        if body:
            cmd += ["--body", body]
        if count is not None:
            cmd += ["--count", str(count)]
        subprocess.run(cmd, timeout=duration + 60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.load(open(out)) if os.path.exists(out) else {}


def merge_subs(results):
    """One figure set from several loadgen sub processes."""
    if not results:
        return {}
    hist = {}
    for r in results:
        for us, count in r["histogram_us"]:
            hist[us] = hist.get(us, 0) + count
    total = sum(hist.values())

    def pct(p):
        if not total:
            return 0.0
        rank = int(p / 100 * (total - 1)) + 1
        seen = 0
        for us in sorted(hist):
            seen += hist[us]
            if seen >= rank:
                return min(us / 1000, max(r["latency_ms"]["max"] for r in results))
        return 0.0
    firsts = [r["first_delivery_mono_ns"] for r in results if r["first_delivery_mono_ns"]]
    lasts = [r["last_delivery_mono_ns"] for r in results if r["last_delivery_mono_ns"]]
    span = (max(lasts) - min(firsts)) / 1e9 if firsts and lasts and max(lasts) > min(firsts) else 0
    deliveries = sum(r["deliveries"] for r in results)
    merged = {
        "conns": sum(r["conns"] for r in results), "ready": sum(r["ready"] for r in results),
        "failed": sum(r["failed"] for r in results), "closed_by_server": sum(r["closed_by_server"] for r in results),
        "connect_seconds": max(r["connect_seconds"] for r in results), "deliveries": deliveries,
        "deliveries_per_second": deliveries / span if span else 0.0,
        "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": max(r["latency_ms"]["max"] for r in results),
        "loadgen_cpu_seconds": sum(r["cpu_seconds_hold"] for r in results), "processes": len(results),
    }
    merged["connect_rate"] = merged["ready"] / merged["connect_seconds"] if merged["connect_seconds"] else 0
    if any("events" in r for r in results):
        events = {}
        for r in results:
            for seq, count, max_ms in r.get("events", []):
                c, m = events.get(seq, (0, 0.0))
                events[seq] = (c + count, max(m, max_ms))
        complete = sorted(m for c, m in events.values() if c >= merged["ready"])
        merged["events"] = len(events)
        merged["events_complete"] = len(complete)
        if complete:
            merged["last_subscriber_p50_ms"] = complete[len(complete) // 2]
            merged["last_subscriber_max_ms"] = complete[-1]
    return merged


# ---- Scenarios ----

def scenario_fanout(run, systems, sizes, duration):
    rows = []
    for s in systems:
        for n in sizes:
            try:
                s.start(run.out)
                subs = run.subscribers(s.url("sse"), n, hold=duration + 120, stem=f"fanout-{s.name}-{n}-")
                cpu0, t0 = cpu_seconds(s.proc.pid), time.time()
                pub = run.publish(s.url("pub"), 0, duration, conns=run.args.publishers)
                cpu1, t1 = cpu_seconds(s.proc.pid), time.time()
                time.sleep(run.settle)  # lets queued frames arrive
                m = merge_subs(run.finish(subs))
                rows.append({"system": s.name, "subscribers": n, **m,
                             "published_per_second": pub.get("published_per_second", 0),
                             "publish_errors": pub.get("errors", 0),
                             "server_cpu_percent": 100 * (cpu1 - cpu0) / max(t1 - t0, 1e-9)})
                log(f"fanout {s.name} {n}: {m.get('deliveries_per_second', 0):.0f} deliveries/s")
            except Exception as e:  # noqa: BLE001 - a failing system is a row that says so
                rows.append({"system": s.name, "subscribers": n, "error": str(e)})
                log(f"fanout {s.name} {n}: {e}")
            finally:
                s.stop()
    return rows


def scenario_latency(run, systems, n, rate, duration):
    rows = []
    for s in systems:
        try:
            s.start(run.out)
            subs = run.subscribers(s.url("sse"), n, hold=duration + 120, per_event=True, stem=f"latency-{s.name}-")
            cpu0, t0 = cpu_seconds(s.proc.pid), time.time()
            pub = run.publish(s.url("pub"), rate, duration, conns=2)
            cpu1, t1 = cpu_seconds(s.proc.pid), time.time()
            time.sleep(run.settle)
            m = merge_subs(run.finish(subs))
            rows.append({"system": s.name, "subscribers": n, "rate": rate, **m,
                         "published": pub.get("ok", 0),
                         "server_cpu_percent": 100 * (cpu1 - cpu0) / max(t1 - t0, 1e-9)})
            log(f"latency {s.name}: p99 {m.get('p99_ms', 0):.1f} ms")
        except Exception as e:  # noqa: BLE001
            rows.append({"system": s.name, "subscribers": n, "error": str(e)})
        finally:
            s.stop()
    return rows


def scenario_memory(run, systems, sizes):
    rows = []
    for s in systems:
        for n in sizes:
            try:
                s.start(run.out)
                time.sleep(run.settle / 2)
                base = rss_kib(s.proc.pid)
                subs = run.subscribers(s.url("sse"), n, hold=300, stem=f"memory-{s.name}-{n}-")
                time.sleep(run.settle)
                rss = rss_kib(s.proc.pid)
                m = merge_subs(run.finish(subs))
                ready = max(m.get("ready", 0), 1)
                rows.append({"system": s.name, "connections": n, "ready": m.get("ready", 0),
                             "failed": m.get("failed", 0), "rss_base_kib": base, "rss_kib": rss,
                             "bytes_per_connection": (rss - base) * 1024 / ready,
                             "connect_rate": m.get("connect_rate", 0)})
                log(f"memory {s.name} {n}: {(rss - base) * 1024 / ready:.0f} B/conn")
            except Exception as e:  # noqa: BLE001
                rows.append({"system": s.name, "connections": n, "error": str(e)})
            finally:
                s.stop()
    return rows


def scenario_revalidation(run, systems, n, rounds):
    rows = []
    for s in systems:
        try:
            s.start(run.out)
            out = run.path(f"reval-{s.name}")
            subprocess.run([run.loadgen, "reval", "--sse-url", s.url("reval_sse"), "--list-url", s.url("list"),
                            "--mutate-url", s.url("mutate"), "--conns", str(n), "--rounds", str(rounds),
                            "--body", s.mutate_body, "--out", out],
                           timeout=180, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = json.load(open(out))
            rows.append({"system": s.name, "clients": n, "ready": r["ready"], "rounds": r["rounds"],
                         "incomplete_rounds": r["incomplete_rounds"], "errors": r["errors"],
                         "round_trip_ms_median": r["round_trip_ms_median"],
                         "last_event_ms_median": r["last_event_ms_median"],
                         "round_trip_ms": r["round_trip_ms"]})
            log(f"revalidation {s.name}: {r['round_trip_ms_median']:.1f} ms")
        except Exception as e:  # noqa: BLE001
            rows.append({"system": s.name, "clients": n, "error": str(e)})
        finally:
            s.stop()
    return rows


def scenario_http(run, systems, duration, conns):
    rows = []
    if not shutil.which("wrk"):
        return [{"system": s.name, "error": "wrk is not installed"} for s in systems]
    for s in systems:
        if "query" not in s.paths:
            continue
        try:
            s.start(run.out)
            if not run.args.quick:  # warm-up
                subprocess.run(["wrk", "-t1", "-c4", "-d1s", s.url("query")], capture_output=True, timeout=60)
            cpu0, t0 = cpu_seconds(s.proc.pid), time.time()
            out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--latency", s.url("query")],
                                 capture_output=True, text=True, timeout=duration + 60).stdout
            cpu1, t1 = cpu_seconds(s.proc.pid), time.time()
            open(run.path(f"wrk-{s.name}").replace(".json", ".txt"), "w").write(out)
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
            p99_ms = float(p99.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p99.group(2)] if p99 else 0
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            rows.append({"system": s.name, "requests_per_second": rps, "p99_ms": p99_ms,
                         "non_2xx": int(non2xx.group(1)) if non2xx else 0,
                         "server_cpu_percent": 100 * (cpu1 - cpu0) / max(t1 - t0, 1e-9)})
            log(f"http {s.name}: {rps:.0f} req/s")
        except Exception as e:  # noqa: BLE001
            rows.append({"system": s.name, "error": str(e)})
        finally:
            s.stop()
    return rows


def scenario_cluster(run, cpp, n, duration):
    """Two igniter-cpp processes sharing a Redis store, subscribers split between them."""
    if not shutil.which("redis-server"):
        return {"skipped": "redis-server is not installed"}
    port = free_port()
    redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                  log_path=os.path.join(run.out, "redis.log"))
    a = System("igniter-cpp-a", cpp.cmd, cpp.paths, env=cpp.env)
    b = System("igniter-cpp-b", cpp.cmd, cpp.paths, env=cpp.env)
    try:
        if not wait_port(port, redis):
            return {"skipped": "redis-server did not start"}
        # One I/O thread each: together the two processes have the threads the single process has.
        store = {"IGNITER_STORE": f"redis://127.0.0.1:{port}", "IO_THREADS": "1"}
        try:
            a.start(run.out, store)
            b.start(run.out, store)
        except RuntimeError as e:
            return {"skipped": f"IGNITER_STORE=redis://... does not start the app yet ({e})"}
        # Does an event published on A reach a subscriber of B?
        probe = run.subscribers(b.url("sse"), 1, hold=30, stem="cluster-probe-")
        run.publish(a.url("pub"), 10, 1, conns=1, count=3)
        time.sleep(1.0)
        got = merge_subs(run.finish(probe)).get("deliveries", 0)
        if not got:
            return {"skipped": "an event published on one process did not reach a subscriber of the other "
                               "(the Redis mode of the realtime hub is not there yet)"}
        subs = run.subscribers(a.url("sse"), n // 2, hold=duration + 120, stem="cluster-a-") + \
            run.subscribers(b.url("sse"), n - n // 2, hold=duration + 120, stem="cluster-b-")
        pub = run.publish(a.url("pub"), 0, duration, conns=run.args.publishers)
        time.sleep(1.0)
        m = merge_subs(run.finish(subs))
        log(f"cluster: {m.get('deliveries_per_second', 0):.0f} deliveries/s")
        return {"subscribers": n, **m, "published_per_second": pub.get("published_per_second", 0)}
    finally:
        a.stop()
        b.stop()
        stop(redis)


# ---- Report ----

def fmt(v, digits=0):
    if v is None or v == "":
        return "—"
    if isinstance(v, str):
        return v
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a, b, invert=False):
    if not a or not b:
        return "—"
    return f"{(b / a if invert else a / b):.2f}×"


def find(rows, system, **key):
    for r in rows:
        if r.get("system") == system and all(r.get(k) == v for k, v in key.items()):
            return r
    return {}


def write_csv(path, rows, columns):
    with open(path, "w") as f:
        f.write(",".join(columns) + "\n")
        for r in rows:
            f.write(",".join(str(r.get(c, "")) for c in columns) + "\n")


def plots(out, res, names):
    if not shutil.which("gnuplot"):
        return []
    made = []
    term = "set terminal pngcairo size 900,520 font ',10'" if "pngcairo" in subprocess.run(
        ["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stderr + subprocess.run(
        ["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stdout else "set terminal png size 900,520"

    def plot(name, script, data):
        dat = os.path.join(out, name + ".dat")
        open(dat, "w").write(data)
        png = os.path.join(out, name + ".png")
        full = f"{term}\nset output '{png}'\nset grid\nset key outside right\n{script.replace('@DAT@', dat)}\n"
        if subprocess.run(["gnuplot"], input=full, text=True, capture_output=True).returncode == 0:
            made.append(name + ".png")

    # Throughput against subscribers.
    sizes = sorted({r["subscribers"] for r in res["fanout"] if "subscribers" in r})
    data = "subscribers " + " ".join(names) + "\n"
    for n in sizes:
        data += f"{n} " + " ".join(str(find(res['fanout'], s, subscribers=n).get('deliveries_per_second', 'NaN'))
                                   for s in names) + "\n"
    plot("fanout", "set title 'Fan-out: deliveries/s counted at the clients'\nset xlabel 'subscribers'\n"
         "set ylabel 'deliveries/s'\nset logscale y\nset style data linespoints\n"
         "plot for [i=2:%d] '@DAT@' using 1:i title columnheader(i)" % (len(names) + 1), data)
    # Latency percentiles.
    data = "system p50 p99 max\n"
    for s in names:
        r = find(res["latency"], s)
        data += f"{s} {r.get('p50_ms', 'NaN')} {r.get('p99_ms', 'NaN')} {r.get('max_ms', 'NaN')}\n"
    plot("latency", "set title 'Broadcast latency per delivery (ms)'\nset style data histograms\n"
         "set style fill solid 0.8\nset logscale y\nset ylabel 'ms'\n"
         "plot '@DAT@' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'max'", data)
    # Memory against connections.
    sizes = sorted({r["connections"] for r in res["memory"] if "connections" in r})
    data = "connections " + " ".join(names) + "\n"
    for n in sizes:
        data += f"{n} " + " ".join(str(find(res['memory'], s, connections=n).get('rss_kib', 'NaN') / 1024
                                       if find(res['memory'], s, connections=n).get('rss_kib') else 'NaN')
                                   for s in names) + "\n"
    plot("memory", "set title 'Server RSS with idle SSE connections (MiB)'\nset xlabel 'connections'\n"
         "set ylabel 'MiB'\nset style data linespoints\n"
         "plot for [i=2:%d] '@DAT@' using 1:i title columnheader(i)" % (len(names) + 1), data)
    return made


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    return {"nproc": sh("nproc"), "lscpu": sh("lscpu | head -20"), "memory": sh("free -h | head -2"),
            "kernel": platform.release(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "load": sh("cat /proc/loadavg")}


def report(out, res, systems, args, results_md):
    names = [s.name for s in systems]
    m = res["machine"]
    L = []
    L.append("# Benchmarks\n")
    L.append(f"Generated by `{'make bench-quick' if args.quick else 'make bench'}` (bench/run.sh) on "
             f"{m['date']}. Every system ran on the same machine in the same run, one after the other, "
             "driven by the same load generator (bench/loadgen) on loopback.\n")
    if args.quick:
        L.append("**This is the quick smoke (tiny sizes, a second or two per step): its figures mean nothing; "
                 "it checks that the tooling works.**\n")
    L.append("**Noise.** This machine has " + m["nproc"] + " cores shared by the server under test and the load "
             "generator (and by whatever else runs: load average at the start of this run "
             f"`{m['load']}`). Absolute numbers drift between runs; the ratios between systems measured "
             "minutes apart in one run are what to read.\n")
    L.append("```\n" + m["lscpu"] + "\n" + m["memory"] + "\nkernel " + m["kernel"] + "\n```\n")
    L.append("Systems: " + "; ".join(f"**{s.name}**" + (f" ({s.note})" if s.note else "") for s in systems) +
             ". igniter-cpp is bench/servers/igniter_bench.cpp (Release, handlers on the I/O threads, one I/O "
             "thread per core); Igniter.js is bench/peers/igniter-js/server.mjs on Node's http server; Nchan's "
             "configuration is bench/peers/nchan/nginx.conf.in.\n")
    L.append("Raw data: `results.json`, one CSV per scenario and every loadgen output under `raw/`.\n")

    # 1 fan-out
    L.append("## 1. Fan-out throughput\n")
    L.append(f"One channel, ~100-byte events published as fast as the server accepts them for {args.duration} s "
             f"by {args.publishers} keep-alive publisher connections. Deliveries/s counted at the clients (first "
             "to last delivery); server CPU over the publishing window (200% = both cores); loadgen CPU is the "
             "subscribers' own.\n")
    L.append("| system | subscribers | deliveries/s | igniter-cpp ÷ it | published/s | p99 ms | server CPU | loadgen CPU s | dropped conns |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.fanout_sizes:
        base = find(res["fanout"], "igniter-cpp", subscribers=n).get("deliveries_per_second")
        for s in names:
            r = find(res["fanout"], s, subscribers=n)
            if not r:
                continue
            if "error" in r:
                L.append(f"| {s} | {n} | failed: {r['error']} |||||||")
                continue
            L.append(f"| {s} | {n} | {fmt(r['deliveries_per_second'])} | {ratio(base, r['deliveries_per_second'])} | "
                     f"{fmt(r['published_per_second'])} | {fmt(r['p99_ms'], 1)} | {fmt(r['server_cpu_percent'])}% | "
                     f"{fmt(r['loadgen_cpu_seconds'], 1)} | {r['closed_by_server']} |")
    L.append("")
    # 2 latency
    L.append("## 2. Broadcast latency\n")
    rates = " and ".join(str(r) for r in args.latency_rates)
    L.append(f"{args.latency_subs} subscribers, {rates} publishes/s for {args.duration} s each, by 2 closed-loop "
             "publisher connections. Latency is from the "
             "publisher's send time (in the payload, CLOCK_REALTIME) to the frame parsed at a client; "
             "\"last subscriber\" is, per event, the time until the last of them had it (events every subscriber "
             "got). *Published/s* is what the system let the publishers do: a server that answers a publish only "
             "once it has fanned it out holds them back, and then carries less load than was offered.\n")
    L.append("| system | offered /s | published /s | p50 ms | p99 ms | max ms | last subscriber p50 ms | "
             "last subscriber max ms | events complete | p99 ÷ igniter-cpp's |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rate in args.latency_rates:
        base = find(res["latency"], "igniter-cpp", rate=rate).get("p99_ms")
        for s in names:
            r = find(res["latency"], s, rate=rate)
            if not r:
                continue
            if "error" in r:
                L.append(f"| {s} | {rate} | failed: {r['error']} ||||||||")
                continue
            L.append(f"| {s} | {rate} | {fmt(r.get('published', 0) / args.duration, 1)} | {fmt(r['p50_ms'], 2)} | "
                     f"{fmt(r['p99_ms'], 2)} | {fmt(r['max_ms'], 2)} | "
                     f"{fmt(r.get('last_subscriber_p50_ms'), 2)} | {fmt(r.get('last_subscriber_max_ms'), 2)} | "
                     f"{r.get('events_complete', 0)}/{r.get('events', 0)} | {ratio(r['p99_ms'], base)} |")
    L.append("")
    # 3 memory
    L.append("## 3. Connections and memory\n")
    L.append("Idle SSE connections on a freshly started server. Bytes per connection = (RSS with them − RSS before) "
             "÷ connections, summed over the server's processes (nginx: master and workers); kernel socket "
             "buffers are not in RSS. Connect rate: connections established (headers received) per second.\n")
    L.append("| system | connections | established | RSS MiB | bytes/connection | connect rate /s |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for n in args.memory_sizes:
        for s in names:
            r = find(res["memory"], s, connections=n)
            if not r:
                continue
            if "error" in r:
                L.append(f"| {s} | {n} | failed: {r['error']} ||||")
                continue
            L.append(f"| {s} | {n} | {r['ready']} | {fmt(r['rss_kib'] / 1024, 1)} | "
                     f"{fmt(r['bytes_per_connection'])} | {fmt(r['connect_rate'])} |")
    L.append("")
    # 4 revalidation
    L.append("## 4. Revalidation round trip\n")
    L.append(f"{args.reval_clients} clients, each with an SSE connection and a keep-alive HTTP connection that "
             "refetches the list when a revalidation arrives. Time from the mutation's response to the last "
             "refetch answered (median of the rounds). Nchan and the bare loop have no revalidation: their "
             "\"mutation\" is a publish and the list a fixed answer, the transport's floor.\n")
    L.append("| system | clients | round trip ms | last event ms | rounds | incomplete | igniter-cpp ÷ it |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    base = find(res["revalidation"], "igniter-cpp").get("round_trip_ms_median")
    for s in names:
        r = find(res["revalidation"], s)
        if not r:
            continue
        if "error" in r:
            L.append(f"| {s} | failed: {r['error']} ||||||")
            continue
        L.append(f"| {s} | {r['ready']} | {fmt(r['round_trip_ms_median'], 1)} | {fmt(r['last_event_ms_median'], 1)} | "
                 f"{r['rounds']} | {r['incomplete_rounds']} | {ratio(base, r['round_trip_ms_median'])} |")
    L.append("")
    # 5 http
    L.append("## 5. HTTP JSON query\n")
    L.append(f"`wrk -t2 -c{args.wrk_conns} -d{args.duration}s` on the same ~600-byte JSON document "
             "(`GET /api/v1/bench/query`; nginx answers it from its configuration, a reference, not an app).\n")
    L.append("| system | requests/s | p99 ms | non-2xx | server CPU | igniter-cpp ÷ it |")
    L.append("|---|---:|---:|---:|---:|---:|")
    base = find(res["http"], "igniter-cpp").get("requests_per_second")
    for s in names:
        r = find(res["http"], s)
        if not r:
            continue
        if "error" in r:
            L.append(f"| {s} | failed: {r['error']} |||||")
            continue
        L.append(f"| {s} | {fmt(r['requests_per_second'])} | {fmt(r['p99_ms'], 2)} | {r['non_2xx']} | "
                 f"{fmt(r['server_cpu_percent'])}% | {ratio(base, r['requests_per_second'])} |")
    L.append("")
    # 6 cluster
    L.append("## 6. Cluster\n")
    c = res["cluster"]
    if "skipped" in c:
        L.append(f"**Not measured:** {c['skipped']}.\n")
    else:
        single = find(res["fanout"], "igniter-cpp", subscribers=c["subscribers"]).get("deliveries_per_second")
        L.append(f"Two igniter-cpp processes sharing one redis-server, {c['subscribers']} subscribers split between "
                 "them, publishers on the first, one I/O thread each (together, the two threads the single "
                 "process has). Against one process with the same subscribers (scenario 1).\n")
        L.append("| setup | deliveries/s | p99 ms | of a single process |")
        L.append("|---|---:|---:|---:|")
        L.append(f"| one process | {fmt(single)} | {fmt(find(res['fanout'], 'igniter-cpp', subscribers=c['subscribers']).get('p99_ms'), 1)} | 100% |")
        L.append(f"| two processes + Redis | {fmt(c['deliveries_per_second'])} | {fmt(c['p99_ms'], 1)} | "
                 f"{(100 * c['deliveries_per_second'] / single) if single else 0:.0f}% |")
        L.append("")
    # targets
    L.append("## Targets\n")
    L.append(targets(res, args))
    notes = os.path.join(HERE, "notes.md")  # the hand-written reading of the figures (profiles, causes)
    if not args.quick and os.path.exists(notes):
        L.append(open(notes).read())
    if res.get("plots"):
        L.append("## Plots\n")
        rel = os.path.relpath(out, os.path.dirname(results_md))
        for p in res["plots"]:
            L.append(f"![{p}]({rel}/{p})\n")
    open(results_md, "w").write("\n".join(L) + "\n")


def targets(res, args):
    n = max(args.fanout_sizes)
    get = lambda sc, s, **k: find(res[sc], s, **k)
    cpp_f = get("fanout", "igniter-cpp", subscribers=n).get("deliveries_per_second")
    lines = ["| target | measured | met |", "|---|---|---|"]

    def row(name, value, ok):
        lines.append(f"| {name} | {value} | {'yes' if ok else ('**no**' if ok is False else '—')} |")

    def cmp(a, b):
        return (a / b) if a and b else None
    for peer, k in (("nchan", 5), ("igniter-js", 30)):
        r = cmp(cpp_f, get("fanout", peer, subscribers=n).get("deliveries_per_second"))
        row(f"fan-out at {n}: ≥ {k}× {peer}", f"{r:.2f}×" if r else "—", (r >= k) if r else None)
    row(f"fan-out at {n}: ≥ 1 M deliveries/s", fmt(cpp_f), (cpp_f >= 1e6) if cpp_f else None)
    cpp_p99 = get("latency", "igniter-cpp").get("p99_ms")
    r = cmp(cpp_p99, get("latency", "nchan").get("p99_ms"))
    row("latency p99 ≤ ½ Nchan's", f"{r:.2f} of Nchan's" if r else "—", (r <= 0.5) if r else None)
    r = cmp(cpp_p99, get("latency", "bare").get("p99_ms"))
    row("latency p99 within 1.3× the bare loop", f"{r:.2f}× the bare loop" if r else "—", (r <= 1.3) if r else None)
    big = max(args.memory_sizes)
    b = get("memory", "igniter-cpp", connections=big).get("bytes_per_connection")
    row(f"memory per idle connection ≤ 2 KiB (at {big})", f"{b:,.0f} B" if b else "—", (b <= 2048) if b else None)
    r = cmp(get("http", "igniter-cpp").get("requests_per_second"), get("http", "igniter-js").get("requests_per_second"))
    row("HTTP requests/s ≥ 10× Igniter.js", f"{r:.1f}×" if r else "—", (r >= 10) if r else None)
    c = res["cluster"]
    single = get("fanout", "igniter-cpp", subscribers=c.get("subscribers")).get("deliveries_per_second")
    r = cmp(c.get("deliveries_per_second"), single)
    row("cluster ≥ 80% of a single process", f"{100 * r:.0f}%" if r else ("skipped" if "skipped" in c else "—"),
        (r >= 0.8) if r else None)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--results-md", default=None)
    ap.add_argument("--systems", default="igniter-cpp,igniter-js,nchan,bare")
    ap.add_argument("--scenarios", default="fanout,latency,memory,revalidation,http,cluster")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every file was written")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from --out-dir/results.json")
    args = ap.parse_args()
    q = args.quick
    args.fanout_sizes = [50] if q else [1000, 10000]
    args.latency_subs = 50 if q else 10000
    args.memory_sizes = [100] if q else [1000, 5000, 10000, 19000]
    args.reval_clients = 20 if q else 1000
    args.rounds = 2 if q else 10
    args.duration = 1 if q else 10
    args.latency_rates = [20] if q else [20, 5]
    args.publishers = 4
    args.threads = 1 if q else 2
    args.wrk_conns = 8 if q else 64
    out = os.path.abspath(args.out_dir)
    args.out_dir = out
    results_md = args.results_md or os.path.join(out, "RESULTS.md")
    if args.report_only:
        res = json.load(open(os.path.join(out, "results.json")))
        names = [n for n in args.systems.split(",") if n not in res["missing"]]
        res["plots"] = [p for p in ("fanout.png", "latency.png", "memory.png") if os.path.exists(os.path.join(out, p))]
        report(out, res, [s for s in make_systems(args.bin_dir) if s.name in names], args, results_md)
        return 0
    if os.path.isdir(os.path.join(out, "raw")):
        shutil.rmtree(os.path.join(out, "raw"))
    os.makedirs(os.path.join(out, "raw"), exist_ok=True)
    for f in glob.glob(os.path.join(out, "*.log")):
        os.remove(f)

    wanted = args.systems.split(",")
    systems, missing = [], []
    for s in make_systems(args.bin_dir):
        if s.name not in wanted:
            continue
        (systems if available(s) else missing).append(s)
    for s in missing:
        log(f"{s.name} is not installed here (bench/setup.sh installs it): skipped")
    run = Run(args)
    scen = args.scenarios.split(",")
    res = {"machine": machine(), "quick": q, "missing": [s.name for s in missing],
           "fanout": [], "latency": [], "memory": [], "revalidation": [], "http": [], "cluster": {"skipped": "not run"}}
    t0 = time.time()
    if "fanout" in scen:
        res["fanout"] = scenario_fanout(run, systems, args.fanout_sizes, args.duration)
    if "latency" in scen:
        for rate in args.latency_rates:  # the first rate is the one the targets and the plot use
            res["latency"] += scenario_latency(run, systems, args.latency_subs, rate, args.duration)
    if "memory" in scen:
        res["memory"] = scenario_memory(run, systems, args.memory_sizes)
    if "revalidation" in scen:
        res["revalidation"] = scenario_revalidation(run, systems, args.reval_clients, args.rounds)
    if "http" in scen:
        res["http"] = scenario_http(run, systems, args.duration, args.wrk_conns)
    cpp = next((s for s in systems if s.name == "igniter-cpp"), None)
    if "cluster" in scen and cpp:
        res["cluster"] = scenario_cluster(run, cpp, max(args.fanout_sizes), args.duration)
    res["seconds"] = time.time() - t0
    stop_all()

    json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=1)
    write_csv(os.path.join(out, "fanout.csv"), res["fanout"],
              ["system", "subscribers", "deliveries_per_second", "published_per_second", "p50_ms", "p99_ms", "max_ms",
               "server_cpu_percent", "loadgen_cpu_seconds", "closed_by_server", "error"])
    write_csv(os.path.join(out, "latency.csv"), res["latency"],
              ["system", "subscribers", "rate", "published", "p50_ms", "p99_ms", "max_ms", "last_subscriber_p50_ms",
               "last_subscriber_max_ms", "events", "events_complete", "server_cpu_percent", "error"])
    write_csv(os.path.join(out, "memory.csv"), res["memory"],
              ["system", "connections", "ready", "rss_base_kib", "rss_kib", "bytes_per_connection", "connect_rate",
               "error"])
    write_csv(os.path.join(out, "revalidation.csv"), res["revalidation"],
              ["system", "clients", "ready", "round_trip_ms_median", "last_event_ms_median", "rounds",
               "incomplete_rounds", "error"])
    write_csv(os.path.join(out, "http.csv"), res["http"],
              ["system", "requests_per_second", "p99_ms", "non_2xx", "server_cpu_percent", "error"])
    res["plots"] = plots(out, res, [s.name for s in systems])
    report(out, res, systems, args, results_md)
    log(f"done in {res['seconds']:.0f} s: {results_md}")
    if args.check:
        need = ["results.json", "fanout.csv", "latency.csv", "memory.csv", "revalidation.csv", "http.csv"]
        bad = [f for f in need if not os.path.exists(os.path.join(out, f))]
        errors = [(sc, r["system"], r["error"]) for sc in ("fanout", "latency", "memory", "revalidation", "http")
                  for r in res[sc] if "error" in r]
        got = [r for r in res["fanout"] if r.get("system") == "igniter-cpp" and r.get("deliveries", 0) > 0]
        if bad or errors or not got or not os.path.exists(results_md):
            log(f"check failed: missing {bad}, errors {errors}, igniter-cpp deliveries {bool(got)}")
            return 1
        log("check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
