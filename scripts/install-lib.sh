# Shared by the setup scripts (source it): idempotent, quiet installs.

# apt_install_missing TAG PACKAGE...: installs the Debian packages that are not installed yet.
apt_install_missing() {
  local tag="$1" pkg missing=()
  shift
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  echo "$tag: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm_ci_if_changed TAG DIR: `npm ci` in DIR when node_modules is missing or package-lock.json changed
# since the last install (a checksum stamp in node_modules says which lock it came from).
npm_ci_if_changed() {
  local tag="$1" dir="$2"
  local stamp="$dir/node_modules/.igniter-lock.sha256"
  local sum
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 0
  echo "$tag: npm ci in ${dir#"$PWD"/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$sum" >"$stamp"
}
