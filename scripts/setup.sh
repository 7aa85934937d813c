#!/usr/bin/env bash
# Installs what igniter-cpp needs on Debian 12, and nothing when it is all there already.
# Usage: scripts/setup.sh [build|test|fuzz]   (default: build)
#   build  compilers, CMake, Boost 1.81, GoogleTest, hiredis, SQLite, OpenSSL (and the demo page's npm packages)
#   test   also redis-server, Debian's chromium, the npm packages of the JS tests, the benchmark peers,
#          and clang-14 with libFuzzer (the fuzz targets run briefly in `make test`)
#   fuzz   build's packages and clang-14 with libFuzzer (`make fuzz`)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/install-lib.sh"
mode="${1:-build}"

apt_install_missing setup cmake ninja-build g++ pkg-config ccache \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev liburing-dev libsqlite3-dev libssl-dev openssl

# The demo's React page is bundled when Node.js is there; without it the demo serves its plain page.
if [ "$mode" = build ] && command -v npm >/dev/null 2>&1; then
  "$here/setup-web.sh"
fi

if [ "$mode" = test ] || [ "$mode" = fuzz ]; then
  apt_install_missing setup clang-14 libclang-rt-14-dev   # libFuzzer: /usr/lib/llvm-14/lib/clang/*/lib/linux
fi

if [ "$mode" = test ]; then
  apt_install_missing setup redis-server   # also the Sentinels of tests/cluster/failover_test.cpp (redis-server --sentinel; redis-cli comes with it)
  apt_install_missing setup systemd   # systemd-analyze: tests/deploy verifies deploy/igniter-posts.service
  "$here/setup-js.sh"          # Node.js, chromium, tests/conformance
  "$here/setup-js-client.sh"   # clients/js
  "$here/setup-web.sh"         # the demo's React page (examples/posts/web)
  "$here/setup-api-reference.sh"  # Redoc's bundle for the API reference page (third_party/redoc)
  "$here/../bench/setup.sh"    # the peers of the benchmark smoke (nginx + Nchan, Igniter.js on Node)
fi
