#!/usr/bin/env bash
# Puts Redoc's standalone bundle (the renderer of an app's API reference page, OpenApiOptions::docs_script)
# in third_party/redoc/, from the npm package pinned below (npm checks its integrity); nothing when it is
# there already. Not committed: 1 MB of minified JavaScript (MIT, its LICENSE copied beside it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="2.5.4"
out="$here/../third_party/redoc"
stamp="$out/.version"
[ -f "$out/redoc.standalone.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-api-reference: npm not found (run scripts/setup-js.sh: Node.js 20 and npm are needed)" >&2
  exit 1
fi
echo "setup-api-reference: redoc@$version into third_party/redoc"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
(cd "$scratch" && npm pack "redoc@$version" --loglevel=error >/dev/null)
tar -xzf "$scratch/redoc-$version.tgz" -C "$scratch" package/bundles/redoc.standalone.js package/LICENSE
mkdir -p "$out"
cp "$scratch/package/bundles/redoc.standalone.js" "$scratch/package/LICENSE" "$out/"
echo "$version" >"$stamp"
