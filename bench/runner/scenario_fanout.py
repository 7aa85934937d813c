"""Scenario 1: fan-out throughput, closed-loop publishers against N subscribers."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403


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
