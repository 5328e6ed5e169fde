// The option table itself. It is imported inside the test: a table that fails to build must fail a
// test, not only the collection of every suite that imports it (which StrykerJS's vitest runner
// does not count as a failure).
import { expect, test } from "vitest";

test("the table builds, with the AAD_*/AZURE_* family as 'standard' rules beside Terraform's ARM_*", async () => {
  const { GET_TOKEN_OPTIONS } = await import("../../src/options/table.js");
  const secret = GET_TOKEN_OPTIONS.find((spec) => spec.key === "clientSecret");
  expect(secret?.env).toEqual([
    { name: "AZURE_CLIENT_SECRET", when: "standard" },
    { name: "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", when: "standard" },
    { name: "ARM_CLIENT_SECRET", when: "azurerm" },
  ]);
});
