"""Scenario 3: memory per idle connection."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403


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
