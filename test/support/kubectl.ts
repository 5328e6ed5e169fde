// Where the real kubectl binaries are, for every e2e test, the demo and install-test-deps.sh (all
// read kubectl.json). Versioned binaries, not /usr/bin/kubectl: that one is a dispatcher that runs
// the exec plugin twice. KUBECTL_DIR points elsewhere on a machine that keeps them elsewhere.
import { join } from "node:path";
import kubectl from "./kubectl.json" with { type: "json" };

export const KUBECTL_DIR = process.env.KUBECTL_DIR || kubectl.dir;

/** The kubectl minors the e2e tests drive: the oldest and the newest we support. */
export const KUBECTL_VERSIONS = kubectl.versions;

export function kubectlBinary(version: string): string {
  return join(KUBECTL_DIR, `kubectl.${version}`);
}
