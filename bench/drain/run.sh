#!/usr/bin/env bash
# The rolling-restart bench (bench/drain/drain_bench.cpp): three servers on one redis-server, N SSE clients
# on the first, SIGTERM it once without draining (drain_window 0: every stream ends at once) and once with
# draining; prints a Markdown table (bench/RESULTS.md, "Rolling restart").
#   bench/drain/run.sh [--bin-dir DIR] [--clients N] [--window MS] [--rate PER_S] [--mode drain|storm|both]
# Without --bin-dir it builds drain_bench in the release preset. Needs redis-server; everything listens on
# 127.0.0.1 and every process it starts, it stops. N clients need N descriptors here and on the stopped
# server (ulimit -n), and 127.0.0.1 ephemeral ports for 2 N connections.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin_dir="" rest=()
while (($#)); do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift ;;
    *) rest+=("$1") ;;
  esac
  shift
done
if [ -z "$bin_dir" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target drain_bench
  bin_dir="$root/build/release/bench"
fi
exec "$bin_dir/drain_bench" ${rest[@]+"${rest[@]}"}
