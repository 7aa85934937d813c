#!/usr/bin/env bash
# Installs what the benchmarks need on Debian 12, and nothing when it is all there already: nginx with
# Nchan, gnuplot, wrk, redis-server (the cluster scenario), Node.js + npm, and the Igniter.js peer's
# npm packages (npm ci from its committed lock, only when the lock changed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scripts/install-lib.sh"

packages=(nginx libnginx-mod-nchan gnuplot-nox wrk redis-server)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
apt_install_missing bench/setup "${packages[@]}"
# Debian starts the packaged nginx on install where it can: the benchmarks start their own.
service nginx stop >/dev/null 2>&1 || true

npm_ci_if_changed bench/setup "$here/peers/igniter-js"
