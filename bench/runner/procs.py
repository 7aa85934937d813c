"""Process plumbing of the benchmark runner: every process it starts is stopped on exit, whatever happens;
ports, readiness, CPU time and RSS of a process tree."""
import atexit
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
PER_PROCESS = 15000  # subscribers per loadgen process (the limit is 20000 open files per process)
children = []


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def stop_all():
    for p in children:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + 5
    for p in children:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    children.clear()


atexit.register(stop_all)
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: sys.exit(130))


def spawn(cmd, env=None, cwd=None, log_path=None):
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd, stdout=out, stderr=out,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    children.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in children:
        children.remove(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def tree(pid):
    """pid and all its descendants."""
    out = [pid]
    for t in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            for c in open(t).read().split():
                out += tree(int(c))
        except OSError:
            pass
    return out


def cpu_seconds(pid):
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in tree(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def start_hog(out_dir, cpu=None):
    """The CPU hog of the contention run: a busy shell loop pinned to one core (the last one)."""
    cpu = (os.cpu_count() or 1) - 1 if cpu is None else cpu
    return spawn(["taskset", "-c", str(cpu), "sh", "-c", "while :; do :; done"],
                 log_path=os.path.join(out_dir, "hog.log"))


def loadavg_full():
    try:
        return open("/proc/loadavg").read().strip()
    except OSError:
        return "?"
