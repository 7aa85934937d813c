#!/usr/bin/env bash
# Fuzzes one target for FUZZ_SECONDS (default 15): seeds from fuzz/corpus/<name>, new inputs kept in
# <out>/corpus/<name>, crashes, leaks, timeouts and out-of-memory inputs written to <out>/findings/<name>/.
# Usage: fuzz/run.sh <binary> <name> <out dir> [target's libFuzzer flags...]
set -euo pipefail
binary="$1" name="$2" out="$3"
shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$out/corpus/$name" "$out/findings/$name"
exec "$binary" -max_total_time="${FUZZ_SECONDS:-15}" -timeout=30 -rss_limit_mb=1024 -print_final_stats=1 \
  -artifact_prefix="$out/findings/$name/" "$@" "$out/corpus/$name" "$here/corpus/$name"
