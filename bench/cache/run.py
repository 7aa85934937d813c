#!/usr/bin/env python3
"""Query cache bench (docs/query-cache.md): revalidation round trip and the list's requests/s, cache off
against cache on, beside Igniter.js, in one run. Reuses bench/loadgen (reval mode) and wrk.

  bench/cache/run.py [--bin-dir build/release/bench] [--clients 1000,9000] [--rounds 5] [--out FILE]

Round trip: N clients each hold an SSE stream and a keep-alive connection that refetches posts.list on
each revalidation; one more posts a post. Time from the mutation's answer to the last refetch answered,
per round (the loadgen's definition, bench/loadgen/reval.cpp); p50 and max over the rounds, and the
median time to the last client's event. The list is the posts demo's SQLite query (20 posts with
authors, bench/cache/cache_server.cpp). The machine is shared: ratios matter, the load average is printed.
"""
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start(cmd, env, cwd=None):
    port = free_port()
    full_env = dict(os.environ, PORT=str(port), **env)
    proc = subprocess.Popen(cmd, env=full_env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port, proc):
        proc.kill()
        raise RuntimeError(f"{cmd[0]} did not start")
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def reval(loadgen, port, clients, rounds):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    base = f"http://127.0.0.1:{port}"
    subprocess.run([loadgen, "reval", "--sse-url", base + "/api/v1/sse/events?channels=revalidation",
                    "--list-url", base + "/api/v1/posts/", "--mutate-url", base + "/api/v1/posts/",
                    "--conns", str(clients), "--rounds", str(rounds),
                    "--body", '{"title":"bench","content":"revalidation round trip"}', "--out", out],
                   timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = json.load(open(out))
    os.unlink(out)
    trips = sorted(r["round_trip_ms"])
    return {"ready": r["ready"], "rounds": r["rounds"], "incomplete": r["incomplete_rounds"],
            "errors": r["errors"], "p50_ms": trips[len(trips) // 2] if trips else None,
            "max_ms": trips[-1] if trips else None, "last_event_ms": r["last_event_ms_median"]}


def wrk(port, seconds=8, conns=32):
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", f"http://127.0.0.1:{port}/api/v1/posts/"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def metrics(port):
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    get = lambda name: int(re.search(rf"^{name} (\d+)", text, re.M).group(1))
    return {"hits": get("igniter_query_cache_hits_total"), "misses": get("igniter_query_cache_misses_total")}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build/release/bench"))
    p.add_argument("--clients", default="1000,9000")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--wrk-seconds", type=int, default=8)
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    a = p.parse_args()
    loadgen, server = os.path.join(a.bin_dir, "loadgen"), os.path.join(a.bin_dir, "cache_server")
    results = {"loadavg_before": os.getloadavg(), "cpus": os.cpu_count(), "reval": [], "rps": {}}
    for clients in [int(c) for c in a.clients.split(",")]:
        for cache in ("off", "on"):
            proc, port = start([server], {"QCACHE": "1" if cache == "on" else "0"})
            try:
                row = {"clients": clients, "cache": cache, **reval(loadgen, port, clients, a.rounds)}
                if cache == "on":
                    row.update(metrics(port))
                row["loadavg"] = os.getloadavg()[0]
                results["reval"].append(row)
                print(json.dumps(row), flush=True)
            finally:
                stop(proc)
    for name, cmd, env, cwd in [("igniter-cpp cache off", [server], {"QCACHE": "0"}, None),
                                ("igniter-cpp cache on", [server], {"QCACHE": "1"}, None),
                                ("igniter-js", ["node", "server.mjs"], {}, os.path.join(ROOT, "bench/peers/igniter-js"))]:
        try:
            proc, port = start(cmd, env, cwd)
        except Exception as e:  # noqa: BLE001 (igniter-js needs `npm ci` in its directory)
            results["rps"][name] = f"not run: {e}"
            continue
        try:
            wrk(port, 1, 4)  # warm-up
            results["rps"][name] = wrk(port, a.wrk_seconds)
            print(name, results["rps"][name], flush=True)
        finally:
            stop(proc)
    results["loadavg_after"] = os.getloadavg()
    json.dump(results, open(a.out, "w"), indent=1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
