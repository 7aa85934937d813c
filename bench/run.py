#!/usr/bin/env python3
"""The benchmark runner: every scenario of bench/RESULTS.md against every system, one after the other.

Started by bench/run.sh (make bench / make bench-quick / the ctest smoke). Starts each server itself on
127.0.0.1, drives it with bench/loadgen (and wrk), stops it, and writes RESULTS.md, results.json, one
CSV per scenario and PNG plots (gnuplot) into --out-dir. Every process it starts is stopped on exit,
whatever happens.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import time

from runner.load import Run
from runner.procs import log, loadavg_full, stop_all
from runner.report import machine, plots, report, write_csv
from runner.scenario_cluster import scenario_cluster
from runner.scenario_fanout import scenario_fanout
from runner.scenario_http import scenario_http
from runner.scenario_latency import scenario_contention, scenario_latency
from runner.scenario_memory import scenario_memory
from runner.scenario_revalidation import scenario_revalidation
from runner.systems import available, make_systems


ALL_SCENARIOS = ["fanout", "latency", "contention", "memory", "revalidation", "http", "cluster"]


def keep_cluster_baseline(res, source, rerun):
    """The cluster row is read against the single process of its own run: keep that figure with it."""
    c = res.get("cluster", {})
    if "skipped" in c or "single_deliveries_per_second" in c or ("fanout" in rerun and source is res):
        return
    single = next((r for r in source.get("fanout", []) if r.get("system") == "igniter-cpp"
                   and r.get("subscribers") == c.get("subscribers")), {})
    if single:
        c["single_deliveries_per_second"] = single.get("deliveries_per_second")
        c["single_p99_ms"] = single.get("p99_ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--results-md", default=None)
    ap.add_argument("--systems", default="igniter-cpp,igniter-cpp-io,igniter-js,nchan,bare")
    ap.add_argument("--scenarios", default="fanout,latency,contention,memory,revalidation,http,cluster",
                    help="a subset keeps the other scenarios' figures of --out-dir/results.json (and says so)")
    ap.add_argument("--latency-sizes", default=None, help="subscribers of the latency scenario, e.g. 1000,10000")
    ap.add_argument("--latency-rates", default=None, help="open-loop publish rates, e.g. 5,10,20")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every file was written")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from --out-dir/results.json")
    args = ap.parse_args()
    q = args.quick
    args.fanout_sizes = [50] if q else [1000, 10000]
    # Latency: every size x rate, open-loop publishing, 15 s a cell (about 75-300 events: a stable p99 of
    # deliveries, ~1-3 M samples at 10 000 subscribers); the contention run at 10 000 x 10/s.
    args.latency_sizes = [int(x) for x in args.latency_sizes.split(",")] if args.latency_sizes else \
        ([50] if q else [1000, 10000, 19000])
    args.latency_rates = [int(x) for x in args.latency_rates.split(",")] if args.latency_rates else \
        ([20] if q else [5, 10, 20])
    args.latency_duration = 1 if q else 15
    args.contention = (50, 20) if q else (10000, 10)
    args.memory_sizes = [100] if q else [1000, 5000, 10000, 19000]
    args.reval_clients = [20] if q else [1000, 9000]
    args.rounds = 2 if q else 10
    args.duration = 1 if q else 10
    args.publishers = 4
    args.threads = 1 if q else 2
    args.wrk_conns = 8 if q else 64
    out = os.path.abspath(args.out_dir)
    args.out_dir = out
    results_md = args.results_md or os.path.join(out, "RESULTS.md")
    scen = args.scenarios.split(",")
    previous = {}
    if os.path.exists(os.path.join(out, "results.json")):
        try:
            previous = json.load(open(os.path.join(out, "results.json")))
        except ValueError:
            previous = {}
    if args.report_only:
        res = previous
        names = [n for n in args.systems.split(",") if n not in res["missing"]]
        res["plots"] = [p for p in ("fanout.png", "latency.png", "memory.png") if os.path.exists(os.path.join(out, p))]
        report(out, res, [s for s in make_systems(args.bin_dir) if s.name in names], args, results_md)
        return 0
    partial = set(scen) != set(ALL_SCENARIOS)
    if os.path.isdir(os.path.join(out, "raw")) and not partial:
        shutil.rmtree(os.path.join(out, "raw"))
    os.makedirs(os.path.join(out, "raw"), exist_ok=True)
    for f in glob.glob(os.path.join(out, "*.log")):
        os.remove(f)

    wanted = args.systems.split(",")
    systems, missing = [], []
    for s in make_systems(args.bin_dir):
        if s.name not in wanted:
            continue
        (systems if available(s) else missing).append(s)
    for s in missing:
        log(f"{s.name} is not installed here (bench/setup.sh installs it): skipped")
    run = Run(args)
    res = {"machine": machine(), "quick": q, "missing": [s.name for s in missing],
           "fanout": [], "latency": [], "contention": [], "memory": [], "revalidation": [], "http": [],
           "cluster": {"skipped": "not run"}, "measured": {}}
    # A partial run keeps the other scenarios' figures from the previous results.json, with their date.
    if partial and previous and previous.get("quick") == q:
        for sc in ALL_SCENARIOS:
            if sc not in scen and sc in previous:
                res[sc] = previous[sc]
                res["measured"][sc] = previous.get("measured", {}).get(sc, previous["machine"]["date"])
        keep_cluster_baseline(res, previous, scen)
    t0 = time.time()
    of = lambda sc: [s for s in systems if s.runs(sc)]  # noqa: E731
    if "fanout" in scen:
        res["fanout"] = scenario_fanout(run, of("fanout"), args.fanout_sizes, args.duration)
    if "latency" in scen:
        res["latency"] = scenario_latency(run, of("latency"), args.latency_sizes, args.latency_rates,
                                          args.latency_duration)
    if "contention" in scen:
        n, rate = args.contention
        res["contention"] = scenario_contention(run, of("contention"), n, rate, args.latency_duration)
    if "memory" in scen:
        res["memory"] = scenario_memory(run, of("memory"), args.memory_sizes)
    if "revalidation" in scen:
        res["revalidation"] = scenario_revalidation(run, of("revalidation"), args.reval_clients, args.rounds)
    if "http" in scen:
        res["http"] = scenario_http(run, of("http"), args.duration, args.wrk_conns)
    cpp = next((s for s in systems if s.name == "igniter-cpp"), None)
    if "cluster" in scen and cpp:
        res["cluster"] = scenario_cluster(run, cpp, max(args.fanout_sizes), args.duration)
        keep_cluster_baseline(res, res, [])
    for sc in scen:
        res["measured"][sc] = res["machine"]["date"]
    res["machine"]["load_end"] = loadavg_full()
    res["seconds"] = time.time() - t0
    stop_all()

    json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=1)
    write_csv(os.path.join(out, "fanout.csv"), res["fanout"],
              ["system", "subscribers", "deliveries_per_second", "published_per_second", "p50_ms", "p99_ms", "max_ms",
               "server_cpu_percent", "loadgen_cpu_seconds", "closed_by_server", "error"])
    latency_columns = ["system", "subscribers", "rate", "hog", "offered", "accepted", "carried_per_second", "unsent",
                       "unanswered", "p50_ms", "p99_ms", "max_ms", "last_subscriber_p50_ms", "last_subscriber_p99_ms",
                       "last_subscriber_max_ms", "events", "events_complete", "server_cpu_percent", "hog_cpu_percent",
                       "send_lag_ms_max", "load", "error"]
    write_csv(os.path.join(out, "latency.csv"), res["latency"], latency_columns)
    write_csv(os.path.join(out, "contention.csv"), res["contention"], latency_columns)
    write_csv(os.path.join(out, "memory.csv"), res["memory"],
              ["system", "connections", "ready", "rss_base_kib", "rss_kib", "bytes_per_connection", "connect_rate",
               "error"])
    write_csv(os.path.join(out, "revalidation.csv"), res["revalidation"],
              ["system", "clients", "ready", "from_request_ms_median", "round_trip_ms_median", "last_event_ms_median", "rounds",
               "incomplete_rounds", "error"])
    write_csv(os.path.join(out, "http.csv"), res["http"],
              ["system", "requests_per_second", "rps_min", "rps_max", "rounds", "p99_ms", "non_2xx", "server_cpu_percent",
               "error"])
    res["plots"] = plots(out, res, [s.name for s in systems])
    report(out, res, systems, args, results_md)
    log(f"done in {res['seconds']:.0f} s: {results_md}")
    if args.check:
        need = ["results.json", "fanout.csv", "latency.csv", "contention.csv", "memory.csv", "revalidation.csv",
                "http.csv"]
        bad = [f for f in need if not os.path.exists(os.path.join(out, f))]
        errors = [(sc, r["system"], r["error"]) for sc in ("fanout", "latency", "contention", "memory",
                                                            "revalidation", "http")
                  for r in res[sc] if "error" in r]
        # The latency smoke: every system's cell carried events that every subscriber got.
        errors += [("latency", r["system"], "no complete event") for r in res["latency"]
                   if "error" not in r and not r.get("events_complete")]
        got = [r for r in res["fanout"] if r.get("system") == "igniter-cpp" and r.get("deliveries", 0) > 0]
        if bad or errors or not got or not os.path.exists(results_md):
            log(f"check failed: missing {bad}, errors {errors}, igniter-cpp deliveries {bool(got)}")
            return 1
        log("check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
