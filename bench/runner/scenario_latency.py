"""Scenario 2: delivery latency at fixed, open-loop publish rates, and the same under a CPU hog.

Each cell is a fresh server, N subscribers, and one open-loop publisher (loadgen pub --rate R): events
go out on schedule whatever the answers, so a system that cannot carry the rate shows it as carried <
offered instead of slowing the schedule down. For a given size and rate every system runs back to
back, so they see the same machine. The contention run pairs, per system, an uncontended cell with one
where a busy loop pinned to one core (taskset) runs through the publishing window.
"""
from .load import Run, merge_latency  # noqa: F401
from .procs import *  # noqa: F401,F403


def latency_cell(run, s, n, rate, duration, hog=False, extra_env=None):
    """One measurement: start s, connect n subscribers, publish at `rate` for `duration` s."""
    tag = f"latency-{s.name}-{n}-{rate}{'-hog' if hog else ''}-"
    row = {"system": s.name, "subscribers": n, "rate": rate, "hog": hog}
    h = None
    try:
        s.start(run.out, extra_env)
        subs = run.subscribers(s.url("sse"), n, hold=duration + 180, per_event=True, stem=tag)
        if hog:
            h = start_hog(run.out)
        cpu0, t0 = cpu_seconds(s.proc.pid), time.time()
        pub = run.publish(s.url("pub"), rate, duration, conns=4, drain=run.drain, max_conns=64, stem=tag + "pub")
        cpu1, t1 = cpu_seconds(s.proc.pid), time.time()
        hog_cpu = cpu_seconds(h.pid) / max(t1 - t0, 1e-9) * 100 if h else 0
        if h:
            stop(h)
            h = None
        time.sleep(run.settle)  # lets frames in flight arrive
        m = merge_latency(run.finish(subs), pub)
        row.update(m)
        row.update({"server_cpu_percent": 100 * (cpu1 - cpu0) / max(t1 - t0, 1e-9), "hog_cpu_percent": hog_cpu,
                    "load": loadavg()})
        log(f"latency {s.name} {n} x {rate}/s{' +hog' if hog else ''}: carried {m.get('carried_per_second', 0):.1f}/s, "
            f"p99 {m.get('p99_ms', 0):.1f} ms, last p99 {m.get('last_subscriber_p99_ms', 0) or 0:.1f} ms")
    except Exception as e:  # noqa: BLE001 - a failing system is a row that says so
        row["error"] = str(e)
        log(f"latency {s.name} {n} x {rate}/s: {e}")
    finally:
        if h:
            stop(h)
        s.stop()
    return row


def scenario_latency(run, systems, sizes, rates, duration):
    rows = []
    for n in sizes:
        for rate in rates:
            for s in systems:  # back to back: the systems of one cell see the same machine
                if s.runs("latency", n):
                    rows.append(latency_cell(run, s, n, rate, duration))
    return rows


def scenario_contention(run, systems, n, rate, duration, rounds=3):
    """Per system: uncontended, then with the CPU hog, back to back; `rounds` rounds of every system.

    One pair of cells put the same build's ratio at 1.6× in one run and 2.4× in the next: each row is
    the median cell (by p99) of its system and condition, with the range of the rounds' p99 beside it.
    """
    if not shutil.which("taskset"):
        return [{"system": s.name, "error": "taskset is not installed"} for s in systems]
    cells = {}
    for _ in range(1 if run.args.quick else rounds):
        for s in systems:
            if s.runs("contention", n):
                for hog in (False, True):
                    cells.setdefault((s.name, hog), []).append(latency_cell(run, s, n, rate, duration, hog=hog))
    rows = []
    for (name, hog), found in cells.items():
        ok = sorted((c for c in found if "error" not in c), key=lambda c: c.get("p99_ms") or 0)
        if not ok:
            rows.append(found[0])
            continue
        rows.append({**ok[len(ok) // 2], "rounds": len(ok), "p99_min": ok[0].get("p99_ms"),
                     "p99_max": ok[-1].get("p99_ms")})
    return rows
