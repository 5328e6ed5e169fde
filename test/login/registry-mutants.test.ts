// Every login mode loads the strategy of that mode, through the lazy table and loadStrategy.
import { expect, test } from "vitest";
import { loadStrategy, strategies } from "../../src/login/registry.js";
import type { LoginMode } from "../../src/options/table.js";

const MODES = ["devicecode", "interactive", "spn", "ropc", "msi", "azurecli", "azd", "workloadidentity", "azurepipelines"] as const satisfies readonly LoginMode[];

test("the table has exactly the nine modes", () => {
  expect(Object.keys(strategies).sort()).toEqual([...MODES].sort());
});

test.each(MODES)("mode %s loads its own strategy", async (mode) => {
  const strategy = await loadStrategy(mode);
  expect(strategy.mode).toBe(mode);
  expect(typeof strategy.plan).toBe("function");
});
