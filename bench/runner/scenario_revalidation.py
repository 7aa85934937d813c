"""Scenario 4: revalidation round trip (mutation, revalidate, refetch)."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403


def scenario_revalidation(run, systems, sizes, rounds):
    rows = []
    for n, s in [(n, s) for n in sizes for s in systems]:
        try:
            s.start(run.out)
            out = run.path(f"reval-{s.name}-{n}")
            subprocess.run([run.loadgen, "reval", "--sse-url", s.url("reval_sse"), "--list-url", s.url("list"),
                            "--mutate-url", s.url("mutate"), "--conns", str(n), "--rounds", str(rounds),
                            "--body", s.mutate_body, "--out", out],
                           timeout=180, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = json.load(open(out))
            rows.append({"system": s.name, "clients": n, "ready": r["ready"], "rounds": r["rounds"],
                         "incomplete_rounds": r["incomplete_rounds"], "errors": r["errors"],
                         "from_request_ms_median": r["from_request_ms_median"],
                         "round_trip_ms_median": r["round_trip_ms_median"],
                         "last_event_ms_median": r["last_event_ms_median"],
                         "from_request_ms": r["from_request_ms"], "round_trip_ms": r["round_trip_ms"]})
            log(f"revalidation {s.name} x {n}: {r['from_request_ms_median']:.1f} ms from the request, "
                f"{r['round_trip_ms_median']:.1f} ms from the answer")
        except Exception as e:  # noqa: BLE001
            rows.append({"system": s.name, "clients": n, "error": str(e)})
        finally:
            s.stop()
    return rows
