#!/usr/bin/env python3
"""bench/tail/stall.py: what one stalled SSE client costs an igniter_bench build (bench/notes.md, "Tail
latency", "The kernel's share of a stalled client").

  bench/tail/stall.py build/release/bench/igniter_bench STREAM_SEND_BUFFER [PORT]

Starts the server (one I/O thread, STREAM_SEND_BUFFER = RealtimeOptions::stream_send_buffer_bytes, 0 =
autotuning), opens one stream whose client sets SO_RCVBUF 4096 and never reads, publishes 16 KiB events
one by one until /metrics counts a slow-client cut, and prints one JSON line: the payload published before
the cut, the largest unsent queue (Send-Q) the server's socket had with its `skmem` tb and w (ss -tm), and
what the client could still read after the cut (what the kernel held for it).
"""
import json, os, re, signal, socket, subprocess, sys, time, urllib.request

binary, sndbuf = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 39872
env = {**os.environ, "PORT": str(port), "IO_THREADS": "1", "STREAM_SEND_BUFFER": sndbuf, "LOG_LEVEL": "off"}
server = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); break
        except OSError:
            time.sleep(0.05)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /api/v1/sse/events?channels=bench HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    got = b""
    while b"connected" not in got:
        got += s.recv(65536)
    def metric():
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        m = re.search(r"^igniter_slow_client_disconnects_total\S* (\d+)", text, re.M)
        return int(m.group(1)) if m else 0
    def sendq():
        out = subprocess.run(["ss", "-tmnH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True).stdout
        best = (0, 0, 0)
        for block in re.split(r"\n(?=\d)", out):
            q = re.match(r"\s*(\d+)\s+(\d+)", block)
            tb = re.search(r"tb(\d+)", block); w = re.search(r",w(\d+)", block)
            if q and int(q.group(2)) > best[0]:
                best = (int(q.group(2)), int(tb.group(1)) if tb else 0, int(w.group(1)) if w else 0)
        return best
    pad = "x" * 16384
    published, most = 0, (0, 0, 0)
    for n in range(2000):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/bench/publish", data=json.dumps({"n": n, "pad": pad}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(req).read()
        published += 16384
        time.sleep(0.005)
        q = sendq()
        if q[0] > most[0]: most = q
        if metric() > 0:
            break
    s.setblocking(True); s.settimeout(5)
    after = 0
    try:
        while True:
            b = s.recv(1 << 20)
            if not b: break
            after += len(b)
    except socket.timeout:
        pass
    print(json.dumps({"stream_send_buffer": int(sndbuf), "published_before_cut": published, "max_send_q": most[0],
                      "tb": most[1], "w": most[2], "read_after_cut": after}))
finally:
    server.send_signal(signal.SIGTERM); server.wait()
