import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // forks, not threads: NODE_EXTRA_CA_CERTS set in globalSetup reaches forked workers only, and
    // e2e tests spawn kubectl.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
