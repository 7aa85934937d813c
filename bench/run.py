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
from runner.procs import log, stop_all
from runner.report import machine, plots, report, write_csv
from runner.scenario_cluster import scenario_cluster
from runner.scenario_fanout import scenario_fanout
from runner.scenario_http import scenario_http
from runner.scenario_latency import scenario_latency
from runner.scenario_memory import scenario_memory
from runner.scenario_revalidation import scenario_revalidation
from runner.systems import available, make_systems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--results-md", default=None)
    ap.add_argument("--systems", default="igniter-cpp,igniter-js,nchan,bare")
    ap.add_argument("--scenarios", default="fanout,latency,memory,revalidation,http,cluster")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every file was written")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from --out-dir/results.json")
    args = ap.parse_args()
    q = args.quick
    args.fanout_sizes = [50] if q else [1000, 10000]
    args.latency_subs = 50 if q else 10000
    args.memory_sizes = [100] if q else [1000, 5000, 10000, 19000]
    args.reval_clients = 20 if q else 1000
    args.rounds = 2 if q else 10
    args.duration = 1 if q else 10
    args.latency_rates = [20] if q else [20, 5]
    args.publishers = 4
    args.threads = 1 if q else 2
    args.wrk_conns = 8 if q else 64
    out = os.path.abspath(args.out_dir)
    args.out_dir = out
    results_md = args.results_md or os.path.join(out, "RESULTS.md")
    if args.report_only:
        res = json.load(open(os.path.join(out, "results.json")))
        names = [n for n in args.systems.split(",") if n not in res["missing"]]
        res["plots"] = [p for p in ("fanout.png", "latency.png", "memory.png") if os.path.exists(os.path.join(out, p))]
        report(out, res, [s for s in make_systems(args.bin_dir) if s.name in names], args, results_md)
        return 0
    if os.path.isdir(os.path.join(out, "raw")):
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
    scen = args.scenarios.split(",")
    res = {"machine": machine(), "quick": q, "missing": [s.name for s in missing],
           "fanout": [], "latency": [], "memory": [], "revalidation": [], "http": [], "cluster": {"skipped": "not run"}}
    t0 = time.time()
    if "fanout" in scen:
        res["fanout"] = scenario_fanout(run, systems, args.fanout_sizes, args.duration)
    if "latency" in scen:
        for rate in args.latency_rates:  # the first rate is the one the targets and the plot use
            res["latency"] += scenario_latency(run, systems, args.latency_subs, rate, args.duration)
    if "memory" in scen:
        res["memory"] = scenario_memory(run, systems, args.memory_sizes)
    if "revalidation" in scen:
        res["revalidation"] = scenario_revalidation(run, systems, args.reval_clients, args.rounds)
    if "http" in scen:
        res["http"] = scenario_http(run, systems, args.duration, args.wrk_conns)
    cpp = next((s for s in systems if s.name == "igniter-cpp"), None)
    if "cluster" in scen and cpp:
        res["cluster"] = scenario_cluster(run, cpp, max(args.fanout_sizes), args.duration)
    res["seconds"] = time.time() - t0
    stop_all()

    json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=1)
    write_csv(os.path.join(out, "fanout.csv"), res["fanout"],
              ["system", "subscribers", "deliveries_per_second", "published_per_second", "p50_ms", "p99_ms", "max_ms",
               "server_cpu_percent", "loadgen_cpu_seconds", "closed_by_server", "error"])
    write_csv(os.path.join(out, "latency.csv"), res["latency"],
              ["system", "subscribers", "rate", "published", "p50_ms", "p99_ms", "max_ms", "last_subscriber_p50_ms",
               "last_subscriber_max_ms", "events", "events_complete", "server_cpu_percent", "error"])
    write_csv(os.path.join(out, "memory.csv"), res["memory"],
              ["system", "connections", "ready", "rss_base_kib", "rss_kib", "bytes_per_connection", "connect_rate",
               "error"])
    write_csv(os.path.join(out, "revalidation.csv"), res["revalidation"],
              ["system", "clients", "ready", "round_trip_ms_median", "last_event_ms_median", "rounds",
               "incomplete_rounds", "error"])
    write_csv(os.path.join(out, "http.csv"), res["http"],
              ["system", "requests_per_second", "p99_ms", "non_2xx", "server_cpu_percent", "error"])
    res["plots"] = plots(out, res, [s.name for s in systems])
    report(out, res, systems, args, results_md)
    log(f"done in {res['seconds']:.0f} s: {results_md}")
    if args.check:
        need = ["results.json", "fanout.csv", "latency.csv", "memory.csv", "revalidation.csv", "http.csv"]
        bad = [f for f in need if not os.path.exists(os.path.join(out, f))]
        errors = [(sc, r["system"], r["error"]) for sc in ("fanout", "latency", "memory", "revalidation", "http")
                  for r in res[sc] if "error" in r]
        got = [r for r in res["fanout"] if r.get("system") == "igniter-cpp" and r.get("deliveries", 0) > 0]
        if bad or errors or not got or not os.path.exists(results_md):
            log(f"check failed: missing {bad}, errors {errors}, igniter-cpp deliveries {bool(got)}")
            return 1
        log("check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
