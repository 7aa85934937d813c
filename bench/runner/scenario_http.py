"""Scenario 5: plain HTTP requests per second (wrk), in interleaved rounds.

One wrk cell per system per round, the systems one after the other in each round, each round starting
one system later: a burst of noise on this shared machine then touches one cell of every system rather
than all cells of one, and no system always runs first. The row is the
median round (by requests/s), with the range of all rounds beside it. Five rounds: nginx's own rounds
spread by a third in one run (68–98 k), and a median of three moved the ratio by a tenth between runs.
"""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403


def wrk_cell(run, s, duration, conns, label):
    s.start(run.out)
    try:
        if not run.args.quick:  # warm-up
            subprocess.run(["wrk", "-t1", "-c4", "-d1s", s.url("query")], capture_output=True, timeout=60)
        cpu0, t0 = cpu_seconds(s.proc.pid), time.time()
        out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--latency", s.url("query")],
                             capture_output=True, text=True, timeout=duration + 60).stdout
        cpu1, t1 = cpu_seconds(s.proc.pid), time.time()
    finally:
        s.stop()
    open(run.path(f"wrk-{s.name}-{label}").replace(".json", ".txt"), "w").write(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_second": rps,
            "p99_ms": float(p99.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p99.group(2)] if p99 else 0,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "server_cpu_percent": 100 * (cpu1 - cpu0) / max(t1 - t0, 1e-9)}


def scenario_http(run, systems, duration, conns, rounds=5):
    if not shutil.which("wrk"):
        return [{"system": s.name, "error": "wrk is not installed"} for s in systems]
    systems = [s for s in systems if "query" in s.paths]
    cells = {s.name: [] for s in systems}
    errors = {}
    for i in range(1 if run.args.quick else rounds):
        for s in systems[i % len(systems):] + systems[:i % len(systems)]:
            if s.name in errors:
                continue
            try:
                cells[s.name].append(wrk_cell(run, s, duration, conns, f"round{i + 1}"))
                log(f"http {s.name} round {i + 1}: {cells[s.name][-1]['requests_per_second']:.0f} req/s")
            except Exception as e:  # noqa: BLE001
                errors[s.name] = str(e)
    rows = []
    for s in systems:
        if s.name in errors:
            rows.append({"system": s.name, "error": errors[s.name]})
            continue
        ordered = sorted(cells[s.name], key=lambda c: c["requests_per_second"])
        median = ordered[len(ordered) // 2]
        rows.append({"system": s.name, **median, "rounds": len(ordered),
                     "rps_min": ordered[0]["requests_per_second"], "rps_max": ordered[-1]["requests_per_second"]})
    return rows
