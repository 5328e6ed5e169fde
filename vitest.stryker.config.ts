// The fast unit tests that mutation testing runs against the pure core (npm run mutate): no e2e,
// so each mutant costs seconds, not minutes. scripts/mutate.ts makes the test PKI and sets
// NODE_EXTRA_CA_CERTS before Stryker starts: its vitest runner may run tests in threads, which
// read that variable only at process start.
import { defineConfig } from "vitest/config";

// KUBELOGIN_MUTATE_TESTS narrows the tests for a run scoped to one file (comma-separated globs).
const narrowed = process.env.KUBELOGIN_MUTATE_TESTS?.split(",").filter(Boolean);

export default defineConfig({
  test: {
    include: narrowed ?? [
      "test/options/**/*.test.ts",
      "test/exec/**/*.test.ts",
      "test/cache/**/*.test.ts",
      "test/kubeconfig/**/*.test.ts",
      "test/fast-path/**/*.test.ts",
      "test/login/**/*.test.ts",
    ],
    exclude: ["test/kubeconfig/write-as-user.test.ts", "test/kubeconfig/scaling.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
