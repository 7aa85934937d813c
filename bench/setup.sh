#!/usr/bin/env bash
# Installs what the benchmarks need on Debian 12, and nothing when it is all there already: nginx with
# Nchan, gnuplot, wrk, redis-server (the cluster scenario), Node.js + npm, and the Igniter.js peer's
# npm packages (npm ci from its committed lock, only when the lock changed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

need=(nginx libnginx-mod-nchan gnuplot-nox wrk redis-server)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bench/setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged nginx and redis on install where it can: the benchmarks start their own.
  $sudo service nginx stop >/dev/null 2>&1 || true
fi

dir="$here/peers/igniter-js"
stamp="$dir/node_modules/.igniter-lock.sha256"
sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "bench/setup: npm ci in bench/peers/igniter-js"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$sum" >"$stamp"
fi
