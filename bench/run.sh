#!/usr/bin/env bash
# The benchmarks: `make bench` (every scenario, full sizes, writes bench/RESULTS.md and bench/results/)
# and `make bench-quick` (the same code at tiny sizes, about a minute, into build/bench-quick/).
#   bench/run.sh [--quick] [--bin-dir DIR] [--out-dir DIR] [--check] [--no-setup] [run.py options...]
# Without --bin-dir it installs what is missing (bench/setup.sh) and builds the tools in the release
# preset. Every server it starts, it stops; everything listens on 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
quick=0 bin_dir="" out_dir="" setup=1 rest=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --bin-dir) bin_dir="$2"; shift ;;
    --out-dir) out_dir="$2"; shift ;;
    --no-setup) setup=0 ;;
    *) rest+=("$1") ;;
  esac
  shift
done

if [ -z "$bin_dir" ]; then
  ((setup)) && "$here/setup.sh"
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target bench_loadgen bench_bare igniter_bench
  bin_dir="$root/build/release/bench"
fi
command -v python3 >/dev/null || { echo "bench: python3 is needed to run the benchmarks" >&2; exit 1; }

if ((quick)); then
  out_dir="${out_dir:-$root/build/bench-quick}"
  exec python3 "$here/run.py" --quick --bin-dir "$bin_dir" --out-dir "$out_dir" ${rest[@]+"${rest[@]}"}
else
  out_dir="${out_dir:-$here/results}"
  exec python3 "$here/run.py" --bin-dir "$bin_dir" --out-dir "$out_dir" --results-md "$here/RESULTS.md" \
    ${rest[@]+"${rest[@]}"}
fi
