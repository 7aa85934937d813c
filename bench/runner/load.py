"""Driving bench/loadgen: subscriber and publisher processes, and merging their figures."""
from .procs import *  # noqa: F401,F403


class Run:
    def __init__(self, args):
        self.args = args
        self.loadgen = os.path.join(args.bin_dir, "loadgen")
        self.out = args.out_dir
        self.n = 0
        self.settle = 0.2 if args.quick else 1.0  # seconds for in-flight frames to land
        self.drain = 1 if args.quick else 5  # seconds an open-loop publisher waits for answers owed

    def path(self, stem):
        self.n += 1
        return os.path.join(self.out, "raw", f"{self.n:03d}-{stem}.json")

    def subscribers(self, url, conns, hold, per_event=False, stem="sub"):
        """Starts ceil(conns/PER_PROCESS) loadgen sub processes; returns them once all are connected."""
        procs = []
        nproc = max(1, math.ceil(conns / PER_PROCESS))
        for i in range(nproc):
            share = conns // nproc + (1 if i < conns % nproc else 0)
            out = self.path(f"{stem}{i}")
            cmd = [self.loadgen, "sub", "--url", url, "--conns", str(share), "--hold", str(hold),
                   "--threads", str(self.args.threads), "--sources", str(4 + i * 4), "--connect-timeout", "180",
                   "--out", out]
            if per_event:
                cmd.append("--per-event")
            procs.append((spawn(cmd, log_path=out + ".log"), out))
        deadline = time.time() + 200
        while time.time() < deadline:
            if all(os.path.exists(o + ".ready") or p.poll() is not None for p, o in procs):
                break
            time.sleep(0.05)
        return procs

    def finish(self, procs):
        results = []
        for p, out in procs:
            stop(p, signal.SIGTERM, timeout=30)
            if os.path.exists(out):
                results.append(json.load(open(out)))
        return results

    def publish(self, url, rate, duration, conns=4, body=None, count=None, drain=5, max_conns=None, stem="pub"):
        """rate 0: closed loop (each connection sends when answered); rate > 0: open loop (loadgen pub)."""
        out = self.path(stem)
        cmd = [self.loadgen, "pub", "--url", url, "--rate", str(rate), "--duration", str(duration),
               "--conns", str(conns), "--size", "100", "--drain", str(drain), "--out", out]
        if max_conns:
            cmd += ["--max-conns", str(max_conns)]
        if body:
            cmd += ["--body", body]
        if count is not None:
            cmd += ["--count", str(count)]
        subprocess.run(cmd, timeout=duration + drain + 60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.load(open(out)) if os.path.exists(out) else {}


def merge_subs(results):
    """One figure set from several loadgen sub processes."""
    if not results:
        return {}
    hist = {}
    for r in results:
        for us, count in r["histogram_us"]:
            hist[us] = hist.get(us, 0) + count
    total = sum(hist.values())

    def pct(p):
        if not total:
            return 0.0
        rank = int(p / 100 * (total - 1)) + 1
        seen = 0
        for us in sorted(hist):
            seen += hist[us]
            if seen >= rank:
                return min(us / 1000, max(r["latency_ms"]["max"] for r in results))
        return 0.0
    firsts = [r["first_delivery_mono_ns"] for r in results if r["first_delivery_mono_ns"]]
    lasts = [r["last_delivery_mono_ns"] for r in results if r["last_delivery_mono_ns"]]
    span = (max(lasts) - min(firsts)) / 1e9 if firsts and lasts and max(lasts) > min(firsts) else 0
    deliveries = sum(r["deliveries"] for r in results)
    merged = {
        "conns": sum(r["conns"] for r in results), "ready": sum(r["ready"] for r in results),
        "failed": sum(r["failed"] for r in results), "closed_by_server": sum(r["closed_by_server"] for r in results),
        "connect_seconds": max(r["connect_seconds"] for r in results), "deliveries": deliveries,
        "deliveries_per_second": deliveries / span if span else 0.0,
        "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": max(r["latency_ms"]["max"] for r in results),
        "loadgen_cpu_seconds": sum(r["cpu_seconds_hold"] for r in results), "processes": len(results),
    }
    merged["connect_rate"] = merged["ready"] / merged["connect_seconds"] if merged["connect_seconds"] else 0
    if any("events" in r for r in results):
        events = {}
        for r in results:
            for seq, count, max_ms in r.get("events", []):
                c, m = events.get(seq, (0, 0.0))
                events[seq] = (c + count, max(m, max_ms))
        complete = sorted(m for c, m in events.values() if c >= merged["ready"])
        merged["events"] = len(events)
        merged["events_complete"] = len(complete)
        if complete:
            merged["last_subscriber_p50_ms"] = complete[len(complete) // 2]
            merged["last_subscriber_max_ms"] = complete[-1]
    return merged


def rank_pct(sorted_values, p):
    """The p-th percentile of a sorted list (the rank rule of the loadgen's histograms)."""
    if not sorted_values:
        return None
    return sorted_values[int(p / 100 * (len(sorted_values) - 1))]


def carried_rate(pub):
    """Events/s the system accepted: accepted answers over the time between the first and the last of
    them (a constant answer delay does not count; a queue shows as answers spaced at what it carries)."""
    done = sorted(e[1] + e[3] for e in pub.get("events", []) if 200 <= e[4] < 300 and e[3] >= 0)
    if len(done) < 2 or done[-1] <= done[0]:
        return pub.get("carried_per_second", 0)
    return (len(done) - 1) / ((done[-1] - done[0]) / 1000)


def merge_latency(results, pub):
    """The latency figures of one cell: per delivery (the subscribers' histograms), per event (the time
    until the last subscriber had it, over the events the system accepted and every subscriber got) and
    what the open-loop publisher offered and the system carried."""
    m = merge_subs(results)
    events = {}
    for r in results:
        for seq, count, max_ms in r.get("events", []):
            c, mx = events.get(seq, (0, 0.0))
            events[seq] = (c + count, max(mx, max_ms))
    accepted = [e[0] for e in pub.get("events", []) if 200 <= e[4] < 300]
    ready = m.get("ready", 0)
    last = sorted(events[seq][1] for seq in accepted if seq in events and events[seq][0] >= ready > 0)
    lags = [e[2] for e in pub.get("events", []) if e[2] >= 0]
    m["carried_per_second"] = carried_rate(pub)
    m.pop("events", None)
    m.update({
        "offered_per_second": pub.get("rate", 0), "offered": pub.get("offered", 0), "sent": pub.get("sent", 0),
        "accepted": pub.get("ok", 0), "unsent": pub.get("unsent", 0), "unanswered": pub.get("unanswered", 0),
        "publish_errors": pub.get("errors", 0), "carried_per_second": m["carried_per_second"],
        "publisher_connections": pub.get("connections", 0), "publish_response_p99_ms": pub.get("response_ms", {}).get("p99"),
        "send_lag_ms_max": max(lags) if lags else None,
        "events": len(accepted), "events_complete": len(last),
        "last_subscriber_p50_ms": rank_pct(last, 50), "last_subscriber_p99_ms": rank_pct(last, 99),
        "last_subscriber_max_ms": last[-1] if last else None,
    })
    return m
