#!/usr/bin/env bash
# Installs what the demo's React page (examples/posts/web) and its browser tests (tests/e2e) need, and
# nothing when it is all there already: the npm packages pinned in examples/posts/web/package-lock.json
# (React, esbuild, TypeScript, playwright-core). Chromium and Node.js come from scripts/setup-js.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/install-lib.sh"

if ! command -v npm >/dev/null; then
  echo "setup-web: npm not found (scripts/setup-js.sh installs Node.js)" >&2
  exit 1
fi
npm_ci_if_changed setup-web "$here/../examples/posts/web"
