#!/usr/bin/env bash
# Installs what igniter-cpp needs on Debian 12, and nothing when it is all there already.
# Usage: scripts/setup.sh [build|test|demo]   (default: build)
set -euo pipefail

need=(cmake ninja-build g++ pkg-config
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      libhiredis-dev libsqlite3-dev ccache)
case "${1:-build}" in
  test) need+=(redis-server) ;;
esac

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
