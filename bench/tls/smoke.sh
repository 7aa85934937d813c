#!/usr/bin/env bash
# The TLS row's smoke (ctest bench.tls_smoke): igniter_bench over TLS, tls_bench at tiny sizes for a
# second each; checks the tools run, something was delivered and connected, and sessions resume. Times
# nothing.
# Usage: smoke.sh BIN_DIR CA_DIR   (CA_DIR made by tests/integration/tls/make_test_ca.sh)
set -euo pipefail
bin="$1"
ca="$2"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port IO_THREADS=1 TLS_CERT_FILE="$ca/a.pem" TLS_KEY_FILE="$ca/a.key" "$bin/igniter_bench" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s --cacert "$ca/ca.pem" -o /dev/null "https://127.0.0.1:$port/api/v1/bench/query" && break
  sleep 0.1
done
fanout=$("$bin/tls_bench" fanout "$port" --tls --subscribers 20 --seconds 1)
connect=$("$bin/tls_bench" connect "$port" --tls --concurrency 2 --seconds 1)
resumed=$("$bin/tls_bench" connect "$port" --tls --resume --concurrency 2 --seconds 1)
echo "$fanout"
echo "$connect"
echo "$resumed"
grep -q '"deliveries_per_second":[1-9]' <<<"$fanout"
grep -q '"connections_per_second":[1-9]' <<<"$connect"
grep -q '"failed":0' <<<"$connect"
grep -q '"resumed":[1-9]' <<<"$resumed"
grep -q '"failed":0' <<<"$resumed"
