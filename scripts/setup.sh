#!/usr/bin/env bash
# Installs what igniter-cpp needs on Debian 12, and nothing when it is all there already.
# Usage: scripts/setup.sh [build|test|demo]   (default: build)
#   build  compilers, CMake, Boost 1.81, GoogleTest, hiredis, SQLite
#   test   also redis-server, Debian's chromium, and the npm packages of the JS tests
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${1:-build}"

need=(cmake ninja-build g++ pkg-config ccache
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      libhiredis-dev libsqlite3-dev)
if [ "$mode" = test ]; then
  need+=(redis-server chromium)
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
fi

missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = test ]; then
  "$here/setup-js-client.sh"
  "$here/setup-js.sh"
  "$here/../bench/setup.sh"   # the peers of the benchmark smoke (nginx + Nchan, Igniter.js on Node)
fi
exit 0
