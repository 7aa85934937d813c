"""Scenario 5: plain HTTP requests per second (wrk)."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403


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
