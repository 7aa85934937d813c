"""Scenario 2: delivery latency at a fixed publish rate."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403


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
