#!/usr/bin/env bash
# Installs what the browser conformance test (tests/conformance) and the OpenAPI validation test
# (tests/openapi) need, and nothing when it is all there already: Node.js, Debian's chromium (driven by
# playwright-core; no browser is downloaded) and the npm packages pinned in their package-lock.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/install-lib.sh"

packages=(chromium)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)  # Debian's own nodejs package ships npm separately
apt_install_missing setup-js "${packages[@]}"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
  echo "setup-js: Node.js $(node --version) is too old for playwright-core (needs 20 or later)" >&2
  exit 1
fi
npm_ci_if_changed setup-js "$here/../tests/conformance"
npm_ci_if_changed setup-js "$here/../tests/openapi"
