#!/usr/bin/env python3
"""install.starter: installs this build tree into a prefix of its own (`cmake --install`, which copies
the libraries already built and builds nothing), builds examples/starter out of tree against it with
find_package(igniter), then runs the starter on a free port and checks what a user would: the query
answers, the mutation answers (and validates), a stream subscriber receives the stream query's data,
the mutation's message and its revalidation, concurrent mutations all land, SIGTERM stops it cleanly.

Usage: starter_test.py --cmake CMAKE --build-dir BUILD --source-dir SRC --work-dir DIR [--launcher L;...]
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

MODULES = ["base", "json", "http", "store", "realtime", "server", "client"]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(command, **kwargs):
    print("+", " ".join(str(c) for c in command), flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if result.returncode != 0:
        print(result.stdout)
        fail(f"{command[0]} exited with {result.returncode}")
    return result.stdout


def install(args, prefix):
    for module in MODULES:
        library = args.build_dir / "src" / module / f"libigniter_{module}.a"
        if not library.is_file():
            fail(f"{library} is missing: build the libraries first (cmake --build --preset dev)")
    shutil.rmtree(prefix, ignore_errors=True)
    run([args.cmake, "--install", args.build_dir, "--prefix", prefix])
    expected = [f"lib/libigniter_{m}.a" for m in MODULES] + [
        "include/igniter/igniter.hpp",
        "lib/cmake/igniter/igniterConfig.cmake",
        "lib/cmake/igniter/igniterConfigVersion.cmake",
        "lib/cmake/igniter/igniterTargets.cmake",
    ]
    for path in expected:
        if not (prefix / path).is_file():
            fail(f"the install has no {path}")
    # The public headers stand alone: every igniter header they include is installed with them.
    for header in (prefix / "include").rglob("*.hpp"):
        for included in re.findall(r'#include [<"](igniter/[^>"]+)[>"]', header.read_text()):
            if not (prefix / "include" / included).is_file():
                fail(f"{header} includes {included}, which is not installed")


def check_version_rule(args, prefix):
    """0.x: a request for 0.1 accepts 0.1.z only (docs/getting-started.md)."""
    version_file = prefix / "lib/cmake/igniter/igniterConfigVersion.cmake"
    for requested, compatible in [("0.1", True), ("0.1.0", True), ("0", False), ("0.2", False), ("1.0", False)]:
        parts = requested.split(".") + ["0", "0"]
        script = (f'set(PACKAGE_FIND_VERSION "{requested}")\n'
                  f'set(PACKAGE_FIND_VERSION_MAJOR "{parts[0]}")\nset(PACKAGE_FIND_VERSION_MINOR "{parts[1]}")\n'
                  f'set(PACKAGE_FIND_VERSION_PATCH "{parts[2]}")\n'
                  f'include("{version_file}")\nmessage("compatible=${{PACKAGE_VERSION_COMPATIBLE}}")\n')
        script_file = args.work_dir / "version_check.cmake"
        script_file.write_text(script)
        output = run([args.cmake, "-P", script_file])
        got = "compatible=TRUE" in output
        if got != compatible:
            fail(f"find_package(igniter {requested}) against the installed version: compatible={got}, "
                 f"expected {compatible}")


def build_starter(args, prefix, build):
    shutil.rmtree(build, ignore_errors=True)
    configure = [args.cmake, "-S", args.source_dir / "examples/starter", "-B", build, "-G", "Ninja",
                 f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=", "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"]
    if args.launcher:
        configure.append(f"-DCMAKE_CXX_COMPILER_LAUNCHER={args.launcher}")
    run(configure)
    cache = (build / "CMakeCache.txt").read_text()
    found = re.search(r"^igniter_DIR:PATH=(.*)$", cache, re.M)
    if not found or pathlib.Path(found.group(1)).resolve() != (prefix / "lib/cmake/igniter").resolve():
        fail(f"find_package(igniter) did not find the test's prefix: {found and found.group(1)}")
    run([args.cmake, "--build", build])
    return build / "starter"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class Stream:
    """An SSE subscriber on a raw socket: collects the events it receives."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.head = None
        self.buffer = b""
        self.events = []

    def wait_for(self, predicate, what, seconds=15):
        deadline = time.monotonic() + seconds
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                fail(f"the stream did not receive {what}; it received {self.events}")
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                fail(f"the stream closed before {what}; it received {self.events}")
            self.buffer += chunk
            if self.head is None:
                if b"\r\n\r\n" not in self.buffer:
                    continue
                self.head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                if not self.head.startswith(b"HTTP/1.1 200") or b"text/event-stream" not in self.head:
                    fail(f"the stream answered {self.head!r}")
            while b"\n\n" in self.buffer:
                block, self.buffer = self.buffer.split(b"\n\n", 1)
                fields = {}
                for line in block.decode().split("\n"):
                    if ":" in line and not line.startswith(":"):
                        key, value = line.split(":", 1)
                        fields[key] = value.lstrip(" ")
                if "data" in fields:
                    self.events.append((fields.get("event", "message"), json.loads(fields["data"])))


def check_starter(binary):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([binary], env={**os.environ, "PORT": str(port)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                fail(f"the starter exited with {server.returncode}: {server.stdout.read()}")
            try:
                status, _, body = request(base, "GET", "/api/v1/entries")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    fail("the starter did not answer within 30 s")
                time.sleep(0.1)
        if status != 200 or json.loads(body) != {"data": {"entries": []}, "error": None}:
            fail(f"GET /api/v1/entries answered {status} {body!r}")

        status, headers, body = request(base, "GET", "/")
        if status != 200 or "text/html" not in headers.get("Content-Type", "") or b"app.js" not in body:
            fail(f"GET / answered {status} {headers.get('Content-Type')}")
        status, _, body = request(base, "GET", "/app.js")
        if status != 200 or b"new EventSource(" not in body:
            fail(f"GET /app.js answered {status}")

        stream = Stream(port, "/api/v1/sse/events?channels=revalidation,entries.activity")
        stream.wait_for(lambda e: e[0] == "connected", "the connected frame")
        stream.wait_for(lambda e: e[0] == "message" and e[1]["channel"] == "entries.activity"
                        and e[1]["data"] == {"text": "Connected to the guestbook"}, "the stream query's data")

        entry = {"name": "ann", "text": "hello"}
        status, _, body = request(base, "POST", "/api/v1/entries", entry)
        if status != 201 or json.loads(body) != {"data": entry, "error": None}:
            fail(f"POST /api/v1/entries answered {status} {body!r}")
        stream.wait_for(lambda e: e[0] == "revalidate" and e[1]["data"]["queryKeys"] == ["entries.list"],
                        "the revalidation of entries.list")
        stream.wait_for(lambda e: e[0] == "message" and e[1]["data"] == {"text": "ann signed the guestbook"},
                        "the activity message")

        status, _, body = request(base, "POST", "/api/v1/entries", {"name": "", "text": "x"})
        if status != 400 or json.loads(body)["error"]["details"][0]["path"] != ["name"]:
            fail(f"an empty name answered {status} {body!r}")

        # Handlers run concurrently on the worker pool: every entry added at once lands exactly once.
        statuses = []

        def sign(i):
            statuses.append(request(base, "POST", "/api/v1/entries", {"name": f"w{i}", "text": "hi"})[0])

        threads = [threading.Thread(target=sign, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        status, _, body = request(base, "GET", "/api/v1/entries")
        names = sorted(e["name"] for e in json.loads(body)["data"]["entries"])
        if statuses != [201] * 24 or names != sorted(["ann"] + [f"w{i}" for i in range(24)]):
            fail(f"concurrent mutations: statuses {statuses}, entries {names}")

        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            fail("the starter did not stop within 20 s of SIGTERM (with a stream open)")
        if code != 0:
            fail(f"the starter exited with {code} after SIGTERM: {server.stdout.read()}")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cmake", required=True)
    parser.add_argument("--build-dir", type=pathlib.Path, required=True)
    parser.add_argument("--source-dir", type=pathlib.Path, required=True)
    parser.add_argument("--work-dir", type=pathlib.Path, required=True)
    parser.add_argument("--launcher", default="")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    prefix = args.work_dir / "prefix"
    started = time.monotonic()
    install(args, prefix)
    check_version_rule(args, prefix)
    binary = build_starter(args, prefix, args.work_dir / "starter-build")
    built = time.monotonic()
    check_starter(binary)
    print(f"PASS: installed, built the starter in {built - started:.1f} s, checked it live in "
          f"{time.monotonic() - built:.1f} s")


if __name__ == "__main__":
    main()
