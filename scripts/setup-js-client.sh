#!/usr/bin/env bash
# Installs the JS client's npm packages (clients/js) when node_modules is missing or package-lock.json
# changed since the last install; prints nothing when they are up to date.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/install-lib.sh"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-js-client: npm not found (run scripts/setup-js.sh: Node.js 20 and npm are needed)" >&2
  exit 1
fi
npm_ci_if_changed setup-js-client "$here/../clients/js"
