"""Scenario 6: two processes through Redis against one."""
from .load import Run, merge_subs  # noqa: F401
from .procs import *  # noqa: F401,F403
from .systems import System  # noqa: F401


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
