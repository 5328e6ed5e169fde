// The fast unit tests that mutation testing runs against the pure core (npm run mutate): no e2e,
// no kubectl, so each mutant costs seconds, not minutes.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ["test/options/**/*.test.ts", "test/exec/**/*.test.ts", "test/cache/**/*.test.ts", "test/kubeconfig/**/*.test.ts"],
      exclude: ["test/kubeconfig/write-as-user.test.ts", "test/kubeconfig/scaling.test.ts"],
    },
  }),
);
