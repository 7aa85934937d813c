"""RESULTS.md, the CSVs and plots, the targets table."""
from .procs import *  # noqa: F401,F403


def fmt(v, digits=0):
    if v is None or v == "":
        return "—"
    if isinstance(v, str):
        return v
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a, b, invert=False):
    if not a or not b:
        return "—"
    return f"{(b / a if invert else a / b):.2f}×"


def find(rows, system, **key):
    for r in rows:
        if r.get("system") == system and all(r.get(k) == v for k, v in key.items()):
            return r
    return {}


def write_csv(path, rows, columns):
    with open(path, "w") as f:
        f.write(",".join(columns) + "\n")
        for r in rows:
            f.write(",".join(str(r.get(c, "")) for c in columns) + "\n")


def plots(out, res, names):
    if not shutil.which("gnuplot"):
        return []
    made = []
    term = "set terminal pngcairo size 900,520 font ',10'" if "pngcairo" in subprocess.run(
        ["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stderr + subprocess.run(
        ["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stdout else "set terminal png size 900,520"

    def plot(name, script, data):
        dat = os.path.join(out, name + ".dat")
        open(dat, "w").write(data)
        png = os.path.join(out, name + ".png")
        full = f"{term}\nset output '{png}'\nset grid\nset key outside right\n{script.replace('@DAT@', dat)}\n"
        if subprocess.run(["gnuplot"], input=full, text=True, capture_output=True).returncode == 0:
            made.append(name + ".png")

    # Throughput against subscribers.
    sizes = sorted({r["subscribers"] for r in res["fanout"] if "subscribers" in r})
    data = "subscribers " + " ".join(names) + "\n"
    for n in sizes:
        data += f"{n} " + " ".join(str(find(res['fanout'], s, subscribers=n).get('deliveries_per_second', 'NaN'))
                                   for s in names) + "\n"
    plot("fanout", "set title 'Fan-out: deliveries/s counted at the clients'\nset xlabel 'subscribers'\n"
         "set ylabel 'deliveries/s'\nset logscale y\nset style data linespoints\n"
         "plot for [i=2:%d] '@DAT@' using 1:i title columnheader(i)" % (len(names) + 1), data)
    # Latency p99 against the offered rate, at the largest size up to 10 000.
    lat = res.get("latency", [])
    sizes = [r["subscribers"] for r in lat if "subscribers" in r and r["subscribers"] <= 10000]
    if sizes:
        n = max(sizes)
        lnames = [s for s in names if find(lat, s, subscribers=n)]
        data = "rate " + " ".join(lnames) + "\n"
        for rate in sorted({r["rate"] for r in lat if r.get("subscribers") == n}):
            data += f"{rate} " + " ".join(str(find(lat, s, subscribers=n, rate=rate).get("p99_ms") or "NaN")
                                           for s in lnames) + "\n"
        plot("latency", f"set title 'Latency p99 per delivery, {n} subscribers, open-loop publishing (ms)'\n"
             "set xlabel 'events/s offered'\nset ylabel 'p99 ms'\nset logscale y\nset style data linespoints\n"
             "plot for [i=2:%d] '@DAT@' using 1:i title columnheader(i)" % (len(lnames) + 1), data)
    # Memory against connections.
    sizes = sorted({r["connections"] for r in res["memory"] if "connections" in r})
    data = "connections " + " ".join(names) + "\n"
    for n in sizes:
        data += f"{n} " + " ".join(str(find(res['memory'], s, connections=n).get('rss_kib', 'NaN') / 1024
                                       if find(res['memory'], s, connections=n).get('rss_kib') else 'NaN')
                                   for s in names) + "\n"
    plot("memory", "set title 'Server RSS with idle SSE connections (MiB)'\nset xlabel 'connections'\n"
         "set ylabel 'MiB'\nset style data linespoints\n"
         "plot for [i=2:%d] '@DAT@' using 1:i title columnheader(i)" % (len(names) + 1), data)
    return made


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    return {"nproc": sh("nproc"), "lscpu": sh("lscpu | head -20"), "memory": sh("free -h | head -2"),
            "kernel": platform.release(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "load": sh("cat /proc/loadavg")}


KEEP_MARKER = "<!-- Everything below this line is written by hand: make bench keeps it as it is. -->"


def carried(r):
    """'13.2 of 20' (bold when the system did not carry the offered rate: under 95% of it)."""
    c, o = r.get("carried_per_second"), r.get("offered_per_second") or r.get("rate")
    if c is None or not o:
        return "—"
    text = f"{c:.1f} of {o:g}"
    return f"**{text}**" if c < 0.95 * o else text


def carries(r):
    return bool(r) and "error" not in r and (r.get("carried_per_second") or 0) >= 0.95 * (r.get("rate") or 1e9)


def report(out, res, systems, args, results_md):
    names = [s.name for s in systems]
    m = res["machine"]
    run_date = m["date"]
    measured = res.get("measured", {})

    def stamp(sc):  # a section a partial run kept from an earlier run says so
        when = measured.get(sc)
        return f"*Measured in an earlier run ({when}); this run did not repeat it.*\n" if when and when != run_date else ""
    L = []
    L.append("# Benchmarks\n")
    L.append(f"Generated by `{'make bench-quick' if args.quick else 'make bench'}` (bench/run.sh) on "
             f"{m['date']}. Every system ran on the same machine in the same run, one after the other, "
             "driven by the same load generator (bench/loadgen) on loopback.\n")
    if args.quick:
        L.append("**This is the quick smoke (tiny sizes, a second or two per step): its figures mean nothing; "
                 "it checks that the tooling works.**\n")
    L.append("**Noise.** This machine has " + m["nproc"] + " cores shared by the server under test and the load "
             "generator (and by whatever else runs: load average at the start of this run "
             f"`{m['load']}`, at its end `{m.get('load_end', '?')}`; each latency cell records the 1-minute "
             "load average at its end in results.json). Absolute numbers drift between runs; the ratios between "
             "systems measured back to back in one run are what to read. The load generator reads the SSE "
             "streams through io_uring where the kernel has it (bench/notes.md, \"The load generator's share\"; "
             "each sub output's `reader` says which), the same for every system.\n")
    L.append("```\n" + m["lscpu"] + "\n" + m["memory"] + "\nkernel " + m["kernel"] + "\n```\n")
    L.append("Systems: " + "; ".join(f"**{s.name}**" + (f" ({s.note})" if s.note else "") for s in systems) +
             ". igniter-cpp is bench/servers/igniter_bench.cpp (Release) in the **default configuration** "
             "(AppOptions' defaults: handlers on the worker pool, one I/O thread per core, one log line per "
             "request; only max_connections is raised, to 19 900, because this machine allows 20 000 open files "
             "per process); **igniter-cpp-io** is the same app with handlers on the I/O threads and no request "
             "log, how earlier runs measured it, shown as an extra row of the fan-out, revalidation and HTTP tables. Igniter.js is "
             "bench/peers/igniter-js/server.mjs on Node's http server; Nchan's configuration is "
             "bench/peers/nchan/nginx.conf.in.\n")
    L.append("Raw data: `results.json`, one CSV per scenario and every loadgen output under `raw/`.\n")

    lat = res.get("latency", [])
    lat_sizes = sorted({r["subscribers"] for r in lat if "subscribers" in r})
    lat_rates = sorted({r["rate"] for r in lat if "rate" in r})

    # 1 fan-out
    L.append("## 1. Fan-out throughput\n")
    L += [x for x in [stamp("fanout")] if x]
    L.append(f"One channel, ~100-byte events published as fast as the server accepts them for {args.duration} s "
             f"by {args.publishers} keep-alive publisher connections (closed loop). Deliveries/s counted at the "
             "clients (first to last delivery), with the p99 of those deliveries at that throughput; server CPU "
             "over the publishing window (200% = both cores). Beside it, from scenario 2, the same system at the "
             "same size at fixed publish rates: p99 per delivery / p99 until the last subscriber had an event "
             "(ms; bold rate: the system did not carry it).\n")
    hdr = "| system | subscribers | deliveries/s | igniter-cpp ÷ it | published/s | p99 ms | server CPU |"
    sep = "|---|---:|---:|---:|---:|---:|---:|"
    for rate in lat_rates:
        hdr += f" p99 / last p99 ms at {rate}/s |"
        sep += "---:|"
    L.append(hdr)
    L.append(sep)
    for n in args.fanout_sizes:
        base = find(res["fanout"], "igniter-cpp", subscribers=n).get("deliveries_per_second")
        for s in names:
            r = find(res["fanout"], s, subscribers=n)
            if not r:
                continue
            if "error" in r:
                L.append(f"| {s} | {n} | failed: {r['error']} |||||" + "|" * len(lat_rates))
                continue
            line = (f"| {s} | {n} | {fmt(r['deliveries_per_second'])} | {ratio(base, r['deliveries_per_second'])} | "
                    f"{fmt(r['published_per_second'])} | {fmt(r['p99_ms'], 1)} | {fmt(r['server_cpu_percent'])}% |")
            for rate in lat_rates:
                x = find(lat, s, subscribers=n, rate=rate)
                if not x or "error" in x:
                    line += " — |"
                    continue
                cell = f"{fmt(x.get('p99_ms'), 0)} / {fmt(x.get('last_subscriber_p99_ms'), 0)}"
                line += f" {cell} |" if carries(x) else f" **{cell}** |"
            L.append(line)
    L.append("")
    # 2 latency
    L.append("## 2. Broadcast latency at fixed rates (open loop)\n")
    L += [x for x in [stamp("latency")] if x]
    L.append(f"One channel, N subscribers, ~100-byte events published **open loop** at {', '.join(map(str, lat_rates))} "
             f"events/s for {args.latency_duration} s a cell: each event is due at a fixed time and goes out then on "
             "an idle keep-alive connection, or a new one (up to 64 outstanding), whatever the earlier answers "
             "(`loadgen pub --rate`). *Carried* is the events the system accepted (2xx answers) per second, between "
             "its first and its last accepted answer (a steady answer delay does not count against it; a queue "
             "shows as answers spaced at the rate it carries; the publisher waits up to "
             f"{1 if args.quick else 5} s for answers owed); **bold** when under 95% of the offered rate: the "
             "latencies of such a row are for the load it let through, not the one offered. Latency runs from "
             "the event's *scheduled* send time (in the payload, CLOCK_REALTIME) to the frame parsed at a "
             "subscriber: per delivery (every subscriber × event), and per event until the *last* subscriber had "
             "it (\"last\", over the accepted events every subscriber got: *complete*). A fresh server per cell; "
             "for each size and rate the systems ran back to back.\n")
    for n in lat_sizes:
        L.append(f"**{n:,} subscribers**\n")
        L.append("| system | rate /s | carried /s | p50 ms | p99 ms | max ms | last p50 ms | last p99 ms | "
                 "last max ms | events complete | p99 ÷ bare's | last p99 ÷ bare's | server CPU | load |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for rate in lat_rates:
            bare = find(lat, "bare", subscribers=n, rate=rate)
            for s in names:
                r = find(lat, s, subscribers=n, rate=rate)
                if not r:
                    continue
                if "error" in r:
                    L.append(f"| {s} | {rate} | failed: {r['error']} ||||||||||||")
                    continue
                L.append(f"| {s} | {rate} | {carried(r)} | {fmt(r.get('p50_ms'), 1)} | {fmt(r.get('p99_ms'), 1)} | "
                         f"{fmt(r.get('max_ms'), 1)} | {fmt(r.get('last_subscriber_p50_ms'), 1)} | "
                         f"{fmt(r.get('last_subscriber_p99_ms'), 1)} | {fmt(r.get('last_subscriber_max_ms'), 1)} | "
                         f"{r.get('events_complete', 0)}/{r.get('events', 0)} | "
                         f"{ratio(r.get('p99_ms'), bare.get('p99_ms'))} | "
                         f"{ratio(r.get('last_subscriber_p99_ms'), bare.get('last_subscriber_p99_ms'))} | "
                         f"{fmt(r.get('server_cpu_percent'))}% | {r.get('load', '—')} |")
        L.append("")
    # 2b contention
    con = res.get("contention", [])
    L.append("### Under CPU contention\n")
    L += [x for x in [stamp("contention")] if x]
    cn, crate = args.contention
    L.append(f"{cn:,} subscribers, {crate} events/s open loop, {args.latency_duration} s: per system an uncontended "
             "cell, then at once the same cell with a CPU hog — a busy shell loop (`while :; do :; done`) pinned "
             "by `taskset` to the last core — running through the publishing window" +
             ("; the systems in turn, in rounds, each row the median round of its system and condition (by "
              "p99), with the range of the rounds' p99 in brackets" if any(r.get("rounds", 1) > 1 for r in con)
              else "") + ". Contended ÷ uncontended "
             "is the figure to read (target: p99 at most 2×, and no worse than Nchan's ratio).\n")
    L.append("| system | carried /s | p99 ms | p99 with hog ms | p99 ratio | last p99 ms | last p99 with hog ms | "
             "last p99 ratio | hog CPU | server CPU → with hog |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    def spread(r):
        return f" ({fmt(r['p99_min'], 0)}–{fmt(r['p99_max'], 0)})" if r.get("rounds", 1) > 1 else ""
    for s in names:
        a = next((r for r in con if r.get("system") == s and not r.get("hog")), None)
        b = next((r for r in con if r.get("system") == s and r.get("hog")), None)
        if not a or not b:
            continue
        if "error" in a or "error" in b:
            L.append(f"| {s} | failed: {a.get('error') or b.get('error')} |||||||||")
            continue
        L.append(f"| {s} | {carried(a)} → {carried(b)} | {fmt(a.get('p99_ms'), 1)}{spread(a)} | "
                 f"{fmt(b.get('p99_ms'), 1)}{spread(b)} | "
                 f"{ratio(b.get('p99_ms'), a.get('p99_ms'))} | {fmt(a.get('last_subscriber_p99_ms'), 1)} | "
                 f"{fmt(b.get('last_subscriber_p99_ms'), 1)} | "
                 f"{ratio(b.get('last_subscriber_p99_ms'), a.get('last_subscriber_p99_ms'))} | "
                 f"{fmt(b.get('hog_cpu_percent'))}% | {fmt(a.get('server_cpu_percent'))}% → "
                 f"{fmt(b.get('server_cpu_percent'))}% |")
    L.append("")
    # 3 memory
    L.append("## 3. Connections and memory\n")
    L += [x for x in [stamp("memory")] if x]
    L.append("Idle SSE connections on a freshly started server. Bytes per connection = (RSS with them − RSS before) "
             "÷ connections, summed over the server's processes (nginx: master and workers); kernel socket "
             "buffers are not in RSS. Connect rate: connections established (headers received) per second.\n")
    L.append("| system | connections | established | RSS MiB | bytes/connection | connect rate /s |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for n in args.memory_sizes:
        for s in names:
            r = find(res["memory"], s, connections=n)
            if not r:
                continue
            if "error" in r:
                L.append(f"| {s} | {n} | failed: {r['error']} ||||")
                continue
            L.append(f"| {s} | {n} | {r['ready']} | {fmt(r['rss_kib'] / 1024, 1)} | "
                     f"{fmt(r['bytes_per_connection'])} | {fmt(r['connect_rate'])} |")
    L.append("")
    # 4 revalidation
    L.append("## 4. Revalidation round trip\n")
    L += [x for x in [stamp("revalidation")] if x]
    L.append(f"{' and '.join(map(str, args.reval_clients))} clients, each with an SSE connection and a keep-alive "
             "HTTP connection that refetches the list when a revalidation arrives; one more connection posts the "
             "mutation. **Round trip**: from the mutation's request sent to the last refetch answered, the time until "
             "every client shows the change (median of the rounds). Beside it the same end from the mutation's "
             "*answer*, and when the last revalidation event arrived, counted from that answer. Nchan and the bare "
             "loop have no revalidation: their \"mutation\" is a publish and the list a fixed answer, the "
             "transport's floor (target: igniter-cpp ≤ 1.5× the bare loop's at 9 000). They answer the publish "
             "only once the event is written to every subscriber (last event ≤ 0), so counted from their answer "
             "the fan-out is left out; igniter-cpp and Igniter.js answer once the event is queued, and the fan-out "
             "is in. The target is read on the round trip from the request, the same work for every system.\n")
    L.append("| system | clients | round trip ms | from the answer ms | last event ms | rounds | incomplete | "
             "igniter-cpp ÷ it |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.reval_clients:
        base = find(res["revalidation"], "igniter-cpp", clients=n).get("from_request_ms_median")
        for s in names:
            r = find(res["revalidation"], s, clients=n)
            if not r:
                continue
            if "error" in r:
                L.append(f"| {s} | {n} | failed: {r['error']} ||||||")
                continue
            L.append(f"| {s} | {r['ready']} | {fmt(r.get('from_request_ms_median'), 1)} | "
                     f"{fmt(r['round_trip_ms_median'], 1)} | {fmt(r['last_event_ms_median'], 1)} | {r['rounds']} | "
                     f"{r['incomplete_rounds']} | {ratio(base, r.get('from_request_ms_median'))} |")
    L.append("")
    # 5 http
    L.append("## 5. HTTP JSON query\n")
    L += [x for x in [stamp("http")] if x]
    L.append(f"`wrk -t2 -c{args.wrk_conns} -d{args.duration}s` on the same ~600-byte JSON document "
             "(`GET /api/v1/bench/query`; nginx answers it from its configuration, a reference, not an app), "
             "in interleaved rounds (each round runs every system once, one after the other, starting one system "
             "later than the round before): the median "
             "round, and the range of all rounds.\n")
    L.append("| system | requests/s | range of the rounds | p99 ms | non-2xx | server CPU | igniter-cpp ÷ it |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    base = find(res["http"], "igniter-cpp").get("requests_per_second")
    for s in names:
        r = find(res["http"], s)
        if not r:
            continue
        if "error" in r:
            L.append(f"| {s} | failed: {r['error']} ||||||")
            continue
        spread = (f"{fmt(r['rps_min'])}–{fmt(r['rps_max'])} ({r['rounds']})" if "rounds" in r else "—")
        L.append(f"| {s} | {fmt(r['requests_per_second'])} | {spread} | {fmt(r['p99_ms'], 2)} | {r['non_2xx']} | "
                 f"{fmt(r['server_cpu_percent'])}% | {ratio(base, r['requests_per_second'])} |")
    L.append("")
    # 6 cluster
    L.append("## 6. Cluster\n")
    L += [x for x in [stamp("cluster")] if x]
    c = res["cluster"]
    if "skipped" in c:
        L.append(f"**Not measured:** {c['skipped']}.\n")
    else:
        one = find(res["fanout"], "igniter-cpp", subscribers=c["subscribers"])
        single = c.get("single_deliveries_per_second", one.get("deliveries_per_second"))
        single_p99 = c.get("single_p99_ms", one.get("p99_ms"))
        L.append(f"Two igniter-cpp processes sharing one redis-server, {c['subscribers']} subscribers split between "
                 "them, publishers on the first, one I/O thread each (together, the two threads the single "
                 "process has), closed-loop publishers as in scenario 1. Against one process with the same "
                 "subscribers, " + ("measured in turn with them: the median of the rounds, and the range of all "
                                    "rounds.\n" if "single_min" in c else "from scenario 1.\n"))
        L.append("| setup | deliveries/s | range of the rounds | p99 ms | of a single process |")
        L.append("|---|---:|---:|---:|---:|")
        rounds = f" ({c['rounds']})" if "rounds" in c else ""
        one_range = (f"{fmt(c['single_min'])}–{fmt(c['single_max'])}{rounds}" if "single_min" in c
                     else "scenario 1")
        two_range = f"{fmt(c['dps_min'])}–{fmt(c['dps_max'])}{rounds}" if "dps_min" in c else "—"
        L.append(f"| one process | {fmt(single)} | {one_range} | {fmt(single_p99, 1)} | 100% |")
        L.append(f"| two processes + Redis | {fmt(c['deliveries_per_second'])} | {two_range} | "
                 f"{fmt(c['p99_ms'], 1)} | {(100 * c['deliveries_per_second'] / single) if single else 0:.0f}% |")
        L.append("")
    # targets
    L.append("## Targets\n")
    L.append(targets(res, args))
    notes = os.path.join(HERE, "notes.md")  # the hand-written reading of the figures (profiles, causes)
    if not args.quick and os.path.exists(notes):
        L.append(open(notes).read())
    if res.get("plots"):
        L.append("## Plots\n")
        rel = os.path.relpath(out, os.path.dirname(results_md))
        for p in res["plots"]:
            L.append(f"![{p}]({rel}/{p})\n")
    # The hand-written sections after the marker (other benches' tables) survive a regeneration.
    kept = ""
    if not args.quick and os.path.exists(results_md):
        old = open(results_md).read()
        if KEEP_MARKER in old:
            kept = old.split(KEEP_MARKER, 1)[1]
    L.append(KEEP_MARKER)
    open(results_md, "w").write("\n".join(L) + kept.rstrip("\n") + "\n")


def targets(res, args):
    n = max(args.fanout_sizes)
    get = lambda sc, s, **k: find(res.get(sc, []), s, **k)  # noqa: E731
    cpp_f = get("fanout", "igniter-cpp", subscribers=n).get("deliveries_per_second")
    lines = ["| target | measured | met |", "|---|---|---|"]

    def row(name, value, ok):
        lines.append(f"| {name} | {value} | {'yes' if ok else ('**no**' if ok is False else '—')} |")

    def cmp(a, b):
        return (a / b) if a and b else None
    for peer, k in (("nchan", 10), ("igniter-js", 30)):
        r = cmp(cpp_f, get("fanout", peer, subscribers=n).get("deliveries_per_second"))
        row(f"fan-out at {n}: ≥ {k}× {peer}", f"{r:.2f}×" if r else "—", (r >= k) if r else None)
    row(f"fan-out at {n}: ≥ 1 M deliveries/s", fmt(cpp_f), (cpp_f >= 1e6) if cpp_f else None)
    # Latency at the largest size ≤ 10 000 measured: against each peer, at every rate both carry.
    sizes = [r["subscribers"] for r in res.get("latency", []) if "subscribers" in r and r["subscribers"] <= 10000]
    ln = max(sizes) if sizes else None
    rates = sorted({r["rate"] for r in res.get("latency", []) if r.get("subscribers") == ln})
    for peer, k, what in (("bare", 1.3, "≤ 1.3× the bare loop's"), ("nchan", 0.5, "≤ ½ of Nchan's")):
        for rate in rates:
            a, b = get("latency", "igniter-cpp", subscribers=ln, rate=rate), get("latency", peer, subscribers=ln, rate=rate)
            name = f"latency at {ln}, {rate}/s: p99 and last-subscriber p99 {what}"
            if not carries(a) or not carries(b):
                who = [x["system"] for x in (a, b) if x and not carries(x)]
                row(name, "not compared: " + ", ".join(f"{w} carried {carried(get('latency', w, subscribers=ln, rate=rate))}/s"
                                                      for w in who), None)
                continue
            r1, r2 = cmp(a.get("p99_ms"), b.get("p99_ms")), cmp(a.get("last_subscriber_p99_ms"), b.get("last_subscriber_p99_ms"))
            row(name, f"{r1:.2f}×, last {r2:.2f}×" if r1 and r2 else "—", (r1 <= k and r2 <= k) if r1 and r2 else None)
    con = res.get("contention", [])

    def con_ratio(system):
        a = next((r for r in con if r.get("system") == system and not r.get("hog") and "error" not in r), None)
        b = next((r for r in con if r.get("system") == system and r.get("hog") and "error" not in r), None)
        return cmp(b.get("p99_ms"), a.get("p99_ms")) if a and b else None
    mine, nchan = con_ratio("igniter-cpp"), con_ratio("nchan")
    row("under the CPU hog: p99 ≤ 2× its own uncontended", f"{mine:.2f}×" if mine else "—", (mine <= 2) if mine else None)
    nchan_rows = [r for r in con if r.get("system") == "nchan" and "error" not in r]
    if nchan_rows and not all(carries(r) for r in nchan_rows):
        row("under the CPU hog: p99 ratio ≤ Nchan's", f"{mine:.2f}× against {nchan:.2f}×, not compared: Nchan "
            "did not carry the rate" if mine and nchan else "—", None)
    else:
        row("under the CPU hog: p99 ratio ≤ Nchan's", f"{mine:.2f}× against {nchan:.2f}×" if mine and nchan else "—",
            (mine <= nchan) if mine and nchan else None)
    big = max(args.memory_sizes)
    b = get("memory", "igniter-cpp", connections=big).get("bytes_per_connection")
    row(f"memory per idle connection ≤ 2 KiB (at {big})", f"{b:,.0f} B" if b else "—", (b <= 2048) if b else None)
    rn = max(args.reval_clients)
    mine, bare = get("revalidation", "igniter-cpp", clients=rn), get("revalidation", "bare", clients=rn)
    r = cmp(mine.get("from_request_ms_median"), bare.get("from_request_ms_median"))
    a = cmp(mine.get("round_trip_ms_median"), bare.get("round_trip_ms_median"))
    if r:
        row(f"revalidation round trip at {rn} clients ≤ 1.5× the bare loop's floor (from the mutation's request)",
            f"{r:.2f}× (from the answer: {a:.2f}×)" if a else f"{r:.2f}×", r <= 1.5)
    else:  # results from before 2026-12-03 19:00 have only the count from the answer
        row(f"revalidation round trip at {rn} clients ≤ 1.5× the bare loop's floor (from the mutation's answer: "
            "this run has no count from the request)", f"{a:.2f}×" if a else "—", (a <= 1.5) if a else None)
    r = cmp(get("http", "igniter-cpp").get("requests_per_second"), get("http", "igniter-js").get("requests_per_second"))
    row("HTTP requests/s ≥ 10× Igniter.js", f"{r:.1f}×" if r else "—", (r >= 10) if r else None)
    r = cmp(get("http", "igniter-cpp").get("requests_per_second"), get("http", "nchan").get("requests_per_second"))
    row("HTTP JSON query ≥ 0.8× nginx's static answer", f"{r:.2f}×" if r else "—", (r >= 0.8) if r else None)
    c = res.get("cluster", {})
    single = c.get("single_deliveries_per_second",
                   get("fanout", "igniter-cpp", subscribers=c.get("subscribers")).get("deliveries_per_second"))
    r = cmp(c.get("deliveries_per_second"), single)
    row("cluster ≥ 80% of a single process", f"{100 * r:.0f}%" if r else ("skipped" if "skipped" in c else "—"),
        (r >= 0.8) if r else None)
    return "\n".join(lines) + "\n"
