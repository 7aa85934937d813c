#!/usr/bin/env bash
# Installs the JS client's npm packages (clients/js) when node_modules is missing or package-lock.json
# changed since the last install; prints nothing when they are up to date.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../clients/js" && pwd)"
stamp="$dir/node_modules/.igniter-lock.sha256"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-js-client: npm not found (Node.js 20 and npm are needed)" >&2
  exit 1
fi

want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -d "$dir/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "setup-js-client: npm ci in clients/js"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "$want" >"$stamp"
