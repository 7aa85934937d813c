"""Scenario 6: two processes through Redis against one."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403
from .scenario_fanout import scenario_fanout
from .systems import System  # noqa: F401


def scenario_cluster(run, cpp, n, duration, rounds=3):
    """Two processes through Redis against one, in turn: `rounds` rounds of one cell each, medians.

    A cell of either varies by a fifth from run to run on this machine; the single process's figure of
    scenario 1, measured minutes before, is not the baseline (it put the same build at 70% and 102%).
    """
    if not shutil.which("redis-server"):
        return {"skipped": "redis-server is not installed"}
    singles, pairs = [], []
    for _ in range(1 if run.args.quick else rounds):
        single = scenario_fanout(run, [cpp], [n], duration)[0]
        if "error" not in single:
            singles.append(single)
        pair = cluster_cell(run, cpp, n, duration)
        if "skipped" in pair:
            return pair
        pairs.append(pair)
        log(f"cluster: {pair.get('deliveries_per_second', 0):.0f} deliveries/s, one process "
            f"{single.get('deliveries_per_second', 0):.0f}")
    by_rate = lambda rows: sorted(rows, key=lambda r: r.get("deliveries_per_second", 0))  # noqa: E731
    pairs, singles = by_rate(pairs), by_rate(singles)
    row = {**pairs[len(pairs) // 2], "rounds": len(pairs), "dps_min": pairs[0].get("deliveries_per_second"),
           "dps_max": pairs[-1].get("deliveries_per_second")}
    if singles:
        single = singles[len(singles) // 2]
        row.update(single_deliveries_per_second=single.get("deliveries_per_second"),
                   single_p99_ms=single.get("p99_ms"),
                   single_min=singles[0].get("deliveries_per_second"),
                   single_max=singles[-1].get("deliveries_per_second"))
    return row


def cluster_cell(run, cpp, n, duration):
    """Two igniter-cpp processes sharing a Redis store, subscribers split between them."""
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
        return {"subscribers": n, **m, "published_per_second": pub.get("published_per_second", 0)}
    finally:
        a.stop()
        b.stop()
        stop(redis)
