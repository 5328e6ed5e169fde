#!/usr/bin/env bash
# Everything the test suite needs beyond npm. Today that is only the versioned kubectl binaries,
# which this machine image ships under /usr/lib/google-cloud-sdk/bin (not /usr/bin/kubectl: that
# is a dispatcher that runs the exec plugin twice). Later suites add Debian packages here
# (chromium, gnome-keyring, dbus) with apt-get.
set -euo pipefail

KUBECTL_DIR=/usr/lib/google-cloud-sdk/bin
for version in 1.27 1.33; do
  if [ ! -x "$KUBECTL_DIR/kubectl.$version" ]; then
    echo "install-test-deps: $KUBECTL_DIR/kubectl.$version is missing; the e2e tests drive real kubectl 1.27 and 1.33" >&2
    exit 1
  fi
done
echo "install-test-deps: kubectl $(for v in 1.27 1.33; do "$KUBECTL_DIR/kubectl.$v" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -1; done | tr '\n' ' ')present"

# --- chromium (interactive-login e2e: real headless Chromium driven through $BROWSER) ---
if ! command -v chromium >/dev/null 2>&1; then
  echo "install-test-deps: installing Debian's chromium" >&2
  apt-get update
  apt-get install -y chromium
fi
echo "install-test-deps: $(chromium --version 2>/dev/null | head -1)"
