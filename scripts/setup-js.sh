#!/usr/bin/env bash
# Installs what the browser conformance test (tests/conformance) needs, and nothing when it is all
# there already: Node.js, Debian's chromium (driven by playwright-core; no browser is downloaded) and
# the npm packages pinned in tests/conformance/package-lock.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tests/conformance"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ((${#missing[@]})); then
  echo "setup-js: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v npm >/dev/null; then  # Debian's own nodejs package ships npm separately
  $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
  echo "setup-js: Node.js $(node --version) is too old for playwright-core (needs 20 or later)" >&2
  exit 1
fi

# npm ci only when node_modules is missing or the lock changed since the last install.
stamp="$dir/node_modules/.igniter-lock.sha256"
sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "setup-js: npm ci in tests/conformance"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$sum" >"$stamp"
fi
